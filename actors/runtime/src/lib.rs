//! The thin actor wrapper shared by every agent: a [`AgentMsg::Run`] message in, the agent's
//! synchronous [`Agent::run`] on a blocking thread (engines are CPU-bound), a [`TaskResult`]
//! back. A task for another agent kind, or a panic inside the agent, becomes a failed result;
//! the actor itself keeps running. [`cli`] holds what every agent's command line shares (a
//! spinner, the "Checks:" list).
//!
//! It imports the protocol only, never an agent or the orchestrator's crates.

pub mod bounded;
pub mod cli;
pub mod roots;

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use cb_protocol::{AgentKind, Task, TaskError, TaskErrorKind, TaskOutcome, TaskOutput, TaskResult, TaskSpec};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

/// An agent: typed task parameters in, Quantities and a graph fragment out.
pub trait Agent: Send + 'static {
    const KIND: AgentKind;
    fn run(&mut self, task: &TaskSpec) -> Result<TaskOutput, TaskError>;
}

/// Messages every agent actor understands.
pub enum AgentMsg {
    /// Run a task and reply with its result.
    Run(Task, RpcReplyPort<TaskResult>),
}

/// The actor that runs agent `A`; a served one reads files only under its data roots.
pub struct AgentActor<A> {
    roots: Option<Arc<roots::DataRoots>>,
    agent: PhantomData<fn() -> A>,
}

impl<A> AgentActor<A> {
    /// An agent that reads any path a task names (the user's own command line).
    pub fn new() -> Self {
        AgentActor {
            roots: None,
            agent: PhantomData,
        }
    }

    /// An agent that reads only below `roots` (a server's or a worker's).
    pub fn confined(roots: Option<Arc<roots::DataRoots>>) -> Self {
        AgentActor {
            roots,
            agent: PhantomData,
        }
    }
}

impl<A> Default for AgentActor<A> {
    fn default() -> Self {
        Self::new()
    }
}

/// The error for a task sent to the wrong kind of agent.
pub fn wrong_agent(expected: AgentKind, task: &TaskSpec) -> TaskError {
    TaskError::new(
        TaskErrorKind::InvalidInput,
        format!("a {} task was sent to the {expected} agent", task.agent()),
    )
}

impl<A: Agent> Actor for AgentActor<A> {
    type Msg = AgentMsg;
    type State = Arc<Mutex<A>>;
    type Arguments = A;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        agent: A,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(Arc::new(Mutex::new(agent)))
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let AgentMsg::Run(mut task, reply) = message;
        let agent = state.clone();
        let confined = match &self.roots {
            Some(roots) => roots.confine(&mut task.spec).map_err(TaskError::from),
            None => Ok(()),
        };
        let task_id = task.id.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut agent = agent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if task.agent() != A::KIND {
                return Err(wrong_agent(A::KIND, &task.spec));
            }
            confined?;
            agent.run(&task.spec)
        })
        .await;
        let outcome = match joined {
            Ok(Ok(output)) => TaskOutcome::Completed(output),
            Ok(Err(e)) => TaskOutcome::Failed(e),
            Err(e) => TaskOutcome::Failed(TaskError::new(
                TaskErrorKind::Internal,
                format!("the {} agent failed while running the task: {e}", A::KIND),
            )),
        };
        // The caller may have gone away (timeout); that is not the actor's failure.
        let _ = reply.send(TaskResult {
            task_id,
            agent: A::KIND,
            outcome,
        });
        Ok(())
    }
}
