//! The thin ractor wrapper: a message in, [`TradeAgent::run`] on a blocking thread, a
//! [`TaskResult`] back. The maths never sees the actor.

use std::sync::{Arc, Mutex};

use cb_protocol::{AgentKind, Task, TaskError, TaskErrorKind, TaskOutcome, TaskResult, TaskSpec};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::agent::TradeAgent;

/// Messages the trade actor understands.
pub enum TradeMsg {
    /// Run a task and reply with its result.
    Run(Task, RpcReplyPort<TaskResult>),
}

/// The trade agent as a ractor actor.
pub struct TradeActor;

impl Actor for TradeActor {
    type Msg = TradeMsg;
    type State = Arc<Mutex<TradeAgent>>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _args: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(Arc::new(Mutex::new(TradeAgent::new())))
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let TradeMsg::Run(task, reply) = message;
        let agent = state.clone();
        let task_id = task.id.clone();
        let outcome = match task.spec {
            TaskSpec::Trade(params) => {
                // The engine is CPU-bound: keep it off the async threads.
                let joined = tokio::task::spawn_blocking(move || {
                    let mut agent = agent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    agent.run(&params)
                })
                .await;
                match joined {
                    Ok(Ok(output)) => TaskOutcome::Completed(output),
                    Ok(Err(e)) => TaskOutcome::Failed(e),
                    Err(e) => TaskOutcome::Failed(TaskError::new(
                        TaskErrorKind::Internal,
                        format!("the trade agent failed while running the task: {e}"),
                    )),
                }
            }
        };
        // The caller may have gone away (timeout); that is not the actor's failure.
        let _ = reply.send(TaskResult {
            task_id,
            agent: AgentKind::Trade,
            outcome,
        });
        Ok(())
    }
}
