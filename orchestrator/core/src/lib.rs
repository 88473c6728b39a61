//! Carbon Butler's orchestrator core: a question's run from plan to answer.
//!
//! It owns the orchestrator and run actors ([`orchestrator`]: plan → execute → finish, the
//! embedded agents and their supervision), the one way tasks reach agents ([`dispatch`]:
//! `AgentDirectory`), answer composition ([`answer`], its sentences in the question's language from `cb_planner::templates`), the check on LLM-written prose
//! ([`prose`]), the local run journal ([`journal`]), and the run state and its stores ([`runs`]),
//! with the traits a cluster implements to carry them ([`runs::RunBackend`], [`operations`]).
//! It never does accounting maths (agents do) and never speaks HTTP or Redis: it must not import
//! the cluster, the server or the binary, nor axum or redis.

pub mod answer;
pub mod dispatch;
pub mod journal;
pub mod operations;
pub mod orchestrator;
pub mod prose;
pub mod runs;

pub use answer::Answer;
pub use cb_agent_runtime::roots::DataRoots;
pub use orchestrator::{AskError, AskRequest, Embedded, OrchestratorArgs, RunOutcome};
