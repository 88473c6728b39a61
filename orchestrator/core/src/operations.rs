//! What a server sees of a cluster, whatever carries it: live workers and draining
//! ([`WorkerRegistry`]), and how much work waits per agent kind ([`TaskBacklog`]). The cluster's
//! Redis store and task queue implement these; the embedded mode has neither.

use cb_protocol::AgentKind;

use crate::runs::StoreError;

/// The workers of a cluster as they announce themselves.
#[async_trait::async_trait]
pub trait WorkerRegistry: Send + Sync {
    /// Whether the shared store answers.
    async fn ping(&self) -> bool;
    /// The live workers, each as it announced itself (name, agent kinds, state).
    async fn workers(&self) -> Result<Vec<serde_json::Value>, StoreError>;
    /// Asks the worker `name` to finish its tasks and stop.
    async fn request_drain(&self, name: &str) -> Result<(), StoreError>;
}

/// Tasks waiting or running, by agent kind.
#[async_trait::async_trait]
pub trait TaskBacklog: Send + Sync {
    /// Tasks outstanding (waiting plus in progress) per agent kind.
    async fn depth(&self) -> Result<Vec<(AgentKind, usize)>, StoreError>;
    /// Tasks given up on (in the dead-letter stream) per agent kind.
    async fn dead_letters(&self) -> Result<Vec<(AgentKind, usize)>, StoreError>;
    /// How many tasks of one kind may be outstanding before new questions are refused.
    fn max_pending(&self) -> usize;
}
