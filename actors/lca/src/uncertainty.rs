//! A perturbed technosphere as a model of the uncertainty engine's [`UncertainModel`] trait: the
//! Monte Carlo of a footprint, shared by the product (`Model::monte_carlo`) and the benchmark.

use cb_uncertainty::engine::propagate::UncertainModel;
use cb_uncertainty::engine::sampling::{EntryStream, LognormalMultiplier};
use faer::sparse::SparseColMatRef;

use crate::engine::{self, PerturbedSolve, TechnosphereFactor};

/// Relative residual `‖A'·s − f‖/‖f‖` at which a Monte Carlo draw's preconditioned iteration
/// stops: far below the sampling error of any Monte Carlo run.
pub const MC_TOLERANCE: f64 = 1e-6;

/// Steps of the preconditioned iteration before a draw refactorises instead.
const MAX_PRECONDITIONED_STEPS: usize = 50;

/// Draws solved together. Draws per second on the benchmark's 20,000-activity system (2 threads)
/// with 8, 16, 32 and 64 right-hand sides per triangular solve: 345, 370, 412, 401.
const BATCH: usize = 32;

/// A footprint whose technosphere inputs and biosphere exchanges vary by lognormal multipliers of
/// geometric mean 1 (the outputs on the diagonal are the reference amounts and stay fixed).
/// Outputs: the score `h = cᵀ·B'·A'⁻¹·f`, and the preconditioned steps the draw took (−1 where
/// it did not converge and the matrix was refactorised with the symbolic analysis reused).
pub struct PerturbedSystem<'a> {
    a: SparseColMatRef<'a, usize, f64>,
    b: SparseColMatRef<'a, usize, f64>,
    factor: &'a TechnosphereFactor,
    demand: Vec<f64>,
    /// `A⁻¹·f`, where every draw's iteration starts.
    base_supply: Vec<f64>,
    c: Vec<f64>,
    /// Whether each stored entry of `A` (in storage order) is on the diagonal.
    diagonal: Vec<bool>,
    /// How many stored entries of `A` are on the diagonal (the outputs, which stay fixed).
    outputs: usize,
    /// Stored entries of `B` that vary (0 when the biosphere is held fixed).
    biosphere_entries: usize,
    multiplier: LognormalMultiplier,
}

impl<'a> PerturbedSystem<'a> {
    /// `factor` must be the factorisation of `a`; `c` holds one characterisation factor per row of
    /// `b`.
    pub fn new(
        a: SparseColMatRef<'a, usize, f64>,
        b: SparseColMatRef<'a, usize, f64>,
        factor: &'a TechnosphereFactor,
        demand: Vec<f64>,
        c: Vec<f64>,
        gsd: f64,
    ) -> Result<Self, cb_uncertainty::UncertaintyError> {
        let base_supply = factor
            .supply(&demand)
            .map_err(|e| cb_uncertainty::UncertaintyError::Model(e.to_string()))?;
        let multiplier = LognormalMultiplier::new(gsd)?;
        let n = a.ncols();
        let diagonal: Vec<bool> = (0..n)
            .flat_map(|col| a.row_idx_of_col_raw(col).iter().map(move |&row| row == col))
            .collect();
        let outputs = diagonal.iter().filter(|&&d| d).count();
        let biosphere_entries = (0..b.ncols()).map(|col| b.row_idx_of_col_raw(col).len()).sum();
        Ok(PerturbedSystem {
            a,
            b,
            factor,
            demand,
            base_supply,
            c,
            diagonal,
            outputs,
            biosphere_entries,
            multiplier,
        })
    }

    /// Holds the biosphere fixed: only the technosphere inputs vary.
    pub fn with_fixed_biosphere(mut self) -> Self {
        self.biosphere_entries = 0;
        self
    }
}

impl UncertainModel for PerturbedSystem<'_> {
    fn input_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn output_names(&self) -> Vec<String> {
        vec!["score".into(), "preconditioned_steps".into()]
    }

    fn evaluate(&self, x: &[f64], entries: &mut EntryStream) -> Result<Vec<f64>, String> {
        let mut out = self.evaluate_batch(&[x], std::slice::from_mut(entries))?;
        Ok(out.pop().expect("one draw in, one out"))
    }

    fn batch_size(&self) -> usize {
        BATCH
    }

    /// The draws' systems solved together: their residuals share each triangular solve.
    fn evaluate_batch(
        &self,
        inputs: &[&[f64]],
        entries: &mut [EntryStream],
    ) -> Result<Vec<Vec<f64>>, String> {
        let mut values_a = Vec::with_capacity(inputs.len());
        let mut mult_b = Vec::with_capacity(inputs.len());
        let mut inputs_mult = vec![0.0; self.diagonal.len() - self.outputs];
        for e in entries.iter_mut() {
            // One multiplier per input, in storage order; outputs keep their value.
            self.multiplier.fill(e, &mut inputs_mult);
            let mut mult = inputs_mult.iter();
            values_a.push(
                self.a
                    .val()
                    .iter()
                    .zip(&self.diagonal)
                    .map(|(v, &d)| {
                        if d {
                            *v
                        } else {
                            v * mult.next().expect("one per input")
                        }
                    })
                    .collect::<Vec<f64>>(),
            );
            let mut b = vec![0.0; self.biosphere_entries];
            self.multiplier.fill(e, &mut b);
            mult_b.push(b);
        }
        let values: Vec<&[f64]> = values_a.iter().map(Vec::as_slice).collect();
        let solved = self
            .factor
            .solve_perturbed_many(
                self.a,
                &values,
                &self.demand,
                &self.base_supply,
                MC_TOLERANCE,
                MAX_PRECONDITIONED_STEPS,
            )
            .map_err(|e| e.to_string())?;
        Ok(solved
            .into_iter()
            .zip(&mult_b)
            .map(|((s, how), mult_b)| {
                let g = if self.biosphere_entries == 0 {
                    engine::inventory(self.b, &s)
                } else {
                    engine::matvec_scaled(self.b, mult_b, &s)
                };
                let steps = match how {
                    PerturbedSolve::Iterative(k) => k as f64,
                    PerturbedSolve::Refactorised => -1.0,
                };
                vec![engine::characterise(&self.c, &g), steps]
            })
            .collect())
    }
}
