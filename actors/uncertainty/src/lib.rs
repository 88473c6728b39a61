//! The uncertainty agent's engines: sampling (normal, lognormal, triangular, uniform, beta-PERT,
//! empirical; Monte Carlo and Latin hypercube; Gaussian-copula correlation), propagation through
//! any model by the [`engine::propagate::UncertainModel`] trait with a precision stopping rule,
//! Sobol indices with bootstrap intervals, Spearman rank correlation, and the ecoinvent pedigree
//! matrix. Other agents implement the trait for their engines. [`cli`]: `cbutler uncertainty …`
//! and the Monte Carlo flags (`McArgs`) that `cbutler mrio` and `cbutler lca` share.
//!
//! It imports the protocol and the agent runtime only, never another agent or the orchestrator's
//! crates; nothing under [`engine`] imports an actor runtime, async code or I/O.

pub mod agent;
pub mod cli;
pub mod engine;

/// Why an uncertainty calculation cannot be done.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UncertaintyError {
    #[error("invalid distribution: {0}")]
    InvalidDistribution(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the model failed on a sample: {0}")]
    Model(String),
}
