//! Sample designs: Monte Carlo and Latin hypercube, optionally correlated by a Gaussian copula,
//! drawn in parallel (rayon) from counter-based streams so that the same seed gives the same
//! numbers whatever the number of threads.
//!
//! Sample `i` takes its uniforms from the ChaCha8 stream `i` of the seed; a Latin hypercube's
//! column permutations come from streams counted down from `u64::MAX`. A copula turns the
//! uniforms into standard normals `z = Φ⁻¹(u)`, correlates them `z' = L·z` with `L·Lᵀ = R`
//! (Cholesky of the correlation matrix), and maps back `u' = Φ(z')` before each input's quantile.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::UncertaintyError;
use crate::engine::distribution::Sampler;

/// How the sample points are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    MonteCarlo,
    LatinHypercube,
}

fn stream(seed: u64, id: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(id);
    rng
}

/// A uniform number in the open interval (0, 1).
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// Draw `i`'s own stream of random numbers for uncertain entries too many to name (matrix
/// entries), from ChaCha8 stream `i` of the seed: the same numbers on any number of threads.
pub struct EntryStream(ChaCha8Rng);

impl EntryStream {
    pub fn new(seed: u64, i: u64) -> Self {
        EntryStream(stream(seed, i))
    }

    /// A uniform number in (0, 1), for a quantile function.
    pub fn uniform(&mut self) -> f64 {
        unit(&mut self.0)
    }

    /// A standard normal number (Ziggurat method, rand_distr): several times cheaper than the
    /// normal quantile of a uniform, for the lognormal multipliers of many entries.
    pub fn standard_normal(&mut self) -> f64 {
        use rand_distr::Distribution;
        rand_distr::StandardNormal.sample(&mut self.0)
    }
}

/// A lognormal multiplier of geometric mean 1: `exp(σ·z)`, `σ = ln GSD`, `z` standard normal.
#[derive(Debug, Clone, Copy)]
pub struct LognormalMultiplier {
    sigma: f64,
}

impl LognormalMultiplier {
    /// Checks the GSD (≥ 1) as [`crate::engine::distribution::Distribution::Lognormal`] does.
    pub fn new(gsd: f64) -> Result<Self, UncertaintyError> {
        crate::engine::distribution::Distribution::Lognormal {
            geometric_mean: 1.0,
            gsd,
        }
        .sampler()?;
        Ok(LognormalMultiplier { sigma: gsd.ln() })
    }

    pub fn draw(&self, entries: &mut EntryStream) -> f64 {
        if self.sigma == 0.0 {
            1.0
        } else {
            (self.sigma * entries.standard_normal()).exp()
        }
    }

    /// Fills `out` with multipliers, one standard normal of `entries` per slot in order, for the
    /// many entries of a matrix. The exponential is taken in single precision: each multiplier is
    /// then within 1.2e-7 (relative) of [`Self::draw`]'s, a distortion of the distribution far
    /// below any Monte Carlo error, and the double-precision `exp` was a fifth of a Monte Carlo
    /// LCA draw's time.
    pub fn fill(&self, entries: &mut EntryStream, out: &mut [f64]) {
        if self.sigma == 0.0 {
            out.fill(1.0);
            return;
        }
        for v in out.iter_mut() {
            *v = f64::from(((self.sigma * entries.standard_normal()) as f32).exp());
        }
    }
}

/// `n × d` uniforms of the design.
pub fn uniforms(n: usize, d: usize, seed: u64, design: Design) -> Vec<Vec<f64>> {
    let perms: Vec<Vec<usize>> = match design {
        Design::MonteCarlo => Vec::new(),
        Design::LatinHypercube => (0..d)
            .map(|j| {
                let mut rng = stream(seed, u64::MAX - j as u64);
                let mut p: Vec<usize> = (0..n).collect();
                // Fisher–Yates with the column's own stream.
                for k in (1..n).rev() {
                    let r = (rng.next_u64() % (k as u64 + 1)) as usize;
                    p.swap(k, r);
                }
                p
            })
            .collect(),
    };
    (0..n)
        .into_par_iter()
        .map(|i| {
            let mut rng = stream(seed, i as u64);
            (0..d)
                .map(|j| {
                    let u = unit(&mut rng);
                    match design {
                        Design::MonteCarlo => u,
                        Design::LatinHypercube => (perms[j][i] as f64 + u) / n as f64,
                    }
                })
                .collect()
        })
        .collect()
}

/// The lower Cholesky factor of a correlation matrix, checked: symmetric, unit diagonal,
/// entries in [−1, 1], positive definite.
pub fn cholesky(correlation: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, UncertaintyError> {
    let d = correlation.len();
    for (i, row) in correlation.iter().enumerate() {
        if row.len() != d {
            return Err(UncertaintyError::Invalid(format!(
                "the correlation matrix must be {d} × {d}"
            )));
        }
        if (row[i] - 1.0).abs() > 1e-12 {
            return Err(UncertaintyError::Invalid(format!(
                "correlation[{i}][{i}] must be 1, got {}",
                row[i]
            )));
        }
        for (j, v) in row.iter().enumerate() {
            if !(-1.0..=1.0).contains(v) || (v - correlation[j][i]).abs() > 1e-12 {
                return Err(UncertaintyError::Invalid(format!(
                    "correlation[{i}][{j}] = {v}: entries must lie in [−1, 1] and the matrix be symmetric"
                )));
            }
        }
    }
    let m = faer::Mat::from_fn(d, d, |i, j| correlation[i][j]);
    let llt = m
        .llt(faer::Side::Lower)
        .map_err(|_| UncertaintyError::Invalid("the correlation matrix is not positive definite".into()))?;
    let l = llt.L();
    Ok((0..d)
        .map(|i| (0..d).map(|j| if j <= i { l[(i, j)] } else { 0.0 }).collect())
        .collect())
}

/// `n` samples of the inputs (rows), by the design, correlated if a correlation matrix is given.
pub fn sample(
    inputs: &[Sampler],
    n: usize,
    seed: u64,
    design: Design,
    correlation: Option<&[Vec<f64>]>,
) -> Result<Vec<Vec<f64>>, UncertaintyError> {
    let d = inputs.len();
    let mut u = uniforms(n, d, seed, design);
    if let Some(r) = correlation {
        if r.len() != d {
            return Err(UncertaintyError::Invalid(format!(
                "the correlation matrix is {} × {} but there are {d} inputs",
                r.len(),
                r.len()
            )));
        }
        let l = cholesky(r)?;
        let phi = Normal::standard();
        u.par_iter_mut().for_each(|row| {
            let z: Vec<f64> = row.iter().map(|v| phi.inverse_cdf(*v)).collect();
            for i in 0..d {
                let zi: f64 = (0..=i).map(|j| l[i][j] * z[j]).sum();
                row[i] = phi.cdf(zi).clamp(1e-16, 1.0 - 1e-16);
            }
        });
    }
    Ok(u.into_par_iter()
        .map(|row| row.iter().zip(inputs).map(|(v, s)| s.quantile(*v)).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::distribution::Distribution;
    use crate::engine::stats::spearman;

    #[test]
    fn the_same_seed_gives_the_same_numbers_on_one_and_two_threads() {
        let inputs = vec![
            Distribution::Normal { mean: 0.0, sd: 1.0 }.sampler().unwrap(),
            Distribution::Lognormal {
                geometric_mean: 2.0,
                gsd: 1.3,
            }
            .sampler()
            .unwrap(),
        ];
        let run = |threads: usize, design: Design| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| sample(&inputs, 2000, 42, design, None).unwrap())
        };
        for design in [Design::MonteCarlo, Design::LatinHypercube] {
            assert_eq!(run(1, design), run(2, design));
        }
        assert_ne!(
            run(1, Design::MonteCarlo),
            sample(&inputs, 2000, 43, Design::MonteCarlo, None).unwrap()
        );
    }

    #[test]
    fn filled_multipliers_follow_the_draws_within_single_precision() {
        let m = LognormalMultiplier::new(1.5).unwrap();
        let mut filled = vec![0.0; 10_000];
        m.fill(&mut EntryStream::new(9, 3), &mut filled);
        let mut one_by_one = EntryStream::new(9, 3);
        for v in &filled {
            let d = m.draw(&mut one_by_one);
            assert!((v / d - 1.0).abs() < 2e-7, "{v} vs {d}");
        }
        // Geometric mean 1 and the GSD's log as the standard deviation of the logs.
        let logs: Vec<f64> = filled.iter().map(|v| v.ln()).collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt();
        assert!(
            mean.abs() < 0.02 && (sd / 1.5f64.ln() - 1.0).abs() < 0.03,
            "{mean} {sd}"
        );
        let mut ones = vec![0.0; 3];
        LognormalMultiplier::new(1.0)
            .unwrap()
            .fill(&mut EntryStream::new(1, 1), &mut ones);
        assert_eq!(ones, vec![1.0; 3]);
    }

    #[test]
    fn latin_hypercube_fills_every_stratum_once() {
        let u = uniforms(100, 3, 7, Design::LatinHypercube);
        for j in 0..3 {
            let mut strata: Vec<usize> = u.iter().map(|r| (r[j] * 100.0) as usize).collect();
            strata.sort();
            assert_eq!(strata, (0..100).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_copula_correlates_ranks() {
        let inputs = vec![
            Distribution::Uniform { min: 0.0, max: 1.0 }.sampler().unwrap(),
            Distribution::Lognormal {
                geometric_mean: 1.0,
                gsd: 2.0,
            }
            .sampler()
            .unwrap(),
        ];
        let r = vec![vec![1.0, 0.8], vec![0.8, 1.0]];
        let s = sample(&inputs, 5000, 1, Design::MonteCarlo, Some(&r)).unwrap();
        let x: Vec<f64> = s.iter().map(|r| r[0]).collect();
        let y: Vec<f64> = s.iter().map(|r| r[1]).collect();
        // Spearman ρ of a Gaussian copula with r = 0.8 is (6/π)·asin(0.4) = 0.786.
        assert!((spearman(&x, &y) - 0.786).abs() < 0.03, "{}", spearman(&x, &y));
        let bad = vec![vec![1.0, 1.5], vec![1.5, 1.0]];
        assert!(sample(&inputs, 10, 1, Design::MonteCarlo, Some(&bad)).is_err());
    }
}
