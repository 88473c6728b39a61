//! The project's side of `bench/lca_mc.py`: Monte Carlo LCA on the synthetic technosphere with
//! every technosphere input lognormal (GSD 1.2), one demand, N iterations, through the product's
//! own path (`cb_lca::uncertainty::PerturbedSystem` propagated by the uncertainty engine): each
//! perturbed system solved by iteration preconditioned with the base LU (refactorised where that
//! does not converge). Prints iterations per second, mean and standard deviation as JSON.
//!
//! ```text
//! bench_lca_mc DIR N [THREADS]
//! ```

use std::time::Instant;

use cb_lca::engine;
use cb_lca::uncertainty::PerturbedSystem;
use cb_uncertainty::engine::propagate::propagate;
use cb_uncertainty::engine::sampling::Design;

fn read<T>(path: std::path::PathBuf, f: impl Fn([u8; 8]) -> T) -> Vec<T> {
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(8)
        .map(|b| f(b.try_into().expect("8 bytes")))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let iterations: usize = args[2].parse().expect("N");
    if let Some(t) = args.get(3) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t.parse().expect("threads"))
            .build_global()
            .expect("pool");
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    let n = meta["n_activities"].as_u64().unwrap() as usize;
    let k = meta["n_flows"].as_u64().unwrap() as usize;
    let ints = |name: &str| read(dir.join(name), |b| i64::from_le_bytes(b) as usize);
    let floats = |name: &str| read(dir.join(name), f64::from_le_bytes);
    let triplets = |m: &str| -> Vec<(usize, usize, f64)> {
        let (r, c, v) = (
            ints(&format!("{m}_rows.bin")),
            ints(&format!("{m}_cols.bin")),
            floats(&format!("{m}_vals.bin")),
        );
        r.into_iter().zip(c).zip(v).map(|((r, c), v)| (r, c, v)).collect()
    };
    let a = engine::sparse_from_entries(n, n, &triplets("A")).unwrap();
    let b = engine::sparse_from_entries(k, n, &triplets("B")).unwrap();
    let c = floats("c.bin");
    let sample = ints("sample.bin");
    let t = Instant::now();
    let factor = engine::factorize(a.as_ref()).expect("factorisation");
    let factorize_s = t.elapsed().as_secs_f64();
    let mut f = vec![0.0; n];
    f[sample[0]] = 1.0;
    // The product's Monte Carlo path: the perturbed system as an uncertainty-engine model,
    // propagated by the engine (biosphere fixed, as in the bw2calc run).
    let system = PerturbedSystem::new(a.as_ref(), b.as_ref(), &factor, f, c, 1.2)
        .expect("a valid GSD")
        .with_fixed_biosphere();
    let t = Instant::now();
    let p = propagate(&system, &[], Design::MonteCarlo, 20261128, iterations, None).expect("propagation");
    let secs = t.elapsed().as_secs_f64();
    let scores = &p.samples[0];
    let steps: Vec<f64> = p.samples[1].iter().copied().filter(|k| *k >= 0.0).collect();
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let sd = (scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / (scores.len() - 1) as f64).sqrt();
    println!(
        "{}",
        serde_json::json!({
            "factorize_s": factorize_s,
            "iterations": iterations,
            "seconds": secs,
            "iterations_per_s": iterations as f64 / secs,
            "mean": mean,
            "sd": sd,
            "refactorised": iterations - steps.len(),
            "mean_preconditioned_steps": steps.iter().sum::<f64>() / steps.len().max(1) as f64,
            "threads": rayon::current_num_threads(),
        })
    );
}
