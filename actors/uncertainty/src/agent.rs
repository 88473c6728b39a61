//! The uncertainty agent's work: an [`UncertaintyTask`] in, Quantities out; and its actor.
//!
//! Other agents propagate their own inputs through [`crate::engine::propagate::UncertainModel`]
//! (they own the engines); this agent answers the questions that need no other engine: a product
//! of uncertain factors (activity data × emission factor), the pedigree matrix, and Sobol indices
//! of the standard test function.

use cb_agent_runtime::{Agent, AgentActor, wrong_agent};
use cb_protocol::text::Text;
use cb_protocol::{
    AgentKind, Finding, LabeledQuantity, Provenance, Quantity, TaskError, TaskErrorKind, TaskOutput,
    TaskSpec, TestFunction, UncertainFactor, Uncertainty, UncertaintyTask,
};

use crate::UncertaintyError;
use crate::engine::distribution::{Distribution, Sampler};
use crate::engine::pedigree::pedigree;
use crate::engine::propagate::{UncertainModel, propagate};
use crate::engine::sampling::Design;
use crate::engine::sobol::{ishigami, ishigami_analytical, sobol};

/// The uncertainty agent (stateless).
#[derive(Default)]
pub struct UncertaintyAgent;

/// The uncertainty agent's actor.
pub type UncertaintyActor = AgentActor<UncertaintyAgent>;

impl From<UncertaintyError> for TaskError {
    fn from(e: UncertaintyError) -> Self {
        let kind = match e {
            UncertaintyError::Model(_) => TaskErrorKind::Internal,
            _ => TaskErrorKind::InvalidInput,
        };
        TaskError::new(kind, e.to_string())
    }
}

impl Agent for UncertaintyAgent {
    const KIND: AgentKind = AgentKind::Uncertainty;

    fn run(&mut self, task: &TaskSpec) -> Result<TaskOutput, TaskError> {
        match task {
            TaskSpec::Uncertainty(t) => run_uncertainty(t),
            other => Err(wrong_agent(Self::KIND, other)),
        }
    }
}

const DATASET: &str = "Carbon Butler uncertainty engine";

fn provenance(method: &str) -> Provenance {
    Provenance::new(DATASET, env!("CARGO_PKG_VERSION"), method)
}

fn labeled(measure: &str, label: Text, dims: &[(&str, &str)], q: Quantity) -> LabeledQuantity {
    LabeledQuantity::new(measure, label, dims, q)
}

/// Runs one uncertainty task.
pub fn run_uncertainty(task: &UncertaintyTask) -> Result<TaskOutput, TaskError> {
    match task {
        UncertaintyTask::Sobol {
            function: TestFunction::Ishigami,
            samples,
            seed,
            bootstrap,
        } => ishigami_sobol(*samples as usize, *seed, *bootstrap as usize),
        UncertaintyTask::Pedigree {
            scores,
            basic_variance,
        } => {
            let p = pedigree(*scores, *basic_variance)?;
            let scores_text = format!("{:?}", p.scores);
            let q = Quantity::new(
                p.gsd,
                "1",
                provenance(p.rule).param("scores", &scores_text).cite(
                    "Weidema et al. 2013, Data quality guideline for the ecoinvent database version 3, Table 10.5",
                ),
            );
            let mut out = TaskOutput::default();
            out.quantities.push(labeled(
                "pedigree_gsd",
                Text::new("label_pedigree_gsd", &[("scores", &scores_text)]),
                &[("scores", &scores_text)],
                q,
            ));
            out.note(Text::new(
                "note_pedigree",
                &[
                    ("variance", &format!("{:.6}", p.variance)),
                    ("basic", &p.basic_variance.to_string()),
                    ("additional", &format!("{:?}", p.additional)),
                    ("gsd2", &format!("{:.4}", p.gsd_squared)),
                ],
            ));
            Ok(out)
        }
        UncertaintyTask::Product {
            factors,
            unit,
            iterations,
            seed,
        } => product(factors, unit, *iterations as usize, *seed),
    }
}

fn ishigami_sobol(samples: usize, seed: u64, bootstrap: usize) -> Result<TaskOutput, TaskError> {
    let (a, b) = (7.0, 0.1);
    let input = Distribution::Uniform {
        min: -std::f64::consts::PI,
        max: std::f64::consts::PI,
    }
    .sampler()?;
    let names: Vec<String> = ["x1", "x2", "x3"].map(String::from).to_vec();
    let s = sobol(
        |x| ishigami(x, a, b),
        &names,
        &vec![input; 3],
        samples,
        seed,
        bootstrap,
    )?;
    let (s1_exact, st_exact) = ishigami_analytical(a, b);
    let mut out = TaskOutput::default();
    for (i, name) in names.iter().enumerate() {
        for (measure, value, ci, exact, what) in [
            (
                "sobol_first_order",
                s.s1[i],
                s.s1_ci[i],
                s1_exact[i],
                "First-order",
            ),
            ("sobol_total", s.st[i], s.st_ci[i], st_exact[i], "Total"),
        ] {
            let q = Quantity::new(
                value,
                "1",
                provenance("Saltelli 2010 first-order / Jansen 1999 total estimators, Latin hypercube")
                    .param("samples", samples)
                    .param("seed", seed)
                    .param("bootstrap", bootstrap),
            )
            .with_uncertainty(Uncertainty::Interval {
                low: ci.0,
                high: ci.1,
                confidence: 0.95,
            });
            out.quantities.push(labeled(
                measure,
                Text::new(&format!("label_{measure}"), &[("input", name)]),
                &[("input", name)],
                q,
            ));
            out.findings.push(Finding::new(
                format!("{what} Sobol index of {name} = analytical"),
                "the estimate's 95 % bootstrap interval against the analytical value",
                &[
                    ("estimate", value),
                    ("low", ci.0),
                    ("high", ci.1),
                    ("analytical", exact),
                ],
                "inside the 95 % bootstrap interval, or within 0.02",
                (ci.0 <= exact && exact <= ci.1) || (value - exact).abs() <= 0.02,
            ));
        }
    }
    out.note(Text::new(
        "note_sobol",
        &[
            ("evaluations", &s.evaluations.to_string()),
            ("samples", &s.samples.to_string()),
            ("bootstrap", &s.bootstrap.to_string()),
        ],
    ));
    Ok(out)
}

/// The distribution of a factor from its stated uncertainty.
pub fn factor_distribution(f: &UncertainFactor) -> Result<Distribution, UncertaintyError> {
    let v = f.value;
    Ok(match &f.uncertainty {
        Uncertainty::NotAssessed => Distribution::Uniform { min: v, max: v },
        Uncertainty::Normal { sd } => Distribution::Normal { mean: v, sd: *sd },
        Uncertainty::Lognormal { gsd } => Distribution::Lognormal {
            geometric_mean: v,
            gsd: *gsd,
        },
        Uncertainty::Triangular { min, max } => Distribution::Triangular {
            min: *min,
            mode: v,
            max: *max,
        },
        Uncertainty::Uniform { min, max } => Distribution::Uniform { min: *min, max: *max },
        Uncertainty::Interval { .. } => {
            return Err(UncertaintyError::InvalidDistribution(format!(
                "factor {:?}: an interval alone is not a distribution; give it as normal, lognormal, \
                 triangular or uniform",
                f.name
            )));
        }
    })
}

/// `y = Π x_i`.
struct Product {
    names: Vec<String>,
}

impl UncertainModel for Product {
    fn input_names(&self) -> Vec<String> {
        self.names.clone()
    }
    fn output_names(&self) -> Vec<String> {
        vec!["product".into()]
    }
    fn evaluate(&self, x: &[f64], _: &mut crate::engine::sampling::EntryStream) -> Result<Vec<f64>, String> {
        Ok(vec![x.iter().product()])
    }
}

fn product(
    factors: &[UncertainFactor],
    unit: &str,
    iterations: usize,
    seed: u64,
) -> Result<TaskOutput, TaskError> {
    let dists: Vec<Distribution> = factors
        .iter()
        .map(factor_distribution)
        .collect::<Result<_, _>>()?;
    let samplers: Vec<Sampler> = dists
        .iter()
        .zip(factors)
        .map(|(d, f)| {
            d.sampler()
                .map_err(|e| TaskError::new(TaskErrorKind::InvalidInput, format!("factor {:?}: {e}", f.name)))
        })
        .collect::<Result<_, _>>()?;
    let model = Product {
        names: factors.iter().map(|f| f.name.clone()).collect(),
    };
    let p = propagate(&model, &samplers, Design::LatinHypercube, seed, iterations, None)?;
    let s = &p.summaries[0];
    let point: f64 = factors.iter().map(|f| f.value).product();
    let described: Vec<String> = factors
        .iter()
        .map(|f| format!("{} {} {}", f.name, f.value, f.unit).trim().to_string())
        .collect();
    let q = Quantity::new(
        point,
        unit,
        provenance("y = Π x_i, Latin hypercube Monte Carlo")
            .param("factors", described.join(" × "))
            .param("iterations", iterations)
            .param("seed", seed),
    )
    .with_uncertainty(Uncertainty::Interval {
        low: s.p2_5,
        high: s.p97_5,
        confidence: 0.95,
    });
    let mut out = TaskOutput::default();
    out.quantities.push(labeled(
        "product",
        Text::new("label_product", &[("factors", &described.join(" × "))]),
        &[],
        q,
    ));
    let drivers: Vec<Text> = p.rank_correlations[0]
        .iter()
        .map(|(n, r)| {
            Text::new(
                "driver_spearman_signed",
                &[("input", n), ("rho", &format!("{r:+.2}"))],
            )
        })
        .collect();
    out.note(
        Text::new(
            "note_product_mc",
            &[
                ("draws", &p.iterations.to_string()),
                ("seed", &seed.to_string()),
                ("mean", &format!("{:.6e}", s.mean)),
                ("sd", &format!("{:.3e}", s.sd)),
                ("low", &format!("{:.6e}", s.p2_5)),
                ("high", &format!("{:.6e}", s.p97_5)),
            ],
        )
        .list("drivers", drivers),
    );
    // Lognormal factors only: the product is lognormal with median Π gm and
    // ln GSD = √(Σ ln² GSD_i); the sample's median and 97.5th percentile must agree.
    let lognormal: Option<Vec<(f64, f64)>> = dists
        .iter()
        .map(|d| match d {
            Distribution::Lognormal { geometric_mean, gsd } => Some((*geometric_mean, gsd.ln())),
            _ => None,
        })
        .collect();
    if let Some(ln) = lognormal {
        let median: f64 = ln.iter().map(|(m, _)| m).product();
        let sigma = ln.iter().map(|(_, s)| s * s).sum::<f64>().sqrt();
        let p97_5 = median * (1.959_963_984_540_054 * sigma).exp();
        let rel = |a: f64, b: f64| {
            if b != 0.0 {
                (a - b).abs() / b.abs()
            } else {
                (a - b).abs()
            }
        };
        // Sampling error of a percentile of ln y is about σ·√(p(1−p))/(φ(z)·√n): 3 of those.
        let tol = 3.0 * sigma * 2.2 / (iterations as f64).sqrt() + 1e-12;
        out.findings.push(Finding::new(
            "product of lognormals = closed form",
            "the Monte Carlo median and 97.5th percentile against the lognormal closed form",
            &[
                ("mc_median", s.p50),
                ("closed_form_median", median),
                ("mc_p97_5", s.p97_5),
                ("closed_form_p97_5", p97_5),
            ],
            format!("relative {tol:.2e} (3 sampling standard errors)"),
            rel(s.p50, median) <= tol && rel(s.p97_5, p97_5) <= tol,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(name: &str, value: f64, uncertainty: Uncertainty) -> UncertainFactor {
        UncertainFactor {
            name: name.into(),
            value,
            unit: String::new(),
            uncertainty,
        }
    }

    #[test]
    fn a_product_of_lognormal_factors_gets_its_closed_form_interval() {
        let out = run_uncertainty(&UncertaintyTask::Product {
            factors: vec![
                factor("coal burned", 1000.0, Uncertainty::Lognormal { gsd: 1.05 }),
                factor("emission factor", 2.4, Uncertainty::Lognormal { gsd: 1.2 }),
            ],
            unit: "t CO2".into(),
            iterations: 20_000,
            seed: 7,
        })
        .unwrap();
        let q = &out.quantities[0].quantity;
        assert_eq!(q.value, 2400.0);
        let Uncertainty::Interval { low, high, .. } = q.uncertainty else {
            panic!("{:?}", q.uncertainty)
        };
        let sigma = (1.05f64.ln().powi(2) + 1.2f64.ln().powi(2)).sqrt();
        assert!(
            (high / (2400.0 * (1.96 * sigma).exp()) - 1.0).abs() < 0.01,
            "{high}"
        );
        assert!(
            (low / (2400.0 / (1.96 * sigma).exp()) - 1.0).abs() < 0.01,
            "{low}"
        );
        assert!(out.findings[0].passed, "{:?}", out.findings);
        // The wider factor drives the product.
        assert!(
            out.notes[0].contains("Drivers: emission factor"),
            "{}",
            out.notes[0]
        );
    }

    #[test]
    fn a_closed_form_that_does_not_hold_fails() {
        // A normal factor is not lognormal: no closed-form finding is claimed.
        let out = run_uncertainty(&UncertaintyTask::Product {
            factors: vec![factor("x", 10.0, Uncertainty::Normal { sd: 1.0 })],
            unit: String::new(),
            iterations: 1000,
            seed: 1,
        })
        .unwrap();
        assert!(out.findings.is_empty());
    }

    #[test]
    fn invalid_factors_are_named() {
        let e = run_uncertainty(&UncertaintyTask::Product {
            factors: vec![factor(
                "emission factor",
                2.4,
                Uncertainty::Lognormal { gsd: 0.5 },
            )],
            unit: String::new(),
            iterations: 1000,
            seed: 1,
        })
        .unwrap_err();
        assert!(e.message.contains("emission factor"), "{}", e.message);
        assert!(
            e.message.contains("geometric standard deviation"),
            "{}",
            e.message
        );
    }

    #[test]
    fn ishigami_indices_match_the_analytical_values() {
        let out = run_uncertainty(&UncertaintyTask::Sobol {
            function: TestFunction::Ishigami,
            samples: 4096,
            seed: 3,
            bootstrap: 200,
        })
        .unwrap();
        assert_eq!(out.quantities.len(), 6);
        assert!(out.findings.iter().all(|f| f.passed), "{:?}", out.findings);
    }

    #[test]
    fn pedigree_scores_give_a_gsd() {
        let out = run_uncertainty(&UncertaintyTask::Pedigree {
            scores: [1, 1, 1, 1, 1],
            basic_variance: 0.0,
        })
        .unwrap();
        assert_eq!(out.quantities[0].quantity.value, 1.0);
    }
}
