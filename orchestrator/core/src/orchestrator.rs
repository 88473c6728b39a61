//! The orchestrator actor, one run actor per question, and the agents they supervise.
//!
//! ```text
//! Orchestrator ──spawns, supervises──► TradeActor (restarted if it fails)
//!      │
//!      └──spawns per question──► Run ──dispatches via AgentDirectory──► agents
//! ```
//! A run plans (rules, or an LLM checked and backed by the rules), dispatches the plan's tasks in
//! dependency order, merges the results' graph fragments, composes the answer and records the
//! run. [`answer_question`] is that path; the embedded `Run` actor and the server's
//! `RunService` (in the server crate) both go through [`plan_question`], [`execute`] and
//! [`finish`].

use std::sync::Arc;
use std::time::Duration;

use cb_agent_runtime::roots::DataRoots;
use cb_agent_runtime::{Agent, AgentActor, AgentMsg};
use cb_factory::agent::FactoryAgent;
use cb_graphs::{GraphError, SupplyChainGraph};
use cb_lca::agent::LcaAgent;
use cb_planner::openai::TokenBudget;
use cb_planner::{PlanContext, Planner, PlanningAttempt, PlanningError};
use cb_protocol::{AgentKind, Plan, TaskError, TaskErrorKind, TaskOutcome, TaskResult};
use cb_sinks::agent::SinksAgent;
use cb_telemetry::{
    self as telemetry, FutureExt as _, KeyValue, SpanKind, Status, TraceContextExt as _, attr,
};
use cb_trade::TradeAgent;
use cb_uncertainty::agent::UncertaintyAgent;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::task::JoinSet;

use crate::answer::{self, Answer};
use crate::dispatch::{AgentDirectory, LocalAgent};
use crate::journal::{self, Journal};
use crate::runs::{EventKind, PlannedTask};

/// Where a run reports its progress (the server turns these into stored events).
pub type Observer = Option<tokio::sync::mpsc::UnboundedSender<EventKind>>;

fn notify(observer: &Observer, event: EventKind) {
    if let Some(tx) = observer {
        let _ = tx.send(event);
    }
}

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
    /// The directory of the supervised agents (the embedded server dispatches through it).
    Agents(RpcReplyPort<AgentDirectory>),
}

/// Settings of the orchestrator.
#[derive(Debug, Clone)]
pub struct OrchestratorArgs {
    /// Where finished runs are recorded; `None` records nothing.
    pub journal: Option<Journal>,
    /// How long one task may take.
    pub task_timeout: Duration,
    pub planner: Planner,
    /// Input plus output tokens one run may spend on LLM calls.
    pub token_budget: u32,
    /// Where the agents may read files; `None` for the user's own command line (any path).
    pub data_roots: Option<Arc<DataRoots>>,
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
    args: &OrchestratorArgs,
) -> Result<ActorCell, ActorProcessingErr> {
    let timeout = args.task_timeout;
    let actor = AgentActor::<A>::confined(args.data_roots.clone());
    let (actor, _) = Actor::spawn_linked(None, actor, agent, supervisor).await?;
    let cell = actor.get_cell();
    agents.register(std::sync::Arc::new(LocalAgent {
        kind: A::KIND,
        actor,
        timeout,
    }));
    Ok(cell)
}

/// Starts an unsupervised agent actor of one kind (a worker's consumer owns and restarts it).
pub async fn spawn_agent(
    kind: AgentKind,
    roots: Option<Arc<DataRoots>>,
) -> Result<ActorRef<AgentMsg>, ractor::SpawnErr> {
    async fn one<A: Agent>(
        agent: A,
        roots: Option<Arc<DataRoots>>,
    ) -> Result<ActorRef<AgentMsg>, ractor::SpawnErr> {
        Actor::spawn(None, AgentActor::<A>::confined(roots), agent)
            .await
            .map(|(a, _)| a)
    }
    match kind {
        AgentKind::Trade => one(TradeAgent::new(), roots).await,
        AgentKind::Lca => one(LcaAgent::new(), roots).await,
        AgentKind::Sinks => one(SinksAgent, roots).await,
        AgentKind::Factory => one(FactoryAgent, roots).await,
        AgentKind::Uncertainty => one(UncertaintyAgent, roots).await,
    }
}

/// Starts (or restarts) the in-process agent of one kind.
async fn start_kind(
    kind: AgentKind,
    supervisor: ActorCell,
    agents: &AgentDirectory,
    args: &OrchestratorArgs,
) -> Result<ActorCell, ActorProcessingErr> {
    match kind {
        AgentKind::Trade => start_agent(TradeAgent::new(), supervisor, agents, args).await,
        AgentKind::Lca => start_agent(LcaAgent::new(), supervisor, agents, args).await,
        AgentKind::Sinks => start_agent(SinksAgent, supervisor, agents, args).await,
        AgentKind::Factory => start_agent(FactoryAgent, supervisor, agents, args).await,
        AgentKind::Uncertainty => start_agent(UncertaintyAgent, supervisor, agents, args).await,
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
            children.push((kind, start_kind(kind, myself.get_cell(), &agents, &args).await?));
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
        let (request, reply) = match message {
            OrchestratorMsg::Ask(request, reply) => (request, reply),
            OrchestratorMsg::Agents(reply) => {
                let _ = reply.send(state.agents.clone());
                return Ok(());
            }
        };
        let run = RunArgs {
            run_id: journal::new_run_id(),
            request,
            planner: state.args.planner.clone(),
            token_budget: state.args.token_budget,
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
            match start_kind(kind, myself.get_cell(), &state.agents, &state.args).await {
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
    request: AskRequest,
    planner: Planner,
    token_budget: u32,
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
        let outcome = answer_question(
            &state.run_id,
            &state.request,
            &state.planner,
            state.token_budget,
            &state.agents,
            &None,
        )
        .await;
        if let (Ok(outcome), Some(j)) = (&outcome, &state.journal)
            && let Err(e) = j.record(&outcome.answer)
        {
            tracing_warn(&format!(
                "could not record run {} in {}: {e}",
                state.run_id,
                j.dir().display()
            ));
        }
        if let Some(reply) = state.reply.take() {
            let _ = reply.send(outcome);
        }
        myself.stop(None);
        Ok(())
    }
}

/// Plans a question: the planner's plan (every attempt recorded), announced to the observer.
pub async fn plan_question(
    request: &AskRequest,
    planner: &Planner,
    budget: &mut TokenBudget,
    attempts: &mut Vec<PlanningAttempt>,
    observer: &Observer,
) -> Result<Plan, PlanningError> {
    let span = telemetry::start("plan", SpanKind::Internal, Vec::new());
    let planned = planner
        .plan(&request.question, &request.context, budget, attempts)
        .with_context(span.clone())
        .await;
    match &planned {
        Ok(plan) => span
            .span()
            .set_attribute(KeyValue::new(attr::PLANNER, plan.planner.clone())),
        Err(e) => span.span().set_status(Status::error(e.to_string())),
    }
    span.span().end();
    for a in attempts.iter().filter(|a| a.outcome != "accepted") {
        notify(
            observer,
            EventKind::PlanRejected {
                planner: a.planner.clone(),
                error: a.error.clone().unwrap_or_default(),
            },
        );
    }
    if let Ok(plan) = &planned {
        notify(observer, planned_event(plan));
    }
    planned
}

pub fn planned_event(plan: &Plan) -> EventKind {
    EventKind::Planned {
        planner: plan.planner.clone(),
        intent: plan.intent.clone(),
        tasks: plan
            .tasks
            .iter()
            .map(|t| PlannedTask {
                id: t.id.0.clone(),
                agent: t.agent(),
                depends_on: t.depends_on.iter().map(|d| d.0.clone()).collect(),
            })
            .collect(),
    }
}

/// The whole path of a question: plan, execute, compose (and, with an LLM, checked prose).
pub async fn answer_question(
    run_id: &str,
    request: &AskRequest,
    planner: &Planner,
    token_budget: u32,
    agents: &AgentDirectory,
    observer: &Observer,
) -> Result<RunOutcome, AskError> {
    let mut budget = TokenBudget::new(token_budget);
    let mut attempts = Vec::new();
    let plan = plan_question(request, planner, &mut budget, &mut attempts, observer).await?;
    let results = execute(run_id, &plan, agents, observer).await;
    Ok(finish(run_id, &plan, results, planner, &mut budget, attempts).await)
}

/// Runs a validated plan: every task whose dependencies are done is dispatched at once; a task
/// whose dependency failed is not run and says so. Results come back in plan order.
pub async fn execute(
    run_id: &str,
    plan: &Plan,
    agents: &AgentDirectory,
    observer: &Observer,
) -> Vec<TaskResult> {
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
            let run_id = run_id.to_string();
            notify(
                observer,
                EventKind::TaskStarted {
                    task: task.id.0.clone(),
                    agent: task.agent(),
                },
            );
            // The agent's span; a RedisAgent sends its context with the task to the worker.
            let span = telemetry::start(
                format!("invoke_agent {}", task.agent()),
                SpanKind::Client,
                vec![
                    KeyValue::new(attr::GEN_AI_OPERATION_NAME, "invoke_agent"),
                    KeyValue::new(attr::GEN_AI_AGENT_NAME, task.agent().to_string()),
                    KeyValue::new(attr::TASK_ID, task.id.0.clone()),
                    KeyValue::new(attr::RUN_ID, run_id.clone()),
                ],
            );
            let task_cx = span.clone();
            set.spawn(
                async move {
                    let fallback = task.clone();
                    let answered = match agents.dispatch(&run_id, task).await {
                        Ok(d) => (d.result, Some(d.worker), Some(d.attempt)),
                        Err(e) => (
                            failed(&fallback, TaskErrorKind::Unavailable, e.to_string()),
                            None,
                            None,
                        ),
                    };
                    let span = task_cx.span();
                    if let (Some(worker), Some(attempt)) = (&answered.1, answered.2) {
                        span.set_attribute(KeyValue::new(attr::WORKER, worker.clone()));
                        span.set_attribute(KeyValue::new(attr::ATTEMPT, i64::from(attempt)));
                    }
                    if let TaskOutcome::Failed(e) = &answered.0.outcome {
                        span.set_attribute(KeyValue::new(attr::ERROR_TYPE, format!("{:?}", e.kind)));
                        span.set_status(Status::error(e.message.clone()));
                    }
                    span.end();
                    answered
                }
                .with_context(span),
            );
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((result, worker, attempt)) => {
                    let error = match &result.outcome {
                        TaskOutcome::Failed(e) => Some(e.message.clone()),
                        TaskOutcome::Completed(_) => None,
                    };
                    notify(
                        observer,
                        EventKind::TaskFinished {
                            task: result.task_id.0.clone(),
                            agent: result.agent,
                            status: if error.is_some() { "failed" } else { "completed" }.into(),
                            error,
                            worker,
                            attempt,
                            result: Some(Box::new(result.clone())),
                        },
                    );
                    done.push(result)
                }
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

/// Merges the graph and composes the answer; with an LLM planner, its prose replaces the template
/// text only if every number in it is one of the results'.
pub async fn finish(
    run_id: &str,
    plan: &Plan,
    results: Vec<TaskResult>,
    planner: &Planner,
    budget: &mut TokenBudget,
    mut attempts: Vec<PlanningAttempt>,
) -> RunOutcome {
    let (graph, mut answer) = compose(run_id, plan, results);
    if let Some(client) = planner.llm()
        && client.config.prose
        && !answer.table.is_empty()
        && let Some(text) = crate::prose::write_prose(client, &answer, budget, &mut attempts)
            .with_context(telemetry::start("write_prose", SpanKind::Internal, Vec::new()))
            .await
    {
        answer.notes.push(format!(
            "The short answer was written by {} from the results and checked: every number in it is in the table.",
            client.config.model
        ));
        answer.text = text;
        answer.writer = format!("llm:{}", client.config.model);
    }
    answer.planning = attempts;
    RunOutcome { answer, graph }
}

/// The graph of a run's results and the template answer.
pub fn compose(run_id: &str, plan: &Plan, results: Vec<TaskResult>) -> (SupplyChainGraph, Answer) {
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
    (graph, answer)
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

    /// The supervised agents, for dispatching without the orchestrator's planner.
    pub async fn agents(&self) -> Result<AgentDirectory, AskError> {
        match self.orchestrator.call(OrchestratorMsg::Agents, None).await {
            Ok(ractor::rpc::CallResult::Success(agents)) => Ok(agents),
            Ok(_) => Err(AskError::Stopped("the orchestrator did not answer".into())),
            Err(e) => Err(AskError::Stopped(e.to_string())),
        }
    }

    pub async fn shutdown(self) {
        self.orchestrator.stop(None);
        let _ = self.handle.await;
    }
}
