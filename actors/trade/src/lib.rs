//! The trade carbon transfer agent: environmentally-extended multi-regional input-output
//! analysis (EE-MRIO) and the published national consumption and territorial CO2 accounts.
//!
//! * [`engine`]: pure functions, one per equation (pymrio's definitions).
//! * [`data`]: loaders for pymrio saves, EXIOBASE 3 zips, WIOD-style CSV and the bundled
//!   Global Carbon Budget series.
//! * [`analysis`]: an MRIO made ready for the accounts (labels in, labels out).
//! * [`agent`]: a [`cb_protocol::TradeTask`] in, Quantities and a graph fragment out.
//! * [`actor`]: the ractor wrapper.
//! * [`avoided`]: avoided emissions of exported solar and wind equipment against their
//!   life-cycle emissions (user parameters with sources, the bundled grid margins).
//! * [`cli`]: `cbutler mrio …` and `cbutler avoided`.
//!
//! It imports the protocol, the agent runtime and the uncertainty trait, never the orchestrator's
//! crates; nothing under [`engine`] imports an actor runtime, async code or I/O.

pub mod actor;
pub mod agent;
pub mod analysis;
pub mod avoided;
pub mod cli;
pub mod data;
pub mod engine;
pub mod uncertainty;

pub use actor::TradeActor;
pub use agent::TradeAgent;
pub use analysis::MrioAnalysis;
