//! The project's side of `bench/mrio_accounts.py`: reads a synthetic MRIO written as raw
//! little-endian f64 matrices in column-major order, computes the accounts, prints timings as
//! JSON and writes the regional accounts for the comparison with pymrio.
//!
//! ```text
//! bench_accounts DIR [--full]
//! DIR/meta.json  {"n_regions": R, "n_sectors": S, "n_categories": C, "n_stressors": K}
//! DIR/Z.bin (n × n), DIR/Y.bin (n × R·C), DIR/F.bin (K × n), DIR/F_Y.bin (K × R·C)
//! ```
//! Without `--full`: x, A, the LU of (I − A), S, X_reg = L·Y_agg and the regional accounts —
//! what `cbutler mrio accounts` does. With `--full`, also M = S·L and every per-sector account
//! (D_cba, D_pba, D_imp, D_exp), i.e. all that pymrio's `calc_all()` computes except L itself.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;

use cb_trade::analysis::MrioAnalysis;
use cb_trade::data::{Core, Extension, Mrio};
use faer::Mat;

fn read_matrix(path: &Path, rows: usize, cols: usize) -> Mat<f64> {
    let mut m = Mat::<f64>::zeros(rows, cols);
    let mut r = BufReader::with_capacity(1 << 22, File::open(path).expect("matrix file"));
    let mut buf = vec![0u8; rows * 8];
    for j in 0..cols {
        r.read_exact(&mut buf).expect("matrix file too short");
        let col = m.col_mut(j);
        for (v, b) in col.iter_mut().zip(buf.chunks_exact(8)) {
            *v = f64::from_le_bytes(b.try_into().expect("8 bytes"));
        }
    }
    m
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).expect("usage: bench_accounts DIR [--full]"));
    let full = args.iter().any(|a| a == "--full");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    let get = |k: &str| meta[k].as_u64().unwrap() as usize;
    let (nr, ns, nc, k) = (
        get("n_regions"),
        get("n_sectors"),
        get("n_categories"),
        get("n_stressors"),
    );
    let n = nr * ns;
    let m = nr * nc;

    let t_load = Instant::now();
    let z = read_matrix(&dir.join("Z.bin"), n, n);
    let y = read_matrix(&dir.join("Y.bin"), n, m);
    let f = read_matrix(&dir.join("F.bin"), k, n);
    let f_y = read_matrix(&dir.join("F_Y.bin"), k, m);
    let load_s = t_load.elapsed().as_secs_f64();

    let regions: Vec<String> = (0..nr).map(|r| format!("R{r}")).collect();
    let mrio = Mrio {
        name: "synthetic".into(),
        version: "bench".into(),
        source: dir.display().to_string(),
        sectors: (0..ns).map(|s| format!("S{s}")).collect(),
        final_demand: (0..m)
            .map(|c| (regions[c / nc].clone(), format!("C{}", c % nc)))
            .collect(),
        fd_region: (0..m).map(|c| c / nc).collect(),
        regions,
        core: Core::Flows(z),
        y,
        x: None,
        monetary_unit: None,
        extensions: vec![Extension {
            name: "emissions".into(),
            stressors: (0..k).map(|i| vec![format!("stressor{i}")]).collect(),
            units: vec!["kg".into(); k],
            f,
            f_y: Some(f_y),
        }],
    };

    // Each progress call starts a step; a step lasts until the next one starts.
    let mut marks: Vec<(String, Instant)> = Vec::new();
    let t0 = Instant::now();
    let analysis = MrioAnalysis::new(mrio, &mut |step| marks.push((step.to_string(), Instant::now())))
        .expect("analysis");
    let end = Instant::now();
    let steps: Vec<(String, f64)> = marks
        .iter()
        .enumerate()
        .map(|(i, (name, at))| {
            let next = marks.get(i + 1).map_or(end, |m| m.1);
            (name.clone(), (next - *at).as_secs_f64())
        })
        .collect();
    let t_acc = Instant::now();
    let acc = analysis.regional_accounts().expect("accounts");
    let regional_s = t_acc.elapsed().as_secs_f64();
    let mut full_s = 0.0;
    if full {
        let t = Instant::now();
        let mult = analysis.multipliers();
        let sector = analysis.sector_accounts(None).expect("sector accounts");
        full_s = t.elapsed().as_secs_f64();
        // Keep the optimiser honest.
        assert!(mult[(0, 0)].is_finite() && sector.d_imp[(0, 0)].is_finite());
    }
    let total_s = t0.elapsed().as_secs_f64();

    let mut out = File::create(dir.join("ours_reg.bin")).unwrap();
    for mat in [&acc.d_cba_reg, &acc.d_pba_reg, &acc.d_imp_reg, &acc.d_exp_reg] {
        for j in 0..mat.ncols() {
            for i in 0..mat.nrows() {
                out.write_all(&mat[(i, j)].to_le_bytes()).unwrap();
            }
        }
    }
    let report = serde_json::json!({
        "load_s": load_s,
        "compute_s": total_s,
        "steps_s": steps,
        "regional_accounts_s": regional_s,
        "multipliers_and_sector_accounts_s": full_s,
        "threads": faer::get_global_parallelism().degree(),
    });
    println!("{report}");
}
