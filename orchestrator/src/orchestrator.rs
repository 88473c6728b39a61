//! The orchestrator actor, one run actor per question, and the agents they supervise.
//!
//! ```text
//! Orchestrator ──spawns, supervises──► TradeActor (restarted if it fails)
//!      │
//!      └──spawns per question──► Run ──dispatches via AgentDirectory──► agents
//! ```
//! The orchestrator plans (rule-based planner), a run dispatches the plan's tasks in dependency
//! order, merges the results' graph fragments, composes the answer and records the run.

use std::time::Duration;

use cb_agent_runtime::{Agent, AgentActor};
use cb_factory::agent::FactoryAgent;
use cb_graphs::{GraphError, SupplyChainGraph};
use cb_lca::agent::LcaAgent;
use cb_protocol::{AgentKind, Plan, TaskError, TaskErrorKind, TaskOutcome, TaskResult};
use cb_sinks::agent::SinksAgent;
use cb_trade::TradeAgent;
use cb_uncertainty::agent::UncertaintyAgent;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::task::JoinSet;

use crate::answer::{self, Answer};
use crate::dispatch::{AgentDirectory, LocalAgent};
use crate::journal::{self, Journal};
use crate::planner::{self, PlanContext, PlanningError};

/// A question and what the planner may use besides it.
#[derive(Debug, Clone)]
pub struct AskRequest {
    pub question: String,
    pub context: PlanContext,
}

/// A finished run: the answer and the supply-chain graph.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub answer: Answer,
    pub graph: SupplyChainGraph,
}

/// Why a question got no answer at all.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error(transparent)]
    Planning(#[from] PlanningError),
    #[error("the run stopped before it finished: {0}")]
    Stopped(String),
}

pub enum OrchestratorMsg {
    Ask(AskRequest, RpcReplyPort<Result<RunOutcome, AskError>>),
}

/// Settings of the orchestrator.
#[derive(Debug, Clone)]
pub struct OrchestratorArgs {
    /// Where finished runs are recorded; `None` records nothing.
    pub journal: Option<Journal>,
    /// How long one task may take.
    pub task_timeout: Duration,
}

pub struct Orchestrator;

pub struct OrchestratorState {
    agents: AgentDirectory,
    /// The agent actors this orchestrator supervises, by kind.
    children: Vec<(AgentKind, ActorCell)>,
    args: OrchestratorArgs,
}

/// Starts agent `A` as a supervised actor and registers it in the directory.
async fn start_agent<A: Agent>(
    agent: A,
    supervisor: ActorCell,
    agents: &AgentDirectory,
    timeout: Duration,
) -> Result<ActorCell, ActorProcessingErr> {
    let (actor, _) = Actor::spawn_linked(None, AgentActor::<A>::new(), agent, supervisor).await?;
    let cell = actor.get_cell();
    agents.register(std::sync::Arc::new(LocalAgent {
        kind: A::KIND,
        actor,
        timeout,
    }));
    Ok(cell)
}

/// Starts (or restarts) the in-process agent of one kind.
async fn start_kind(
    kind: AgentKind,
    supervisor: ActorCell,
    agents: &AgentDirectory,
    timeout: Duration,
) -> Result<ActorCell, ActorProcessingErr> {
    match kind {
        AgentKind::Trade => start_agent(TradeAgent::new(), supervisor, agents, timeout).await,
        AgentKind::Lca => start_agent(LcaAgent::new(), supervisor, agents, timeout).await,
        AgentKind::Sinks => start_agent(SinksAgent, supervisor, agents, timeout).await,
        AgentKind::Factory => start_agent(FactoryAgent, supervisor, agents, timeout).await,
        AgentKind::Uncertainty => start_agent(UncertaintyAgent, supervisor, agents, timeout).await,
    }
}

impl Actor for Orchestrator {
    type Msg = OrchestratorMsg;
    type State = OrchestratorState;
    type Arguments = OrchestratorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: OrchestratorArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let agents = AgentDirectory::default();
        let mut children = Vec::new();
        for kind in AgentKind::ALL {
            children.push((
                kind,
                start_kind(kind, myself.get_cell(), &agents, args.task_timeout).await?,
            ));
        }
        Ok(OrchestratorState {
            agents,
            children,
            args,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let OrchestratorMsg::Ask(request, reply) = message;
        let plan = match planner::plan(&request.question, &request.context) {
            Ok(plan) => plan,
            Err(e) => {
                let _ = reply.send(Err(AskError::Planning(e)));
                return Ok(());
            }
        };
        let run = RunArgs {
            run_id: journal::new_run_id(),
            plan,
            agents: state.agents.clone(),
            journal: state.args.journal.clone(),
            reply: Some(reply),
        };
        if let Err(e) = Actor::spawn_linked(None, Run, run, myself.get_cell()).await {
            // The reply port went with the arguments; the caller sees the run stop.
            tracing_warn(&format!("could not start a run: {e}"));
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let stopped = match &event {
            SupervisionEvent::ActorFailed(cell, _) | SupervisionEvent::ActorTerminated(cell, _, _) => state
                .children
                .iter()
                .position(|(_, c)| c.get_id() == cell.get_id()),
            _ => None,
        };
        if let Some(i) = stopped {
            let kind = state.children[i].0;
            if let SupervisionEvent::ActorFailed(_, err) = &event {
                tracing_warn(&format!("the {kind} agent failed ({err}); restarting it"));
            }
            // A failed restart leaves the old handle in place: its tasks then fail with a clear
            // "agent stopped" error instead of the orchestrator going down with it.
            match start_kind(kind, myself.get_cell(), &state.agents, state.args.task_timeout).await {
                Ok(cell) => state.children[i].1 = cell,
                Err(e) => tracing_warn(&format!("could not restart the {kind} agent: {e}")),
            }
            return Ok(());
        }
        if let SupervisionEvent::ActorFailed(_, err) = event {
            // A run failed; its caller has been told through the dropped reply port.
            tracing_warn(&format!("a run failed: {err}"));
        }
        Ok(())
    }
}

fn tracing_warn(msg: &str) {
    eprintln!("warning: {msg}");
}

/// One question's run.
pub struct Run;

pub struct RunArgs {
    run_id: String,
    plan: Plan,
    agents: AgentDirectory,
    journal: Option<Journal>,
    reply: Option<RpcReplyPort<Result<RunOutcome, AskError>>>,
}

impl Actor for Run {
    type Msg = ();
    type State = RunArgs;
    type Arguments = RunArgs;

    async fn pre_start(&self, _myself: ActorRef<()>, args: RunArgs) -> Result<RunArgs, ActorProcessingErr> {
        Ok(args)
    }

    async fn post_start(&self, myself: ActorRef<()>, state: &mut RunArgs) -> Result<(), ActorProcessingErr> {
        let results = execute(&state.plan, &state.agents).await;
        let outcome = finish(&state.run_id, &state.plan, results, state.journal.as_ref());
        if let Some(reply) = state.reply.take() {
            let _ = reply.send(Ok(outcome));
        }
        myself.stop(None);
        Ok(())
    }
}

/// Runs a validated plan: every task whose dependencies are done is dispatched at once; a task
/// whose dependency failed is not run and says so. Results come back in plan order.
pub async fn execute(plan: &Plan, agents: &AgentDirectory) -> Vec<TaskResult> {
    let order = match plan.validate() {
        Ok(order) => order.into_iter().cloned().collect::<Vec<_>>(),
        Err(e) => {
            return plan
                .tasks
                .iter()
                .map(|t| {
                    failed(
                        t,
                        TaskErrorKind::InvalidInput,
                        format!("the plan is invalid: {e}"),
                    )
                })
                .collect();
        }
    };
    let mut done: Vec<TaskResult> = Vec::new();
    let mut pending = order;
    while !pending.is_empty() {
        let is_done = |id: &cb_protocol::TaskId| done.iter().any(|r| &r.task_id == id);
        let (ready, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|t| t.depends_on.iter().all(&is_done));
        pending = rest;
        if ready.is_empty() {
            // Cannot happen for a validated DAG; never loop forever if it does.
            break;
        }
        let mut set = JoinSet::new();
        for task in ready {
            let failed_dep = task.depends_on.iter().find(|d| {
                done.iter()
                    .any(|r| &r.task_id == *d && matches!(r.outcome, TaskOutcome::Failed(_)))
            });
            if let Some(dep) = failed_dep {
                done.push(failed(
                    &task,
                    TaskErrorKind::Unavailable,
                    format!("not run: task {dep} failed"),
                ));
                continue;
            }
            let agents = agents.clone();
            set.spawn(async move {
                let fallback = task.clone();
                match agents.dispatch(task).await {
                    Ok(result) => result,
                    Err(e) => failed(&fallback, TaskErrorKind::Unavailable, e.to_string()),
                }
            });
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(result) => done.push(result),
                Err(e) => tracing_warn(&format!("a dispatch task ended abnormally: {e}")),
            }
        }
    }
    plan.tasks
        .iter()
        .map(|t| {
            done.iter()
                .find(|r| r.task_id == t.id)
                .cloned()
                .unwrap_or_else(|| failed(t, TaskErrorKind::Internal, "the task got no result".into()))
        })
        .collect()
}

fn failed(task: &cb_protocol::Task, kind: TaskErrorKind, message: String) -> TaskResult {
    TaskResult {
        task_id: task.id.clone(),
        agent: task.agent(),
        outcome: TaskOutcome::Failed(TaskError::new(kind, message)),
    }
}

/// Merges the graph, composes the answer and records the run.
fn finish(run_id: &str, plan: &Plan, results: Vec<TaskResult>, journal: Option<&Journal>) -> RunOutcome {
    let fragments = results.iter().filter_map(|r| r.output().map(|o| &o.graph));
    let (graph, graph_error): (SupplyChainGraph, Option<GraphError>) =
        match SupplyChainGraph::from_fragments(fragments) {
            Ok(g) => (g, None),
            Err(e) => (SupplyChainGraph::new(), Some(e)),
        };
    let mut answer = answer::compose(run_id, plan, &results);
    if let Some(e) = graph_error {
        answer
            .errors
            .push(format!("the supply-chain graph could not be assembled: {e}"));
    }
    if let Some(j) = journal
        && let Err(e) = j.record(&answer)
    {
        tracing_warn(&format!(
            "could not record run {run_id} in {}: {e}",
            j.dir().display()
        ));
    }
    RunOutcome { answer, graph }
}

/// The embedded mode: an orchestrator with in-process agents, ready for questions.
pub struct Embedded {
    orchestrator: ActorRef<OrchestratorMsg>,
    handle: tokio::task::JoinHandle<()>,
}

impl Embedded {
    pub async fn start(args: OrchestratorArgs) -> Result<Embedded, ractor::SpawnErr> {
        let (orchestrator, handle) = Actor::spawn(None, Orchestrator, args).await?;
        Ok(Embedded { orchestrator, handle })
    }

    /// Asks a question and waits for the answer.
    pub async fn ask(&self, request: AskRequest) -> Result<RunOutcome, AskError> {
        match self
            .orchestrator
            .call(|reply| OrchestratorMsg::Ask(request, reply), None)
            .await
        {
            Ok(ractor::rpc::CallResult::Success(result)) => result,
            Ok(_) => Err(AskError::Stopped("the run ended without an answer".into())),
            Err(e) => Err(AskError::Stopped(e.to_string())),
        }
    }

    pub async fn shutdown(self) {
        self.orchestrator.stop(None);
        let _ = self.handle.await;
    }
}
