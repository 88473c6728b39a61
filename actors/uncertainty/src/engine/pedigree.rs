//! The ecoinvent pedigree matrix: data-quality scores turned into the variance of the
//! underlying normal of a lognormal (Weidema et al. 2013, *Overview and methodology. Data quality
//! guideline for the ecoinvent database version 3*, Table 10.5):
//! `σ² = σ_b² + Σ_k σ_k²(score_k)`, `GSD = exp(σ)`, 95 % interval `[x / exp(2σ), x · exp(2σ)]`
//! (the ecoinvent convention, `GSD²`).

use serde::Serialize;

use crate::UncertaintyError;

/// The five indicators and their additional variances by score 1–5.
pub const INDICATORS: [(&str, [f64; 5]); 5] = [
    ("reliability", [0.0, 0.0006, 0.002, 0.008, 0.04]),
    ("completeness", [0.0, 0.0001, 0.0006, 0.002, 0.008]),
    ("temporal correlation", [0.0, 0.0002, 0.002, 0.008, 0.04]),
    ("geographical correlation", [0.0, 0.000025, 0.0001, 0.0006, 0.002]),
    (
        "further technological correlation",
        [0.0, 0.0006, 0.008, 0.04, 0.12],
    ),
];

/// The uncertainty of a value from its basic variance and pedigree scores, with the rule shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PedigreeUncertainty {
    pub scores: [u8; 5],
    pub basic_variance: f64,
    /// Additional variance of each indicator.
    pub additional: [f64; 5],
    /// `σ²` of ln x.
    pub variance: f64,
    pub gsd: f64,
    /// `exp(2σ)`: the factor of the 95 % interval.
    pub gsd_squared: f64,
    pub rule: &'static str,
}

/// Parses scores written "R,C,T,G,F" (five whole numbers 1–5).
pub fn parse_scores(text: &str) -> Result<[u8; 5], UncertaintyError> {
    let scores: Vec<u8> = text
        .split(',')
        .map(|x| {
            x.trim().parse::<u8>().map_err(|_| {
                UncertaintyError::Invalid(format!("pedigree score {x:?} is not a whole number 1–5"))
            })
        })
        .collect::<Result<_, _>>()?;
    scores.try_into().map_err(|_| {
        UncertaintyError::Invalid(format!("pedigree needs five scores \"R,C,T,G,F\", got {text:?}"))
    })
}

/// Combines a basic variance (of ln x) with pedigree scores (each 1–5).
pub fn pedigree(scores: [u8; 5], basic_variance: f64) -> Result<PedigreeUncertainty, UncertaintyError> {
    if !(basic_variance.is_finite() && basic_variance >= 0.0) {
        return Err(UncertaintyError::Invalid(format!(
            "the basic variance must be non-negative, got {basic_variance}"
        )));
    }
    let mut additional = [0.0; 5];
    for (k, s) in scores.iter().enumerate() {
        if !(1..=5).contains(s) {
            return Err(UncertaintyError::Invalid(format!(
                "pedigree score for {} must be 1–5, got {s}",
                INDICATORS[k].0
            )));
        }
        additional[k] = INDICATORS[k].1[(*s - 1) as usize];
    }
    let variance = basic_variance + additional.iter().sum::<f64>();
    let sigma = variance.sqrt();
    Ok(PedigreeUncertainty {
        scores,
        basic_variance,
        additional,
        variance,
        gsd: sigma.exp(),
        gsd_squared: (2.0 * sigma).exp(),
        rule: "σ² = σ_b² + Σ σ_k² (ecoinvent data quality guideline v3, Weidema et al. 2013, Table 10.5); GSD = exp(σ)",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand() {
        // (2,3,1,4,5): 0.0006 + 0.0006 + 0 + 0.0006 + 0.12 = 0.1218, plus basic 0.0006.
        let p = pedigree([2, 3, 1, 4, 5], 0.0006).unwrap();
        assert!((p.variance - 0.1224).abs() < 1e-12);
        assert!((p.gsd - 0.1224f64.sqrt().exp()).abs() < 1e-12);
        assert!(
            pedigree([0, 1, 1, 1, 1], 0.0)
                .unwrap_err()
                .to_string()
                .contains("reliability must be 1–5")
        );
    }
}
