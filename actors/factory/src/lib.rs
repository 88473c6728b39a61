//! The factory agent: digital simulation and least-cost, least-carbon operation of industrial
//! plants.
//!
//! * [`model`]: plant models as TOML data (units, balances, emission factors, capacities, ramps,
//!   storage, costs) with a JSON Schema; the bundled plants in `data/factory/plants/`.
//! * [`profile`]: hourly electricity price and grid carbon-intensity profiles.
//! * [`engine`]: simulation, optimisation (HiGHS) and abatement cost curves.
//! * [`bundled`]: the plants, measures and profile compiled into the binary.
//! * [`uncertainty`]: uncertain factors and prices propagated through a fixed schedule.
//! * [`agent`]: a `FactoryTask` in, Quantities and a graph of units and flows out; the actor.
//! * [`cli`]: `cbutler factory …`.
//!
//! It imports the protocol, the agent runtime and the uncertainty trait, never the orchestrator's
//! crates; nothing under [`engine`] imports an actor runtime, async code or I/O.

pub mod agent;
pub mod bundled;
pub mod cli;
pub mod engine;
pub mod model;
pub mod profile;
pub mod uncertainty;

/// Why a factory calculation cannot be done, in words a user can act on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FactoryError {
    /// A plant or measures file is malformed; the message names the line or the field.
    #[error("{0}")]
    PlantFile(String),
    #[error("{0}")]
    Profile(String),
    #[error("{0}")]
    Invalid(String),
    /// A balance did not close: a bug, reported rather than hidden.
    #[error("balance check failed: {0}")]
    Balance(String),
    /// No schedule or selection meets the constraints; the message names the binding one.
    #[error("{0}")]
    Infeasible(String),
    #[error("{0}")]
    Solver(String),
    #[error("{0}")]
    NotFound(String),
}
