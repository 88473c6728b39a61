//! Carbon Butler's orchestrator: planning, dispatch to agents, answers, the run journal, and the
//! `cbutler` command line. It never does accounting maths itself: agents do.

pub mod answer;
pub mod audit;
pub mod audit_cli;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod cluster_cli;
pub mod dispatch;
pub mod factory_cli;
pub mod journal;
pub mod llm;
pub mod openapi;
pub mod orchestrator;
pub mod planner;
pub mod prose;
pub mod runs;
pub mod server;
pub mod service;
pub mod sinks_cli;
pub mod uncertainty_cli;
pub mod web;

pub use answer::Answer;
pub use orchestrator::{AskError, AskRequest, Embedded, OrchestratorArgs, RunOutcome};
