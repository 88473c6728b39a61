//! Probability distributions of uncertain inputs, each sampled through its quantile function so
//! that Monte Carlo, Latin hypercube and copula-correlated designs share one path:
//! `x = F⁻¹(u)`, `u ∈ (0, 1)`.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF, LogNormal, Normal, Triangular, Uniform};

use crate::UncertaintyError;

/// An input distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Distribution {
    /// Normal with mean and standard deviation.
    Normal { mean: f64, sd: f64 },
    /// Lognormal given its geometric mean (median) and geometric standard deviation (> 1):
    /// `ln X ~ N(ln gm, (ln gsd)²)`.
    Lognormal { geometric_mean: f64, gsd: f64 },
    /// Triangular on `[min, max]` with the mode.
    Triangular { min: f64, mode: f64, max: f64 },
    /// Uniform on `[min, max]`.
    Uniform { min: f64, max: f64 },
    /// Beta-PERT on `[min, max]` with the mode: `min + (max − min) · Beta(α, β)`,
    /// `α = 1 + 4 (mode − min)/(max − min)`, `β = 1 + 4 (max − mode)/(max − min)`.
    Pert { min: f64, mode: f64, max: f64 },
    /// The empirical distribution of observed values (linear interpolation between order
    /// statistics).
    Empirical { values: Vec<f64> },
}

/// A distribution checked and ready to sample.
#[derive(Debug, Clone)]
pub struct Sampler {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Normal(Normal),
    Lognormal(LogNormal),
    Triangular(Triangular),
    Uniform(Uniform),
    Pert { min: f64, width: f64, beta: Beta },
    Empirical(Vec<f64>),
    Constant(f64),
}

fn invalid(msg: String) -> UncertaintyError {
    UncertaintyError::InvalidDistribution(msg)
}

impl Distribution {
    /// Checks the parameters and prepares the quantile function; invalid parameters are named.
    pub fn sampler(&self) -> Result<Sampler, UncertaintyError> {
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(invalid(format!("{name} must be a finite number, got {v}")))
            }
        };
        let ordered = |min: f64, mode: f64, max: f64, what: &str| {
            finite("min", min)?;
            finite("mode", mode)?;
            finite("max", max)?;
            if min > max {
                return Err(invalid(format!("{what}: min {min} is greater than max {max}")));
            }
            if !(min..=max).contains(&mode) {
                return Err(invalid(format!("{what}: mode {mode} is outside [{min}, {max}]")));
            }
            Ok(())
        };
        let kind = match self {
            Distribution::Normal { mean, sd } => {
                finite("mean", *mean)?;
                if !(sd.is_finite() && *sd >= 0.0) {
                    return Err(invalid(format!(
                        "normal: the standard deviation must be non-negative, got {sd}"
                    )));
                }
                if *sd == 0.0 {
                    Kind::Constant(*mean)
                } else {
                    Kind::Normal(Normal::new(*mean, *sd).map_err(|e| invalid(format!("normal: {e}")))?)
                }
            }
            Distribution::Lognormal { geometric_mean, gsd } => {
                if !(geometric_mean.is_finite() && *geometric_mean > 0.0) {
                    return Err(invalid(format!(
                        "lognormal: the geometric mean must be positive, got {geometric_mean}"
                    )));
                }
                if !(gsd.is_finite() && *gsd >= 1.0) {
                    return Err(invalid(format!(
                        "lognormal: the geometric standard deviation must be ≥ 1, got {gsd}"
                    )));
                }
                if *gsd == 1.0 {
                    Kind::Constant(*geometric_mean)
                } else {
                    Kind::Lognormal(
                        LogNormal::new(geometric_mean.ln(), gsd.ln())
                            .map_err(|e| invalid(format!("lognormal: {e}")))?,
                    )
                }
            }
            Distribution::Triangular { min, mode, max } => {
                ordered(*min, *mode, *max, "triangular")?;
                if min == max {
                    Kind::Constant(*min)
                } else {
                    Kind::Triangular(
                        Triangular::new(*min, *max, *mode)
                            .map_err(|e| invalid(format!("triangular: {e}")))?,
                    )
                }
            }
            Distribution::Uniform { min, max } => {
                ordered(*min, *min, *max, "uniform")?;
                if min == max {
                    Kind::Constant(*min)
                } else {
                    Kind::Uniform(Uniform::new(*min, *max).map_err(|e| invalid(format!("uniform: {e}")))?)
                }
            }
            Distribution::Pert { min, mode, max } => {
                ordered(*min, *mode, *max, "PERT")?;
                let width = max - min;
                if width == 0.0 {
                    Kind::Constant(*min)
                } else {
                    let a = 1.0 + 4.0 * (mode - min) / width;
                    let b = 1.0 + 4.0 * (max - mode) / width;
                    Kind::Pert {
                        min: *min,
                        width,
                        beta: Beta::new(a, b).map_err(|e| invalid(format!("PERT: {e}")))?,
                    }
                }
            }
            Distribution::Empirical { values } => {
                if values.is_empty() {
                    return Err(invalid("empirical: no values".into()));
                }
                if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                    return Err(invalid(format!("empirical: {v} is not a finite number")));
                }
                let mut v = values.clone();
                v.sort_by(f64::total_cmp);
                Kind::Empirical(v)
            }
        };
        Ok(Sampler { kind })
    }
}

impl Sampler {
    /// The quantile `F⁻¹(u)` for `u ∈ (0, 1)`.
    pub fn quantile(&self, u: f64) -> f64 {
        match &self.kind {
            Kind::Normal(d) => d.inverse_cdf(u),
            Kind::Lognormal(d) => d.inverse_cdf(u),
            Kind::Triangular(d) => d.inverse_cdf(u),
            Kind::Uniform(d) => d.inverse_cdf(u),
            Kind::Pert { min, width, beta } => min + width * beta.inverse_cdf(u),
            Kind::Empirical(v) => {
                let pos = u * (v.len() - 1) as f64;
                let i = pos.floor() as usize;
                let j = (i + 1).min(v.len() - 1);
                v[i] + (v[j] - v[i]) * (pos - i as f64)
            }
            Kind::Constant(c) => *c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_hand() {
        let n = Distribution::Normal { mean: 1.0, sd: 2.0 }.sampler().unwrap();
        assert!((n.quantile(0.5) - 1.0).abs() < 1e-9);
        assert!((n.quantile(0.975) - (1.0 + 2.0 * 1.959964)).abs() < 1e-5);
        let l = Distribution::Lognormal {
            geometric_mean: 10.0,
            gsd: 1.5,
        }
        .sampler()
        .unwrap();
        assert!((l.quantile(0.5) - 10.0).abs() < 1e-9);
        let u = Distribution::Uniform { min: 2.0, max: 4.0 }.sampler().unwrap();
        assert!((u.quantile(0.25) - 2.5).abs() < 1e-12);
        let t = Distribution::Triangular {
            min: 0.0,
            mode: 0.0,
            max: 1.0,
        }
        .sampler()
        .unwrap();
        // F(x) = 1 − (1 − x)², so F⁻¹(0.75) = 0.5.
        assert!((t.quantile(0.75) - 0.5).abs() < 1e-9);
        let p = Distribution::Pert {
            min: 0.0,
            mode: 0.5,
            max: 1.0,
        }
        .sampler()
        .unwrap();
        assert!((p.quantile(0.5) - 0.5).abs() < 1e-9);
        let e = Distribution::Empirical {
            values: vec![3.0, 1.0, 2.0],
        }
        .sampler()
        .unwrap();
        assert_eq!(e.quantile(0.75), 2.5);
    }

    #[test]
    fn invalid_parameters_are_named() {
        let e = Distribution::Lognormal {
            geometric_mean: 1.0,
            gsd: -1.2,
        }
        .sampler()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("geometric standard deviation must be ≥ 1, got -1.2"),
            "{e}"
        );
        let e = Distribution::Triangular {
            min: 2.0,
            mode: 1.5,
            max: 1.0,
        }
        .sampler()
        .unwrap_err()
        .to_string();
        assert!(e.contains("min 2 is greater than max 1"), "{e}");
        let e = Distribution::Uniform { min: 3.0, max: 1.0 }
            .sampler()
            .unwrap_err()
            .to_string();
        assert!(e.contains("min 3 is greater than max 1"), "{e}");
        assert!(Distribution::Normal { mean: 0.0, sd: -1.0 }.sampler().is_err());
        assert!(Distribution::Empirical { values: vec![] }.sampler().is_err());
    }
}
