//! Monte Carlo on an MRIO through the uncertainty engine's [`UncertainModel`] trait: every
//! nonzero entry of `Z` (or `A`), `Y`, `F` and `F_Y` multiplied by an independent lognormal factor
//! of geometric mean 1 and the given GSD, and the regional accounts recomputed for each draw. The
//! multipliers come from the draw's entry stream, in storage order of `Z`, `Y`, then each
//! extension's `F` and `F_Y`.

use cb_uncertainty::engine::propagate::{Draws, UncertainModel, propagate};
use cb_uncertainty::engine::sampling::{Design, EntryStream, LognormalMultiplier};
use faer::Mat;

use crate::analysis::{AnalysisError, MrioAnalysis};
use crate::data::{Core, Mrio};
use crate::engine::RegionalAccounts;

fn perturb(m: &mut Mat<f64>, factor: &LognormalMultiplier, entries: &mut EntryStream) {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let v = m[(i, j)];
            if v != 0.0 {
                m[(i, j)] = v * factor.draw(entries);
            }
        }
    }
}

/// An MRIO with uncertain entries; outputs are the regional accounts D_cba_reg, D_pba_reg,
/// D_imp_reg and D_exp_reg, each `k × R`, flattened column by column one after the other.
pub struct PerturbedMrio<'a> {
    mrio: &'a Mrio,
    factor: LognormalMultiplier,
    stressors: usize,
}

impl<'a> PerturbedMrio<'a> {
    pub fn new(mrio: &'a Mrio, gsd: f64) -> Result<Self, AnalysisError> {
        let factor = LognormalMultiplier::new(gsd).map_err(|e| AnalysisError::Engine(e.to_string()))?;
        let stressors = mrio.extensions.iter().map(|e| e.f.nrows()).sum();
        Ok(PerturbedMrio {
            mrio,
            factor,
            stressors,
        })
    }

    fn regions(&self) -> usize {
        self.mrio.regions.len()
    }

    /// The accounts back from an output vector.
    pub fn accounts(&self, outputs: &[f64]) -> RegionalAccounts {
        let (k, r) = (self.stressors, self.regions());
        let block = |b: usize| Mat::from_fn(k, r, |i, j| outputs[b * k * r + j * k + i]);
        RegionalAccounts {
            d_cba_reg: block(0),
            d_pba_reg: block(1),
            d_imp_reg: block(2),
            d_exp_reg: block(3),
        }
    }
}

impl UncertainModel for PerturbedMrio<'_> {
    fn input_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn output_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for account in ["D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"] {
            for region in &self.mrio.regions {
                for k in 0..self.stressors {
                    names.push(format!("{account}[{k}, {region}]"));
                }
            }
        }
        names
    }

    fn evaluate(&self, _: &[f64], entries: &mut EntryStream) -> Result<Vec<f64>, String> {
        let mut m = self.mrio.clone();
        match &mut m.core {
            Core::Flows(z) | Core::Coefficients(z) => perturb(z, &self.factor, entries),
        }
        perturb(&mut m.y, &self.factor, entries);
        // Total output is recomputed from the perturbed flows (x = Z·1 + Y·1), as pymrio does
        // when x is not given.
        m.x = None;
        for e in &mut m.extensions {
            perturb(&mut e.f, &self.factor, entries);
            if let Some(fy) = &mut e.f_y {
                perturb(fy, &self.factor, entries);
            }
        }
        let acc = MrioAnalysis::new(m, &mut |_| {})
            .and_then(|a| a.regional_accounts())
            .map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(4 * self.stressors * self.regions());
        for d in [&acc.d_cba_reg, &acc.d_pba_reg, &acc.d_imp_reg, &acc.d_exp_reg] {
            for j in 0..d.ncols() {
                out.extend(d.col(j).iter().copied());
            }
        }
        Ok(out)
    }
}

/// The regional accounts of perturbed copies of the MRIO, one per draw.
pub fn monte_carlo_regional_accounts(
    mrio: &Mrio,
    gsd: f64,
    draws: Draws,
    seed: u64,
) -> Result<Vec<RegionalAccounts>, AnalysisError> {
    let model = PerturbedMrio::new(mrio, gsd)?;
    let p = propagate(&model, &[], Design::MonteCarlo, seed, draws.max, draws.precision)
        .map_err(|e| AnalysisError::Engine(e.to_string()))?;
    Ok((0..p.iterations)
        .map(|i| {
            let outputs: Vec<f64> = p.samples.iter().map(|o| o[i]).collect();
            model.accounts(&outputs)
        })
        .collect())
}
