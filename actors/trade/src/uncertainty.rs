//! Monte Carlo on an MRIO: every nonzero entry of `Z` (or `A`), `Y`, `F` and `F_Y` multiplied by
//! an independent lognormal factor of geometric mean 1 and the given GSD, and the regional
//! accounts recomputed for each draw. Sample `i` takes its factors from stream `i` of the seed.

use cb_uncertainty::engine::distribution::Distribution;
use cb_uncertainty::engine::sampling::uniform_stream;
use faer::Mat;

use crate::analysis::{AnalysisError, MrioAnalysis};
use crate::data::{Core, Mrio};
use crate::engine::RegionalAccounts;

fn perturb(m: &mut Mat<f64>, next: &mut dyn FnMut() -> f64) {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let v = m[(i, j)];
            if v != 0.0 {
                m[(i, j)] = v * next();
            }
        }
    }
}

/// The regional accounts of `iterations` perturbed copies of the MRIO.
pub fn monte_carlo_regional_accounts(
    mrio: &Mrio,
    gsd: f64,
    iterations: usize,
    seed: u64,
) -> Result<Vec<RegionalAccounts>, AnalysisError> {
    let factor = Distribution::Lognormal {
        geometric_mean: 1.0,
        gsd,
    }
    .sampler()
    .map_err(|e| AnalysisError::Engine(e.to_string()))?;
    (0..iterations)
        .map(|i| {
            let mut u = uniform_stream(seed, i as u64);
            let mut next = || factor.quantile(u());
            let mut m = mrio.clone();
            match &mut m.core {
                Core::Flows(z) | Core::Coefficients(z) => perturb(z, &mut next),
            }
            perturb(&mut m.y, &mut next);
            // Total output is recomputed from the perturbed flows (x = Z·1 + Y·1), as pymrio does
            // when x is not given.
            m.x = None;
            for e in &mut m.extensions {
                perturb(&mut e.f, &mut next);
                if let Some(fy) = &mut e.f_y {
                    perturb(fy, &mut next);
                }
            }
            MrioAnalysis::new(m, &mut |_| {})?.regional_accounts()
        })
        .collect()
}
