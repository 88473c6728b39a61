use std::collections::HashMap;
use std::fmt;

use petgraph::graph::DiGraph;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::factory::FactoryTask;
use crate::lca::LcaTask;
use crate::sinks::SinksTask;
use crate::trade::TradeTask;
use crate::uncertainty::UncertaintyTask;

/// The kinds of agent a task can be sent to. Each later agent issue adds its kind here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// Trade carbon transfer: multi-regional input-output analysis and national CO2 accounts.
    Trade,
    /// Life-cycle assessment and the EU CBAM.
    Lca,
    /// Natural sinks: IPCC AFOLU accounting for forests, soils, land-use change and harvested wood.
    Sinks,
    /// Factory simulation and optimal operation of industrial plants.
    Factory,
    /// Uncertainty: propagation, global sensitivity and the pedigree matrix.
    Uncertainty,
}

impl AgentKind {
    pub const ALL: [AgentKind; 5] = [
        AgentKind::Trade,
        AgentKind::Lca,
        AgentKind::Sinks,
        AgentKind::Factory,
        AgentKind::Uncertainty,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Trade => "trade",
            AgentKind::Lca => "lca",
            AgentKind::Sinks => "sinks",
            AgentKind::Factory => "factory",
            AgentKind::Uncertainty => "uncertainty",
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task identifier, unique within its plan: lowercase letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct TaskId(#[schemars(regex(pattern = r"^[a-z0-9][a-z0-9_-]{0,63}$"))] pub String);

impl TaskId {
    pub fn new(id: impl Into<String>) -> Self {
        TaskId(id.into())
    }

    fn is_well_formed(&self) -> bool {
        let b = self.0.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a task asks of which agent: the agent kind and its typed parameters, together, so a task
/// can never carry parameters of the wrong agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "agent", content = "params", rename_all = "snake_case")]
pub enum TaskSpec {
    Trade(TradeTask),
    Lca(LcaTask),
    Sinks(SinksTask),
    Factory(FactoryTask),
    Uncertainty(UncertaintyTask),
}

impl TaskSpec {
    /// The files on disk the task reads, by parameter name: an MRIO's path, an inventory
    /// database other than the bundled `uslci`. A server confines these to its data roots
    /// before an agent opens them.
    pub fn files_mut(&mut self) -> Vec<(&'static str, &mut String)> {
        match self {
            TaskSpec::Trade(t) => t
                .mrio_mut()
                .map(|m| ("mrio.path", &mut m.path))
                .into_iter()
                .collect(),
            TaskSpec::Lca(crate::lca::LcaTask::Footprint { database, .. })
                if !database.eq_ignore_ascii_case(crate::lca::BUNDLED_DATABASE) =>
            {
                vec![("database", database)]
            }
            _ => Vec::new(),
        }
    }

    pub fn agent(&self) -> AgentKind {
        match self {
            TaskSpec::Trade(_) => AgentKind::Trade,
            TaskSpec::Lca(_) => AgentKind::Lca,
            TaskSpec::Sinks(_) => AgentKind::Sinks,
            TaskSpec::Factory(_) => AgentKind::Factory,
            TaskSpec::Uncertainty(_) => AgentKind::Uncertainty,
        }
    }
}

/// One unit of work for one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    pub id: TaskId,
    /// Tasks whose results must exist before this one runs.
    #[serde(default)]
    pub depends_on: Vec<TaskId>,
    #[serde(flatten)]
    pub spec: TaskSpec,
}

impl Task {
    pub fn new(id: impl Into<String>, spec: TaskSpec) -> Self {
        Task {
            id: TaskId::new(id),
            depends_on: Vec::new(),
            spec,
        }
    }

    pub fn agent(&self) -> AgentKind {
        self.spec.agent()
    }
}

/// A plan: the question it answers, who planned it, and a DAG of tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    pub question: String,
    /// Which planner made the plan, e.g. `rules` or `llm:<model>`.
    pub planner: String,
    /// The intent the planner recognised, in words (shown to the user).
    pub intent: String,
    #[schemars(length(min = 1, max = 32))]
    pub tasks: Vec<Task>,
}

/// Why a plan cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("the plan has no tasks")]
    Empty,
    #[error("the plan has {0} tasks; at most {max} are allowed", max = crate::limits::MAX_TASKS_PER_PLAN)]
    TooManyTasks(usize),
    #[error("task id {0:?} is malformed: use 1-64 lowercase letters, digits, '-' or '_'")]
    MalformedId(String),
    #[error("task id {0:?} appears more than once")]
    DuplicateId(String),
    #[error("task {task:?} depends on {missing:?}, which is not in the plan")]
    UnknownDependency { task: String, missing: String },
    #[error("the tasks {0:?} depend on each other in a cycle")]
    Cycle(Vec<String>),
    #[error("task {task:?}: parameter `{field}` {reason}")]
    InvalidParameter {
        task: String,
        field: String,
        reason: String,
    },
}

impl Plan {
    /// Checks what the JSON Schema cannot: ids are unique and well formed, every dependency
    /// exists, the dependencies form a DAG, and every task's parameters are in range.
    /// Returns the tasks in an order in which they can run (dependencies first).
    pub fn validate(&self) -> Result<Vec<&Task>, PlanError> {
        if self.tasks.is_empty() {
            return Err(PlanError::Empty);
        }
        if self.tasks.len() > crate::limits::MAX_TASKS_PER_PLAN {
            return Err(PlanError::TooManyTasks(self.tasks.len()));
        }
        let mut graph = DiGraph::<usize, ()>::new();
        let mut by_id = HashMap::new();
        for (i, task) in self.tasks.iter().enumerate() {
            if !task.id.is_well_formed() {
                return Err(PlanError::MalformedId(task.id.0.clone()));
            }
            if by_id.insert(&task.id, graph.add_node(i)).is_some() {
                return Err(PlanError::DuplicateId(task.id.0.clone()));
            }
        }
        for task in &self.tasks {
            for dep in &task.depends_on {
                let from = by_id.get(dep).ok_or_else(|| PlanError::UnknownDependency {
                    task: task.id.0.clone(),
                    missing: dep.0.clone(),
                })?;
                graph.add_edge(*from, by_id[&task.id], ());
            }
            let checked = match &task.spec {
                TaskSpec::Trade(t) => t.validate(),
                TaskSpec::Lca(t) => t.validate(),
                TaskSpec::Sinks(t) => t.validate(),
                TaskSpec::Factory(t) => t.validate(),
                TaskSpec::Uncertainty(t) => t.validate(),
            };
            checked.map_err(|(field, reason)| PlanError::InvalidParameter {
                task: task.id.0.clone(),
                field: field.to_string(),
                reason,
            })?;
        }
        match petgraph::algo::toposort(&graph, None) {
            Ok(order) => Ok(order.into_iter().map(|n| &self.tasks[graph[n]]).collect()),
            Err(_) => {
                let cyclic = petgraph::algo::tarjan_scc(&graph)
                    .into_iter()
                    .find(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
                    .unwrap_or_default();
                Err(PlanError::Cycle(
                    cyclic
                        .into_iter()
                        .map(|n| self.tasks[graph[n]].id.0.clone())
                        .collect(),
                ))
            }
        }
    }
}
