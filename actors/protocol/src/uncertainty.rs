use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::limits::{MAX_PRODUCT_DRAWS, MAX_SOBOL_BOOTSTRAP, MAX_SOBOL_SAMPLES, MAX_SOBOL_WORK};

use crate::quantity::Uncertainty;

/// A standard test function for global sensitivity methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestFunction {
    /// Ishigami: `sin x1 + a sin² x2 + b x3⁴ sin x1`, `x ~ U(−π, π)`, a = 7, b = 0.1.
    Ishigami,
}

/// One factor of a product: its value, unit and uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UncertainFactor {
    /// What the factor is, e.g. `coal burned` or `emission factor`.
    #[schemars(length(min = 1))]
    pub name: String,
    pub value: f64,
    #[serde(default)]
    pub unit: String,
    pub uncertainty: Uncertainty,
}

/// What the uncertainty agent can be asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum UncertaintyTask {
    /// Sobol first-order and total indices of a test function, with bootstrap intervals and the
    /// analytical values to compare.
    Sobol {
        function: TestFunction,
        /// Base samples N (the function runs N·(d + 2) times).
        #[schemars(range(min = 10, max = 100_000))]
        samples: u32,
        #[serde(default)]
        seed: u64,
        #[schemars(range(min = 10, max = 10_000))]
        bootstrap: u32,
    },
    /// The geometric standard deviation of a value from its ecoinvent pedigree scores
    /// (reliability, completeness, temporal, geographical, further technological correlation).
    Pedigree {
        scores: [u8; 5],
        /// Basic variance of ln x.
        #[serde(default)]
        #[schemars(range(min = 0.0))]
        basic_variance: f64,
    },
    /// A product of uncertain factors (activity data × emission factor × ...) propagated by Monte
    /// Carlo: the interval of the product and the factors that drive it.
    Product {
        #[schemars(length(min = 1, max = 64))]
        factors: Vec<UncertainFactor>,
        /// Unit of the product, e.g. `t CO2`.
        #[serde(default)]
        unit: String,
        #[schemars(range(min = 100, max = 1_000_000))]
        iterations: u32,
        #[serde(default)]
        seed: u64,
    },
}

impl UncertaintyTask {
    /// Range checks that a JSON Schema states but serde alone does not enforce.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        match self {
            UncertaintyTask::Sobol {
                samples, bootstrap, ..
            } => {
                if !(10..=MAX_SOBOL_SAMPLES).contains(samples) {
                    return Err((
                        "samples",
                        format!("is {samples}, must be between 10 and {MAX_SOBOL_SAMPLES}"),
                    ));
                }
                if !(10..=MAX_SOBOL_BOOTSTRAP).contains(bootstrap) {
                    return Err((
                        "bootstrap",
                        format!("is {bootstrap}, must be between 10 and {MAX_SOBOL_BOOTSTRAP}"),
                    ));
                }
                let work = u64::from(*samples) * u64::from(*bootstrap);
                if work > MAX_SOBOL_WORK {
                    return Err((
                        "bootstrap",
                        format!(
                            "× samples is {work}, must be at most {MAX_SOBOL_WORK} (fewer samples or resamples)"
                        ),
                    ));
                }
                Ok(())
            }
            UncertaintyTask::Pedigree {
                scores,
                basic_variance,
            } => {
                if let Some(s) = scores.iter().find(|s| !(1..=5).contains(*s)) {
                    return Err(("scores", format!("contain {s}, each must be 1–5")));
                }
                if !(basic_variance.is_finite() && *basic_variance >= 0.0) {
                    return Err((
                        "basic_variance",
                        format!("is {basic_variance}, must be a non-negative number"),
                    ));
                }
                Ok(())
            }
            UncertaintyTask::Product {
                factors, iterations, ..
            } => {
                if factors.is_empty() || factors.len() > 64 {
                    return Err((
                        "factors",
                        format!("has {} entries, must have 1 to 64", factors.len()),
                    ));
                }
                if let Some(f) = factors.iter().find(|f| !f.value.is_finite()) {
                    return Err((
                        "factors",
                        format!("{:?} has value {}, must be finite", f.name, f.value),
                    ));
                }
                if !(100..=MAX_PRODUCT_DRAWS).contains(iterations) {
                    return Err((
                        "iterations",
                        format!("is {iterations}, must be between 100 and {MAX_PRODUCT_DRAWS}"),
                    ));
                }
                Ok(())
            }
        }
    }
}
