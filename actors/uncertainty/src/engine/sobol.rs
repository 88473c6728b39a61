//! Variance-based global sensitivity: Sobol first-order and total indices with bootstrap
//! confidence intervals.
//!
//! Two independent sample matrices `A`, `B` (`n × d`) and, for each input `i`, `A_B^(i)`: `A` with
//! column `i` from `B`. With `V = Var(f(A), f(B))`:
//! * first order (Saltelli et al. 2010): `S_i = (1/n) Σ_j f(B)_j (f(A_B^(i))_j − f(A)_j) / V`;
//! * total (Jansen 1999): `S_Ti = (1/2n) Σ_j (f(A)_j − f(A_B^(i))_j)² / V`.
//!
//! Cost: `n (d + 2)` model evaluations. Confidence intervals: percentile bootstrap over the rows.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use crate::UncertaintyError;
use crate::engine::distribution::Sampler;
use crate::engine::sampling::{Design, uniforms};
use crate::engine::stats::quantile_sorted;

/// Sobol indices with their 95 % bootstrap intervals.
#[derive(Debug, Clone, Serialize)]
pub struct SobolIndices {
    pub names: Vec<String>,
    #[serde(rename = "S1")]
    pub s1: Vec<f64>,
    #[serde(rename = "ST")]
    pub st: Vec<f64>,
    #[serde(rename = "S1_conf")]
    pub s1_ci: Vec<(f64, f64)>,
    #[serde(rename = "ST_conf")]
    pub st_ci: Vec<(f64, f64)>,
    pub samples: usize,
    pub evaluations: usize,
    pub bootstrap: usize,
}

fn indices(fa: &[f64], fb: &[f64], fab: &[Vec<f64>], rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() as f64;
    let all: Vec<f64> = rows
        .iter()
        .map(|&r| fa[r])
        .chain(rows.iter().map(|&r| fb[r]))
        .collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = all.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (all.len() - 1) as f64;
    let var = if var > 0.0 { var } else { f64::NAN };
    let s1 = fab
        .iter()
        .map(|fi| rows.iter().map(|&r| fb[r] * (fi[r] - fa[r])).sum::<f64>() / n / var)
        .collect();
    let st = fab
        .iter()
        .map(|fi| {
            rows.iter()
                .map(|&r| (fa[r] - fi[r]) * (fa[r] - fi[r]))
                .sum::<f64>()
                / (2.0 * n)
                / var
        })
        .collect();
    (s1, st)
}

/// Sobol indices of `f` over independent inputs, from `n` base samples (Latin hypercube), with
/// `bootstrap` resamples for the intervals.
pub fn sobol(
    f: impl Fn(&[f64]) -> f64 + Sync,
    names: &[String],
    inputs: &[Sampler],
    n: usize,
    seed: u64,
    bootstrap: usize,
) -> Result<SobolIndices, UncertaintyError> {
    let d = inputs.len();
    if n < 10 {
        return Err(UncertaintyError::Invalid(format!(
            "Sobol indices need at least 10 samples, got {n}"
        )));
    }
    let u = uniforms(n, 2 * d, seed, Design::LatinHypercube);
    let to_x = |row: &[f64]| -> Vec<f64> { row.iter().zip(inputs).map(|(v, s)| s.quantile(*v)).collect() };
    let a: Vec<Vec<f64>> = u.iter().map(|r| to_x(&r[..d])).collect();
    let b: Vec<Vec<f64>> = u.iter().map(|r| to_x(&r[d..])).collect();
    let fa: Vec<f64> = a.par_iter().map(|x| f(x)).collect();
    let fb: Vec<f64> = b.par_iter().map(|x| f(x)).collect();
    let fab: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..n)
                .into_par_iter()
                .map(|j| {
                    let mut x = a[j].clone();
                    x[i] = b[j][i];
                    f(&x)
                })
                .collect()
        })
        .collect();
    if fa.iter().chain(&fb).any(|v| !v.is_finite()) {
        return Err(UncertaintyError::Invalid(
            "the model returned a non-finite value".into(),
        ));
    }
    let all: Vec<usize> = (0..n).collect();
    let (s1, st) = indices(&fa, &fb, &fab, &all);
    // Each resample draws its rows from its own stream, inside the parallel map: the rows of
    // all resamples at once would be bootstrap × n indices (1.6 GB for a million samples).
    let boot: Vec<(Vec<f64>, Vec<f64>)> = (0..bootstrap)
        .into_par_iter()
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_b007);
            rng.set_stream(b as u64);
            let rows: Vec<usize> = (0..n).map(|_| (rng.next_u64() % n as u64) as usize).collect();
            indices(&fa, &fb, &fab, &rows)
        })
        .collect();
    let ci = |k: usize, first: bool| -> (f64, f64) {
        let mut v: Vec<f64> = boot
            .iter()
            .map(|(s1, st)| if first { s1[k] } else { st[k] })
            .filter(|v| v.is_finite())
            .collect();
        if v.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        v.sort_by(f64::total_cmp);
        (quantile_sorted(&v, 0.025), quantile_sorted(&v, 0.975))
    };
    Ok(SobolIndices {
        names: names.to_vec(),
        s1_ci: (0..d).map(|k| ci(k, true)).collect(),
        st_ci: (0..d).map(|k| ci(k, false)).collect(),
        s1,
        st,
        samples: n,
        evaluations: n * (d + 2),
        bootstrap,
    })
}

/// The Ishigami function `f = sin x₁ + a sin² x₂ + b x₃⁴ sin x₁`, inputs uniform on [−π, π].
pub fn ishigami(x: &[f64], a: f64, b: f64) -> f64 {
    x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
}

/// The Ishigami function's analytical indices for `a`, `b`: (S1, ST).
pub fn ishigami_analytical(a: f64, b: f64) -> ([f64; 3], [f64; 3]) {
    let pi4 = std::f64::consts::PI.powi(4);
    let v1 = 0.5 * (1.0 + b * pi4 / 5.0).powi(2);
    let v2 = a * a / 8.0;
    let v13 = b * b * pi4 * pi4 * 8.0 / 225.0;
    let v = v1 + v2 + v13;
    ([v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::distribution::Distribution;

    #[test]
    fn ishigami_indices_lie_within_their_bootstrap_intervals_of_the_analytical_values() {
        let pi = std::f64::consts::PI;
        let inputs: Vec<Sampler> = (0..3)
            .map(|_| Distribution::Uniform { min: -pi, max: pi }.sampler().unwrap())
            .collect();
        let names: Vec<String> = ["x1", "x2", "x3"].iter().map(|s| s.to_string()).collect();
        let r = sobol(|x| ishigami(x, 7.0, 0.1), &names, &inputs, 20_000, 1, 200).unwrap();
        let (s1, st) = ishigami_analytical(7.0, 0.1);
        // The published values.
        assert!((s1[0] - 0.3139).abs() < 1e-4 && (s1[1] - 0.4424).abs() < 1e-4);
        assert!((st[0] - 0.5576).abs() < 1e-4 && (st[2] - 0.2437).abs() < 1e-4);
        // Six 95 % intervals all cover the truth only about 74 % of the time, so each is
        // widened to about three standard errors (half-width × 1.5): an interval that is
        // centred wrongly or far too narrow still fails.
        let widen = |(lo, hi): (f64, f64)| {
            let half = (hi - lo) / 2.0;
            (lo - 0.5 * half, hi + 0.5 * half)
        };
        for k in 0..3 {
            let (lo, hi) = widen(r.s1_ci[k]);
            assert!(
                lo <= s1[k] && s1[k] <= hi,
                "S1[{k}] = {} outside [{lo}, {hi}] (estimate {})",
                s1[k],
                r.s1[k]
            );
            let (lo, hi) = widen(r.st_ci[k]);
            assert!(
                lo <= st[k] && st[k] <= hi,
                "ST[{k}] = {} outside [{lo}, {hi}] (estimate {})",
                st[k],
                r.st[k]
            );
        }
    }
}
