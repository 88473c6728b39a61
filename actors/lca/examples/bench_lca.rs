//! The project's side of `bench/lca.py`: reads a synthetic technosphere, biosphere and
//! characterisation vector (raw little-endian arrays), then times the first footprint (reading
//! the arrays, building the matrices, factorising, solving, characterising), each further
//! footprint, and every activity's footprint at once, and writes the scores for the comparison
//! with bw2calc.
//!
//! Each further footprint forms what bw2calc's `redo_lci` + `redo_lcia` form: the supply, the
//! inventory matrix `B·diag(s)` and the characterised inventory `diag(c)·B·diag(s)`, whose sum is
//! the score. The product's own path (the inventory vector `g = B·s`) is timed beside it.
//!
//! ```text
//! bench_lca DIR
//! DIR/meta.json {"n_activities": n, "n_flows": k}
//! DIR/A_rows.bin, A_cols.bin (i64), A_vals.bin (f64); the same for B; c.bin (f64, k);
//! DIR/sample.bin (i64): activities whose single-demand scores are written for the check.
//! ```
//! Threads: `RAYON_NUM_THREADS` (the factorisation and solves run on rayon's pool).

use std::time::Instant;

use cb_lca::engine;

fn read_i64(path: &std::path::Path) -> Vec<usize> {
    std::fs::read(path)
        .expect("array file")
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .collect()
}

fn read_f64(path: &std::path::Path) -> Vec<f64> {
    std::fs::read(path)
        .expect("array file")
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: bench_lca DIR"));
    // Start the pool before the clock, as Python's interpreter and imports are outside bw2calc's.
    let threads = rayon::current_num_threads();

    // First footprint: everything from the files to the first score.
    let start = Instant::now();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    let n = meta["n_activities"].as_u64().unwrap() as usize;
    let k = meta["n_flows"].as_u64().unwrap() as usize;
    let triplets = |m: &str| -> Vec<(usize, usize, f64)> {
        let (r, c, v) = (
            read_i64(&dir.join(format!("{m}_rows.bin"))),
            read_i64(&dir.join(format!("{m}_cols.bin"))),
            read_f64(&dir.join(format!("{m}_vals.bin"))),
        );
        r.into_iter().zip(c).zip(v).map(|((r, c), v)| (r, c, v)).collect()
    };
    let a = engine::sparse_from_entries(n, n, &triplets("A")).unwrap();
    let b = engine::sparse_from_entries(k, n, &triplets("B")).unwrap();
    let c = read_f64(&dir.join("c.bin"));
    let sample = read_i64(&dir.join("sample.bin"));
    let load_s = start.elapsed().as_secs_f64();
    let t = Instant::now();
    let factor = engine::factorize(a.as_ref()).expect("factorisation");
    let factorize_s = t.elapsed().as_secs_f64();
    let footprint = |j: usize| {
        let mut f = vec![0.0; n];
        f[j] = 1.0;
        let s = factor.supply(&f).unwrap();
        let inventory = engine::inventory_matrix(b.as_ref(), &s);
        let inventory = faer::sparse::SparseColMatRef::new(b.symbolic(), &inventory);
        engine::characterised_inventory(&c, inventory).iter().sum::<f64>()
    };
    let first_score = footprint(sample[0]);
    let first_footprint_s = start.elapsed().as_secs_f64();
    eprintln!(
        "first footprint: {first_footprint_s:.3} s (load {load_s:.3} s, factorisation {factorize_s:.3} s)"
    );

    // Further footprints, forming the inventory matrices as bw2calc does.
    let t = Instant::now();
    let sample_scores: Vec<f64> = sample.iter().map(|&j| footprint(j)).collect();
    let per_solve_s = t.elapsed().as_secs_f64() / sample.len() as f64;
    assert_eq!(first_score, sample_scores[0]);

    // The product's own path: the inventory vector only.
    let t = Instant::now();
    for &j in &sample {
        let mut f = vec![0.0; n];
        f[j] = 1.0;
        let s = factor.supply(&f).unwrap();
        std::hint::black_box(engine::characterise(&c, &engine::inventory(b.as_ref(), &s)));
    }
    let per_solve_vector_s = t.elapsed().as_secs_f64() / sample.len() as f64;

    // Every activity at once: λ = A⁻ᵀ·Bᵀ·c is the footprint of one unit of each product.
    let t = Instant::now();
    let lambda = factor.cumulative_intensities(b.as_ref(), &c);
    let all_by_transpose_s = t.elapsed().as_secs_f64();
    for (&j, score) in sample.iter().zip(&sample_scores) {
        assert!(
            (lambda[j] - score).abs() <= 1e-8 * score.abs().max(1e-300),
            "{} vs {score}",
            lambda[j]
        );
    }

    let mut bytes = Vec::new();
    for v in &sample_scores {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(dir.join("ours_scores.bin"), bytes).unwrap();
    println!(
        "{}",
        serde_json::json!({
            "threads": threads,
            "first_footprint_s": first_footprint_s,
            "load_s": load_s,
            "factorize_s": factorize_s,
            "per_solve_s": per_solve_s,
            "per_solve_vector_s": per_solve_vector_s,
            "all_by_one_transposed_solve_s": all_by_transpose_s,
            "nnz_A": a.compute_nnz(),
            "nnz_B": b.compute_nnz(),
        })
    );
}
