//! Propagation of input uncertainty through any model by one trait, with a stopping rule on the
//! precision of the mean.

use serde::Serialize;

use crate::UncertaintyError;
use crate::engine::distribution::Sampler;
use crate::engine::sampling::{Design, EntryStream, sample};
use crate::engine::stats::{Summary, spearman, summary};

/// A model with uncertain inputs: parameters in, outputs out. Every agent implements it for its
/// engine: factors and prices (factory), growth and carbon fraction (sinks), and the perturbed
/// matrices of LCA and MRIO, whose entries are too many to name.
pub trait UncertainModel: Sync {
    /// Names of the inputs, in the order `evaluate` takes them.
    fn input_names(&self) -> Vec<String>;
    /// Names of the outputs.
    fn output_names(&self) -> Vec<String>;
    /// The outputs for one draw: `inputs` are the named inputs' values; `entries` is the draw's
    /// own stream of further random numbers, for uncertain entries too many to name (matrix
    /// entries), drawn in an order the model fixes. Models without such entries ignore it.
    fn evaluate(&self, inputs: &[f64], entries: &mut EntryStream) -> Result<Vec<f64>, String>;

    /// How many draws the model prefers to evaluate together in
    /// [`UncertainModel::evaluate_batch`].
    fn batch_size(&self) -> usize {
        1
    }

    /// Several draws at once (`inputs[d]`, `entries[d]` for draw `d`). Models whose work batches —
    /// several right-hand sides in one triangular solve — override it; the results must be those
    /// of `evaluate` draw by draw, so the batch size never changes the numbers.
    fn evaluate_batch(
        &self,
        inputs: &[&[f64]],
        entries: &mut [EntryStream],
    ) -> Result<Vec<Vec<f64>>, String> {
        inputs
            .iter()
            .zip(entries.iter_mut())
            .map(|(x, e)| self.evaluate(x, e))
            .collect()
    }
}

/// Seeds the streams of unnamed entries apart from the named inputs' streams.
const ENTRY_STREAMS: u64 = 0x9e37_79b9_7f4a_7c15;

/// The outputs of the draws `indices` (consecutive), each with its own entry stream.
fn evaluate_draws(
    model: &dyn UncertainModel,
    draws: &[Vec<f64>],
    seed: u64,
    indices: &[usize],
) -> Result<Vec<Vec<f64>>, String> {
    let mut entries: Vec<EntryStream> = indices
        .iter()
        .map(|&i| EntryStream::new(seed ^ ENTRY_STREAMS, i as u64))
        .collect();
    let inputs: Vec<&[f64]> = indices.iter().map(|&i| draws[i].as_slice()).collect();
    let out = model.evaluate_batch(&inputs, &mut entries)?;
    if out.len() != indices.len() {
        return Err(format!(
            "the model returned {} results for {} draws",
            out.len(),
            indices.len()
        ));
    }
    Ok(out)
}

/// How many draws: at most `max`, fewer where every output's mean is known to `precision`
/// (standard error / |mean|) first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draws {
    pub max: usize,
    pub precision: Option<f64>,
}

impl Draws {
    /// Exactly `n` draws.
    pub fn exactly(n: usize) -> Draws {
        Draws {
            max: n,
            precision: None,
        }
    }
}

/// What a propagation found.
#[derive(Debug, Clone, Serialize)]
pub struct Propagation {
    pub outputs: Vec<String>,
    pub summaries: Vec<Summary>,
    /// Spearman rank correlation of each input with each output: `[output][input]`.
    pub rank_correlations: Vec<Vec<(String, f64)>>,
    pub iterations: usize,
    /// Every draw's value of each output, `[output][draw]`, in draw order (so two propagations
    /// with the same seed and inputs can be compared draw by draw).
    #[serde(skip)]
    pub samples: Vec<Vec<f64>>,
    pub converged: bool,
    /// The relative standard error of each output's mean at the end.
    pub relative_standard_error: Vec<f64>,
}

/// Monte Carlo (or Latin hypercube) propagation in batches until every output's mean is known to
/// `precision` (standard error / |mean|) or `max_iterations` is reached. Same seed, same result.
pub fn propagate(
    model: &dyn UncertainModel,
    inputs: &[Sampler],
    design: Design,
    seed: u64,
    max_iterations: usize,
    precision: Option<f64>,
) -> Result<Propagation, UncertaintyError> {
    use rayon::prelude::*;
    let names = model.input_names();
    if names.len() != inputs.len() {
        return Err(UncertaintyError::Invalid(format!(
            "the model has {} inputs but {} distributions were given",
            names.len(),
            inputs.len()
        )));
    }
    // All draws at once keep the design (a Latin hypercube is over the whole sample); batches of
    // 100 are evaluated until the precision is reached.
    let draws = sample(inputs, max_iterations, seed, design, None)?;
    let mut results: Vec<Vec<f64>> = Vec::new();
    let mut done = 0;
    let mut converged = false;
    let mut rse = Vec::new();
    // Draws go to the threads in the model's batches; a round holds at least 100 draws and two
    // batches per thread, and the precision is checked between rounds.
    let chunk = model.batch_size().max(1);
    let round = 100.max(2 * chunk * rayon::current_num_threads()).div_ceil(chunk) * chunk;
    while done < max_iterations {
        let end = (done + round).min(max_iterations);
        let indices: Vec<usize> = (done..end).collect();
        let batch: Result<Vec<Vec<Vec<f64>>>, String> = indices
            .par_chunks(chunk)
            .map(|c| evaluate_draws(model, &draws, seed, c))
            .collect();
        results.extend(batch.map_err(UncertaintyError::Model)?.into_iter().flatten());
        done = end;
        if precision.is_none() && done < max_iterations {
            continue;
        }
        let k = model.output_names().len();
        rse = (0..k)
            .map(|o| {
                let col: Vec<f64> = results.iter().map(|r| r[o]).collect();
                let s = summary(&col);
                if s.mean == 0.0 {
                    0.0
                } else {
                    s.standard_error / s.mean.abs()
                }
            })
            .collect();
        if let Some(p) = precision
            && done >= 200
            && rse.iter().all(|r| *r <= p)
        {
            converged = true;
            break;
        }
    }
    let outputs = model.output_names();
    let samples: Vec<Vec<f64>> = (0..outputs.len())
        .map(|o| results.iter().map(|r| r[o]).collect())
        .collect();
    let summaries: Vec<Summary> = samples.iter().map(|v| summary(v)).collect();
    let rank_correlations = (0..outputs.len())
        .map(|o| {
            let y: Vec<f64> = results.iter().map(|r| r[o]).collect();
            let mut c: Vec<(String, f64)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (
                        n.clone(),
                        spearman(&draws[..done].iter().map(|x| x[i]).collect::<Vec<_>>(), &y),
                    )
                })
                .collect();
            c.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
            c
        })
        .collect();
    Ok(Propagation {
        outputs,
        summaries,
        rank_correlations,
        iterations: done,
        samples,
        converged: converged || precision.is_none(),
        relative_standard_error: rse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::distribution::Distribution;

    struct Product;
    impl UncertainModel for Product {
        fn input_names(&self) -> Vec<String> {
            vec!["a".into(), "b".into()]
        }
        fn output_names(&self) -> Vec<String> {
            vec!["a·b".into()]
        }
        fn evaluate(&self, x: &[f64], _: &mut EntryStream) -> Result<Vec<f64>, String> {
            Ok(vec![x[0] * x[1]])
        }
    }

    #[test]
    fn a_product_of_lognormals_matches_its_closed_form() {
        // ln(ab) ~ N(ln 2 + ln 3, ln²1.2 + ln²1.5): median 6, mean 6·exp(σ²/2).
        let inputs = vec![
            Distribution::Lognormal {
                geometric_mean: 2.0,
                gsd: 1.2,
            }
            .sampler()
            .unwrap(),
            Distribution::Lognormal {
                geometric_mean: 3.0,
                gsd: 1.5,
            }
            .sampler()
            .unwrap(),
        ];
        let p = propagate(&Product, &inputs, Design::LatinHypercube, 3, 20_000, None).unwrap();
        let s2 = 1.2f64.ln().powi(2) + 1.5f64.ln().powi(2);
        let mean = 6.0 * (s2 / 2.0).exp();
        let sd = mean * (s2.exp() - 1.0).sqrt();
        let s = &p.summaries[0];
        assert!((s.p50 - 6.0).abs() < 0.05, "{}", s.p50);
        assert!(
            (s.mean - mean).abs() < 3.0 * s.standard_error + 1e-3,
            "{} vs {mean}",
            s.mean
        );
        assert!((s.sd - sd).abs() / sd < 0.03, "{} vs {sd}", s.sd);
        let q975 = 6.0 * (1.959964 * s2.sqrt()).exp();
        assert!((s.p97_5 - q975).abs() / q975 < 0.02);
        // b (GSD 1.5) drives the result more than a (GSD 1.2).
        assert_eq!(p.rank_correlations[0][0].0, "b");
    }

    #[test]
    fn it_stops_at_the_requested_precision() {
        let inputs = vec![
            Distribution::Normal { mean: 10.0, sd: 1.0 }.sampler().unwrap(),
            Distribution::Normal { mean: 1.0, sd: 0.01 }.sampler().unwrap(),
        ];
        let p = propagate(&Product, &inputs, Design::MonteCarlo, 1, 100_000, Some(0.01)).unwrap();
        assert!(p.converged && p.iterations < 100_000);
        assert!(p.relative_standard_error[0] <= 0.01);
    }
}
