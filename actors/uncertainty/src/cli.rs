//! `cbutler uncertainty …`: global sensitivity on test functions and the pedigree matrix.

use std::io::Write;

use crate::engine::distribution::Distribution;
use crate::engine::pedigree::pedigree;
use crate::engine::sobol::{ishigami, ishigami_analytical, sobol};
use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum UncertaintyCommand {
    /// Sobol first-order and total indices (Saltelli/Jansen) with bootstrap intervals.
    Sobol(SobolArgs),
    /// The GSD of a value from ecoinvent pedigree scores and a basic variance.
    Pedigree(PedigreeArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TestModel {
    /// Ishigami: sin x1 + a sin² x2 + b x3⁴ sin x1, x ~ U(−π, π), a = 7, b = 0.1.
    Ishigami,
}

#[derive(Debug, Args)]
pub struct SobolArgs {
    #[arg(long, value_enum)]
    pub model: TestModel,
    /// Base samples N (the model runs N·(d + 2) times).
    #[arg(long, default_value_t = 10_000)]
    pub samples: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 200)]
    pub bootstrap: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PedigreeArgs {
    /// Scores "R,C,T,G,F": reliability, completeness, temporal, geographical and further
    /// technological correlation, each 1–5.
    #[arg(long)]
    pub scores: String,
    /// Basic variance of ln x.
    #[arg(long, default_value_t = 0.0)]
    pub basic_variance: f64,
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: UncertaintyCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        UncertaintyCommand::Sobol(a) => {
            if !(10..=10_000_000).contains(&a.samples) {
                bail!("--samples must be between 10 and 10000000, got {}", a.samples);
            }
            let TestModel::Ishigami = a.model;
            let pi = std::f64::consts::PI;
            let inputs = (0..3)
                .map(|_| Distribution::Uniform { min: -pi, max: pi }.sampler())
                .collect::<Result<Vec<_>, _>>()?;
            let names: Vec<String> = ["x1", "x2", "x3"].iter().map(|s| s.to_string()).collect();
            let r = sobol(
                |x| ishigami(x, 7.0, 0.1),
                &names,
                &inputs,
                a.samples,
                a.seed,
                a.bootstrap,
            )?;
            let (s1, st) = ishigami_analytical(7.0, 0.1);
            if a.json {
                let mut doc = serde_json::to_value(&r)?;
                if let Some(m) = doc.as_object_mut() {
                    m.insert("model".into(), json!("ishigami (a = 7, b = 0.1)"));
                    m.insert("analytical".into(), json!({"S1": s1, "ST": st}));
                    m.insert("seed".into(), json!(a.seed));
                }
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
                return Ok(());
            }
            writeln!(
                out,
                "Sobol indices of the Ishigami function (a = 7, b = 0.1), {} model runs:",
                r.evaluations
            )?;
            for k in 0..3 {
                writeln!(
                    out,
                    "  {}: S1 {:.4} [{:.4}, {:.4}] (analytical {:.4});  ST {:.4} [{:.4}, {:.4}] (analytical {:.4})",
                    r.names[k],
                    r.s1[k],
                    r.s1_ci[k].0,
                    r.s1_ci[k].1,
                    s1[k],
                    r.st[k],
                    r.st_ci[k].0,
                    r.st_ci[k].1,
                    st[k]
                )?;
            }
            Ok(())
        }
        UncertaintyCommand::Pedigree(a) => {
            let scores = crate::engine::pedigree::parse_scores(&a.scores)?;
            let p = pedigree(scores, a.basic_variance)?;
            if a.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
            } else {
                writeln!(
                    out,
                    "σ² = {:.5} (basic {:.5} + pedigree {:?}); GSD = {:.4}; 95 % factor GSD² = {:.4}\n{}",
                    p.variance, p.basic_variance, p.additional, p.gsd, p.gsd_squared, p.rule
                )?;
            }
            Ok(())
        }
    }
}

/// Monte Carlo options of `lca footprint`.
#[derive(Debug, Args)]
pub struct McArgs {
    /// Monte Carlo iterations: adds mean, standard deviation and 2.5/50/97.5 percentiles.
    #[arg(long)]
    pub mc: Option<usize>,
    /// Stop before --mc draws once every mean's standard error is below this share of the mean
    /// (e.g. 0.005), checked every 100 draws after the first 200.
    #[arg(long)]
    pub precision: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Lognormal GSD applied to every technosphere input and biosphere exchange.
    #[arg(long, conflicts_with = "pedigree")]
    pub gsd: Option<f64>,
    /// Or pedigree scores "R,C,T,G,F" (1–5 each; ecoinvent v3) giving the GSD, with
    /// --basic-variance (of ln x, default 0).
    #[arg(long)]
    pub pedigree: Option<String>,
    #[arg(long, default_value_t = 0.0)]
    pub basic_variance: f64,
}

impl McArgs {
    /// At most `n` draws, fewer at the requested precision.
    pub fn draws(&self, n: usize) -> Result<crate::engine::propagate::Draws> {
        if let Some(p) = self.precision
            && !(p.is_finite() && p > 0.0 && p < 1.0)
        {
            bail!("--precision must be between 0 and 1 (a share of the mean), got {p}");
        }
        Ok(crate::engine::propagate::Draws {
            max: n,
            precision: self.precision,
        })
    }

    /// The GSD and how it was chosen, or an error saying what to pass.
    pub fn gsd(&self) -> Result<(f64, serde_json::Value)> {
        match (&self.gsd, &self.pedigree) {
            (Some(g), _) => Ok((*g, json!({"gsd": g, "rule": "given with --gsd"}))),
            (None, Some(p)) => {
                let scores = crate::engine::pedigree::parse_scores(p)?;
                let ped = crate::engine::pedigree::pedigree(scores, self.basic_variance)?;
                Ok((ped.gsd, serde_json::to_value(&ped)?))
            }
            (None, None) => bail!(
                "--mc needs an uncertainty for the exchanges: the database carries none that is read. Give --gsd G \
                 (a lognormal GSD for every exchange) or --pedigree \"R,C,T,G,F\" (ecoinvent pedigree scores)"
            ),
        }
    }
}
