//! Sobol indices against an independent implementation, SALib 1.6.0 (PyPI, installed into
//! `.venv` by `scripts/pyenv.sh`), run as its users run it: `SALib.sample.sobol.sample` and
//! `SALib.analyze.sobol.analyze` without second-order indices, on the same model (Ishigami,
//! a = 7, b = 0.1, x ~ U(−π, π)), the same base sample size and 200 bootstrap resamples. Each
//! implementation's indices lie inside the other's 95 % bootstrap interval.

use std::path::PathBuf;
use std::process::Command;

use cb_uncertainty::engine::distribution::Distribution;
use cb_uncertainty::engine::sobol::{ishigami, sobol};

const N: usize = 8192;

const SALIB: &str = r#"
import json, sys
import numpy as np
from SALib.sample import sobol as sample
from SALib.analyze import sobol as analyze
from SALib.test_functions import Ishigami
n = int(sys.argv[1])
problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
x = sample.sample(problem, n, calc_second_order=False, seed=1)
y = Ishigami.evaluate(x)
si = analyze.analyze(problem, y, calc_second_order=False, num_resamples=200, conf_level=0.95, seed=1)
print(json.dumps({k: [float(v) for v in si[k]] for k in ["S1", "S1_conf", "ST", "ST_conf"]}))
"#;

fn python() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/pyenv.sh (the README's test command does) to install SALib 1.6.0",
        p.display()
    );
    p
}

#[test]
fn sobol_indices_agree_with_salib_inside_each_other_s_bootstrap_intervals() {
    let out = Command::new(python())
        .args(["-c", SALIB, &N.to_string()])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let salib: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pi = std::f64::consts::PI;
    let inputs: Vec<_> = (0..3)
        .map(|_| Distribution::Uniform { min: -pi, max: pi }.sampler().unwrap())
        .collect();
    let names: Vec<String> = ["x1", "x2", "x3"].iter().map(|s| s.to_string()).collect();
    let ours = sobol(|x| ishigami(x, 7.0, 0.1), &names, &inputs, N, 1, 200).unwrap();
    for (what, mine, mine_ci, key) in [
        ("S1", &ours.s1, &ours.s1_ci, "S1"),
        ("ST", &ours.st, &ours.st_ci, "ST"),
    ] {
        for i in 0..3 {
            let theirs = salib[key][i].as_f64().unwrap();
            // SALib reports the half-width of its 95 % interval.
            let half = salib[format!("{key}_conf")][i].as_f64().unwrap();
            let (lo, hi) = mine_ci[i];
            eprintln!(
                "{what} x{}: ours {:.4} [{lo:.4}, {hi:.4}], SALib {theirs:.4} ± {half:.4}",
                i + 1,
                mine[i]
            );
            assert!(
                (mine[i] - theirs).abs() <= half,
                "{what} of x{}: ours {} is outside SALib's {theirs} ± {half}",
                i + 1,
                mine[i]
            );
            assert!(
                (lo..=hi).contains(&theirs),
                "{what} of x{}: SALib's {theirs} is outside our [{lo}, {hi}]",
                i + 1
            );
        }
    }
}
