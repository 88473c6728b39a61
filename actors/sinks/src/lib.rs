//! The natural sinks agent: IPCC AFOLU accounting for forests, land-use change, soils, fire and
//! harvested wood products (2006 IPCC Guidelines, Vol. 4, with the 2019 Refinement).
//!
//! * [`engine`]: the IPCC equations, one pure function each; harvested wood products by
//!   first-order decay; a yield-table stand simulation with a yearly mass balance; Approach 1
//!   error propagation.
//! * [`defaults`]: the IPCC default values bundled in `data/afolu/`, each with its table.
//! * [`forest`]: Tier 1 accounts of forest land remaining forest land, land converted to and
//!   from forest, soils and fire, as yearly results by pool with uncertainty.
//! * [`agent`]: a `SinksTask` in, Quantities and a graph fragment out; the actor.
//! * [`cli`]: `cbutler sinks …`.
//!
//! It imports the protocol, the agent runtime and the uncertainty trait, never the orchestrator's
//! crates; nothing under [`engine`] imports an actor runtime, async code or I/O.

pub mod agent;
pub mod cli;
pub mod defaults;
pub mod engine;
pub mod forest;
pub mod uncertainty;

/// Why a sinks calculation cannot be done, in words a user can act on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SinksError {
    /// An input is out of range or missing.
    #[error("{0}")]
    Invalid(String),
    /// No confirmed default exists for what was asked; the message names the flag to pass instead.
    #[error("{0}")]
    NoDefault(String),
    #[error(transparent)]
    Stand(#[from] engine::stand::StandError),
}
