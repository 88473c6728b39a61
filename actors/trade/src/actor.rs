//! The trade agent as a ractor actor: the shared [`AgentActor`] running [`TradeAgent`].

use cb_agent_runtime::{Agent, AgentActor, wrong_agent};
use cb_protocol::{AgentKind, TaskError, TaskOutput, TaskSpec};

use crate::agent::TradeAgent;

/// The trade agent's actor.
pub type TradeActor = AgentActor<TradeAgent>;

impl Agent for TradeAgent {
    const KIND: AgentKind = AgentKind::Trade;

    fn run(&mut self, task: &TaskSpec) -> Result<TaskOutput, TaskError> {
        match task {
            TaskSpec::Trade(t) => TradeAgent::run(self, t),
            other => Err(wrong_agent(Self::KIND, other)),
        }
    }
}
