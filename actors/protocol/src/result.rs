use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::graph::GraphFragment;
use crate::plan::{AgentKind, TaskId};
use crate::quantity::Quantity;

/// A quantity with what it is a quantity of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LabeledQuantity {
    /// Machine name of the measure, e.g. `consumption_co2`, `D_cba_reg`, `net_transfer`.
    pub measure: String,
    /// Human label, e.g. `Consumption-based CO2 of China (CHN), 2022`.
    pub label: String,
    /// What the number is about: region, year, stressor, sector, ...
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    pub quantity: Quantity,
}

/// What an agent produced for a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskOutput {
    pub quantities: Vec<LabeledQuantity>,
    #[serde(default)]
    pub graph: GraphFragment,
    /// Remarks a reader needs: checks made, assumptions, caveats.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Consistency checks made on this result.
    #[serde(default)]
    pub findings: Vec<Finding>,
}

/// A consistency check: what was compared, the numbers, the tolerance, and whether it passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Name of the check, e.g. `cba − pba = imp − exp`.
    pub check: String,
    /// What was compared, in words.
    pub compared: String,
    /// The numbers compared.
    pub values: BTreeMap<String, f64>,
    /// The tolerance, in words (e.g. `relative 1e-9`).
    pub tolerance: String,
    pub passed: bool,
}

impl Finding {
    pub fn new(
        check: impl Into<String>,
        compared: impl Into<String>,
        values: &[(&str, f64)],
        tolerance: impl Into<String>,
        passed: bool,
    ) -> Self {
        Finding {
            check: check.into(),
            compared: compared.into(),
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            tolerance: tolerance.into(),
            passed,
        }
    }
}

/// The broad reason a task failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskErrorKind {
    /// The parameters name something that does not exist (country, region, stressor, file).
    NotFound,
    /// The parameters or the data are invalid (singular matrix, malformed file, ...).
    InvalidInput,
    /// No agent of the task's kind is available.
    Unavailable,
    /// The agent failed for a reason of its own.
    Internal,
}

/// Why a task failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct TaskError {
    pub kind: TaskErrorKind,
    pub message: String,
}

impl TaskError {
    pub fn new(kind: TaskErrorKind, message: impl Into<String>) -> Self {
        TaskError {
            kind,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TaskOutcome {
    Completed(TaskOutput),
    Failed(TaskError),
}

/// An agent's answer to one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskResult {
    pub task_id: TaskId,
    pub agent: AgentKind,
    pub outcome: TaskOutcome,
}

impl TaskResult {
    pub fn output(&self) -> Option<&TaskOutput> {
        match &self.outcome {
            TaskOutcome::Completed(o) => Some(o),
            TaskOutcome::Failed(_) => None,
        }
    }
}
