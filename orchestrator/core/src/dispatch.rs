//! The one way tasks reach agents. A planner or run never knows where an agent runs: it holds an
//! [`AgentHandle`] per agent kind: in-process ractor actors ([`LocalAgent`], the embedded mode) or
//! workers behind Redis Streams (the cluster crate's `RedisAgent`).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use cb_agent_runtime::AgentMsg;
use cb_protocol::{AgentKind, Task, TaskResult};
use ractor::{ActorRef, rpc::CallResult};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Why a task could not be delivered or answered (as opposed to a task that ran and failed,
/// which comes back as a failed [`TaskResult`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DispatchError {
    #[error("no {0} agent is available")]
    NoAgent(AgentKind),
    #[error("the {agent} agent did not answer task {task} within {seconds} s")]
    Timeout {
        agent: AgentKind,
        task: String,
        seconds: u64,
    },
    #[error("the {agent} agent stopped before answering task {task}: {reason}")]
    AgentStopped {
        agent: AgentKind,
        task: String,
        reason: String,
    },
}

/// A task's result and who produced it on which attempt (for the decision log).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub result: TaskResult,
    /// `local:<kind>` in process, else the worker's consumer name.
    pub worker: String,
    pub attempt: u32,
}

/// Something that runs tasks of one agent kind, wherever it lives.
pub trait AgentHandle: Send + Sync {
    fn kind(&self) -> AgentKind;
    /// Runs `task` of run `run_id` (the pair is the task's idempotency key across processes).
    fn dispatch(&self, run_id: &str, task: Task) -> BoxFuture<Result<Delivered, DispatchError>>;
}

/// An agent running as an actor in this process.
pub struct LocalAgent {
    pub kind: AgentKind,
    pub actor: ActorRef<AgentMsg>,
    pub timeout: Duration,
}

impl AgentHandle for LocalAgent {
    fn kind(&self) -> AgentKind {
        self.kind
    }

    fn dispatch(&self, _run_id: &str, task: Task) -> BoxFuture<Result<Delivered, DispatchError>> {
        let actor = self.actor.clone();
        let (timeout, agent) = (self.timeout, self.kind);
        Box::pin(async move {
            let id = task.id.0.clone();
            let stopped = |reason: String| DispatchError::AgentStopped {
                agent,
                task: id.clone(),
                reason,
            };
            match actor
                .call(|reply| AgentMsg::Run(task, reply), Some(timeout))
                .await
            {
                Ok(CallResult::Success(result)) => Ok(Delivered {
                    result,
                    worker: format!("local:{agent}"),
                    attempt: 1,
                }),
                Ok(CallResult::Timeout) => Err(DispatchError::Timeout {
                    agent,
                    task: id.clone(),
                    seconds: timeout.as_secs(),
                }),
                Ok(CallResult::SenderError) => Err(stopped("it failed while running the task".into())),
                Err(e) => Err(stopped(e.to_string())),
            }
        })
    }
}

/// The agents a run can use, by kind. Shared, so a supervisor can swap in a restarted agent.
#[derive(Clone, Default)]
pub struct AgentDirectory {
    handles: Arc<RwLock<HashMap<AgentKind, Arc<dyn AgentHandle>>>>,
}

impl AgentDirectory {
    pub fn register(&self, handle: Arc<dyn AgentHandle>) {
        let mut map = self.handles.write().unwrap_or_else(|p| p.into_inner());
        map.insert(handle.kind(), handle);
    }

    pub fn get(&self, kind: AgentKind) -> Option<Arc<dyn AgentHandle>> {
        let map = self.handles.read().unwrap_or_else(|p| p.into_inner());
        map.get(&kind).cloned()
    }

    /// Sends a task to the agent of its kind.
    pub async fn dispatch(&self, run_id: &str, task: Task) -> Result<Delivered, DispatchError> {
        let kind = task.agent();
        let handle = self.get(kind).ok_or(DispatchError::NoAgent(kind))?;
        handle.dispatch(run_id, task).await
    }
}
