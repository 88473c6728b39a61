//! The contract between Carbon Butler's orchestrator and its agents.
//!
//! Everything that crosses a process or actor boundary is defined here and nowhere else:
//! a [`Plan`] is a DAG of typed [`Task`]s, each agent answers a task with a [`TaskResult`], and
//! every number in a result is a [`Quantity`] — value, unit, uncertainty and provenance. No bare
//! floats cross the protocol.
//!
//! The Plan's JSON Schema is generated from these types ([`plan_schema`]), so an LLM planner can be
//! constrained to it and its output checked against it before anything runs. [`format`] writes
//! numbers for people, the same way in every answer and command.
//!
//! It imports no other crate of Carbon Butler: everything else depends on it.

mod factory;
pub mod format;
mod graph;
mod lca;
pub mod limits;
mod plan;
mod quantity;
mod result;
mod sinks;
pub mod text;
mod trade;
mod uncertainty;

pub use factory::{BUNDLED_PROFILES, FactoryTask, GridFactor, GridSource, PlantMonteCarlo};
pub use graph::{EdgeKind, GraphEdge, GraphFragment, GraphNode, NodeKind};
pub use lca::{BUNDLED_DATABASE, EeioComparison, FootprintMonteCarlo, LcaTask};
pub use plan::{AgentKind, Plan, PlanError, Task, TaskId, TaskSpec};
pub use quantity::{Provenance, Quantity, Uncertainty};
pub use result::{Finding, LabeledQuantity, TaskError, TaskErrorKind, TaskOutcome, TaskOutput, TaskResult};
pub use sinks::{SinksTask, SoilManagement};
pub use trade::{AccountKind, AvoidedParameters, MrioSource, ProductPrice, TradeTask};
pub use uncertainty::{TestFunction, UncertainFactor, UncertaintyTask};

/// The JSON Schema of a [`Plan`], generated from the Rust types.
pub fn plan_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Plan)).expect("a generated schema always serialises")
}

/// The JSON Schema of a [`TaskResult`].
pub fn task_result_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(TaskResult)).expect("a generated schema always serialises")
}
