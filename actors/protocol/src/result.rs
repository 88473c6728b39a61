use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::graph::GraphFragment;
use crate::plan::{AgentKind, TaskId};
use crate::quantity::Quantity;
use crate::text::Text;

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
    /// The label's sentence by key, so an answer can say it in the reader's language; `label`
    /// is its English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_text: Option<Text>,
}

impl LabeledQuantity {
    /// A quantity labelled by a sentence of `data/agent-text.csv`.
    pub fn new(measure: &str, label: Text, dimensions: &[(&str, &str)], quantity: Quantity) -> Self {
        LabeledQuantity {
            measure: measure.to_string(),
            label: label.english(),
            dimensions: dimensions
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            quantity,
            label_text: Some(label),
        }
    }

    /// The label in `lang` (see [`Text::render`]); the English label where it has no key.
    pub fn label_in(&self, lang: &str, value: &dyn Fn(&str) -> String) -> String {
        match &self.label_text {
            Some(t) => t.render(lang, value),
            None => self.label.clone(),
        }
    }
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
    /// The notes' sentences by key, so an answer can say them in the reader's language; `notes`
    /// holds their English (and any note written without a key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub note_texts: Vec<Text>,
}

impl TaskOutput {
    /// Adds a note written as a sentence of `data/agent-text.csv`.
    pub fn note(&mut self, text: Text) {
        self.notes.push(text.english());
        self.note_texts.push(text);
    }

    /// The notes in `lang`; a note without a key stays as written.
    pub fn notes_in(&self, lang: &str, value: &dyn Fn(&str) -> String) -> Vec<String> {
        self.notes
            .iter()
            .map(|n| match self.note_texts.iter().find(|t| t.english() == *n) {
                Some(t) => t.render(lang, value),
                None => n.clone(),
            })
            .collect()
    }
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
