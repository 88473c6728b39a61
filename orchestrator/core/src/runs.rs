//! Runs as the HTTP API and the cluster see them: their state, their progress events, and where
//! both are kept — in memory (embedded `serve`) or in a shared [`RunBackend`] (the cluster's
//! Redis store), behind one [`RunStore`].

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cb_protocol::{AgentKind, Plan};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use cb_planner::{MrioVocabulary, PlanningAttempt};

use crate::answer::Answer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Accepted,
    Planning,
    Running,
    Done,
    Failed,
}

impl RunStatus {
    pub fn is_final(self) -> bool {
        matches!(self, RunStatus::Done | RunStatus::Failed)
    }
}

/// What a run may use besides its question (kept so a resumed run plans with the same facts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunContext {
    #[serde(default)]
    pub mrio: Option<MrioVocabulary>,
    #[serde(default)]
    pub lci: Option<String>,
}

/// A run as stored and served by `GET /v1/runs/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunState {
    pub run_id: String,
    pub question: String,
    pub status: RunStatus,
    /// The name of the token that asked (when the API requires tokens).
    #[serde(default)]
    pub owner: Option<String>,
    pub created_unix_ms: u64,
    pub updated_unix_ms: u64,
    #[serde(default)]
    pub context: RunContext,
    #[serde(default)]
    pub plan: Option<Plan>,
    /// Every planning and writing attempt, in order.
    #[serde(default)]
    pub planning: Vec<PlanningAttempt>,
    #[serde(default)]
    pub answer: Option<Answer>,
    #[serde(default)]
    pub error: Option<String>,
    /// The run's trace (32 hex digits): every span of the run, in every process, and every entry
    /// of its decision log carry it.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// The W3C `traceparent` of the run's span, so that a server resuming the run continues the
    /// same trace.
    #[serde(default)]
    pub traceparent: Option<String>,
}

impl RunState {
    pub fn new(run_id: String, question: String, context: RunContext) -> Self {
        let now = now_ms();
        RunState {
            run_id,
            question,
            status: RunStatus::Accepted,
            owner: None,
            created_unix_ms: now,
            updated_unix_ms: now,
            context,
            plan: None,
            planning: Vec::new(),
            answer: None,
            error: None,
            trace_id: None,
            traceparent: None,
        }
    }
}

/// A line of the run list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunSummary {
    pub run_id: String,
    pub question: String,
    pub status: RunStatus,
    #[serde(default)]
    pub owner: Option<String>,
    pub created_unix_ms: u64,
}

/// A task in the `planned` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedTask {
    pub id: String,
    pub agent: AgentKind,
    pub depends_on: Vec<String>,
}

/// Progress of a run, as sent on `GET /v1/runs/{id}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Accepted {
        question: String,
    },
    PlanRejected {
        planner: String,
        error: String,
    },
    Planned {
        planner: String,
        intent: String,
        tasks: Vec<PlannedTask>,
    },
    TaskStarted {
        task: String,
        agent: AgentKind,
    },
    TaskFinished {
        task: String,
        agent: AgentKind,
        /// `completed` or `failed`.
        status: String,
        #[serde(default)]
        error: Option<String>,
        /// Who answered (`local:<kind>` or a worker's consumer) and on which attempt.
        #[serde(default)]
        worker: Option<String>,
        #[serde(default)]
        attempt: Option<u32>,
        /// The result itself, for the decision log in this process (not stored with the events).
        #[serde(skip)]
        #[schemars(skip)]
        result: Option<Box<cb_protocol::TaskResult>>,
    },
    Answer {
        text: String,
    },
    Failed {
        error: String,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Accepted { .. } => "accepted",
            EventKind::PlanRejected { .. } => "plan_rejected",
            EventKind::Planned { .. } => "planned",
            EventKind::TaskStarted { .. } => "task_started",
            EventKind::TaskFinished { .. } => "task_finished",
            EventKind::Answer { .. } => "answer",
            EventKind::Failed { .. } => "failed",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self, EventKind::Answer { .. } | EventKind::Failed { .. })
    }
}

/// A stored event with its cursor (pass it back to read what follows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunEvent {
    pub id: String,
    pub at_unix_ms: u64,
    #[serde(flatten)]
    pub event: EventKind,
}

/// A run store failed (Redis unreachable, a corrupt record, …); displays as its cause.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StoreError(pub Box<dyn std::error::Error + Send + Sync>);

/// A store shared by every server (the cluster's Redis store implements it).
#[async_trait::async_trait]
pub trait RunBackend: Send + Sync {
    async fn save(&self, state: &RunState) -> Result<(), StoreError>;
    async fn get(&self, run_id: &str) -> Result<Option<RunState>, StoreError>;
    /// The most recent runs, newest first.
    async fn list(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError>;
    async fn push_event(&self, run_id: &str, event: EventKind) -> Result<(), StoreError>;
    /// Events after the cursor `after` (`None`: from the start), waiting up to `wait` for one.
    async fn events(
        &self,
        run_id: &str,
        after: Option<&str>,
        wait: Duration,
    ) -> Result<Vec<RunEvent>, StoreError>;
    /// Runs accepted and not finished.
    async fn active(&self) -> Result<Vec<String>, StoreError>;
    async fn active_count(&self) -> Result<usize, StoreError>;
    /// Takes (or renews) the right to drive a run for `ttl`: its fencing token (which changes
    /// only when another owner takes the run), or `None` if another server holds it.
    async fn take_lease(&self, run_id: &str, owner: &str, ttl: Duration) -> Result<Option<u64>, StoreError>;
}

/// Where runs live.
#[derive(Clone)]
pub enum RunStore {
    Memory(MemoryStore),
    Shared(Arc<dyn RunBackend>),
}

impl RunStore {
    pub async fn save(&self, state: &RunState) -> Result<(), StoreError> {
        match self {
            RunStore::Memory(m) => {
                m.save(state);
                Ok(())
            }
            RunStore::Shared(r) => r.save(state).await,
        }
    }

    pub async fn get(&self, run_id: &str) -> Result<Option<RunState>, StoreError> {
        match self {
            RunStore::Memory(m) => Ok(m.get(run_id)),
            RunStore::Shared(r) => r.get(run_id).await,
        }
    }

    /// The most recent runs, newest first.
    pub async fn list(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        match self {
            RunStore::Memory(m) => Ok(m.list(limit)),
            RunStore::Shared(r) => r.list(limit).await,
        }
    }

    pub async fn push_event(&self, run_id: &str, event: EventKind) -> Result<(), StoreError> {
        match self {
            RunStore::Memory(m) => {
                m.push_event(run_id, event);
                Ok(())
            }
            RunStore::Shared(r) => r.push_event(run_id, event).await,
        }
    }

    /// Events after the cursor `after` (`None`: from the start), waiting up to `wait` for one.
    pub async fn events(
        &self,
        run_id: &str,
        after: Option<&str>,
        wait: Duration,
    ) -> Result<Vec<RunEvent>, StoreError> {
        match self {
            RunStore::Memory(m) => Ok(m.events(run_id, after, wait).await),
            RunStore::Shared(r) => r.events(run_id, after, wait).await,
        }
    }

    /// Runs accepted and not finished.
    pub async fn active(&self) -> Result<Vec<String>, StoreError> {
        match self {
            RunStore::Memory(m) => Ok(m.active()),
            RunStore::Shared(r) => r.active().await,
        }
    }

    pub async fn active_count(&self) -> Result<usize, StoreError> {
        match self {
            RunStore::Memory(m) => Ok(m.active().len()),
            RunStore::Shared(r) => r.active_count().await,
        }
    }

    /// Takes (or renews) the right to drive a run for `ttl`: its fencing token, or `None` if
    /// another server holds it. One process owns a memory store: no fence.
    pub async fn take_lease(
        &self,
        run_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        match self {
            RunStore::Memory(_) => Ok(Some(0)),
            RunStore::Shared(r) => r.take_lease(run_id, owner, ttl).await,
        }
    }
}

#[derive(Default)]
struct MemoryRun {
    state: Option<RunState>,
    events: Vec<RunEvent>,
}

/// Runs in this process only (embedded `serve`).
#[derive(Clone, Default)]
pub struct MemoryStore {
    runs: Arc<Mutex<BTreeMap<String, MemoryRun>>>,
    active: Arc<Mutex<HashSet<String>>>,
    notify: Arc<Notify>,
}

/// Finished runs a memory store keeps; past it the oldest finished go first (a long-lived
/// embedded server's memory stays bounded).
pub const MAX_MEMORY_RUNS: usize = 10_000;

impl MemoryStore {
    fn save(&self, state: &RunState) {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.entry(state.run_id.clone()).or_default().state = Some(state.clone());
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if state.status.is_final() {
            active.remove(&state.run_id);
        } else {
            active.insert(state.run_id.clone());
        }
        // Run ids begin with their creation time, so the map's order is oldest first.
        while runs.len() > MAX_MEMORY_RUNS {
            let Some(oldest) = runs.keys().find(|id| !active.contains(*id)).cloned() else {
                break;
            };
            runs.remove(&oldest);
        }
    }

    fn get(&self, run_id: &str) -> Option<RunState> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.get(run_id).and_then(|r| r.state.clone())
    }

    fn list(&self, limit: usize) -> Vec<RunSummary> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<RunSummary> = runs
            .values()
            .filter_map(|r| r.state.as_ref())
            .map(summary)
            .collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.created_unix_ms));
        all.truncate(limit);
        all
    }

    fn push_event(&self, run_id: &str, event: EventKind) {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let run = runs.entry(run_id.to_string()).or_default();
        let id = (run.events.len() + 1).to_string();
        run.events.push(RunEvent {
            id,
            at_unix_ms: now_ms(),
            event,
        });
        drop(runs);
        self.notify.notify_waiters();
    }

    async fn events(&self, run_id: &str, after: Option<&str>, wait: Duration) -> Vec<RunEvent> {
        let from = after.and_then(|a| a.parse::<usize>().ok()).unwrap_or(0);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.notify.notified();
            let found: Vec<RunEvent> = {
                let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
                runs.get(run_id)
                    .map(|r| r.events.iter().skip(from).cloned().collect())
                    .unwrap_or_default()
            };
            if !found.is_empty() || tokio::time::Instant::now() >= deadline {
                return found;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    fn active(&self) -> Vec<String> {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

pub fn summary(state: &RunState) -> RunSummary {
    RunSummary {
        run_id: state.run_id.clone(),
        question: state.question.clone(),
        status: state.status,
        owner: state.owner.clone(),
        created_unix_ms: state.created_unix_ms,
    }
}

pub fn now_ms() -> u64 {
    crate::journal::now_ms() as u64
}
