//! Runs for the HTTP API: accept a question, drive its run to an answer in the background, keep
//! its state and events in the [`RunStore`], and resume unfinished runs after a restart. The same
//! plan → execute → finish path as `cbutler ask` ([`cb_core::orchestrator`]), with persistence
//! between the steps: a resumed run never re-plans a plan it already stored, and its tasks keep
//! their idempotency keys, so nothing runs twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cb_telemetry::{
    self as telemetry, Context, FutureExt as _, KeyValue, SpanKind, Status, TraceContextExt as _, attr,
};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use cb_audit::{AuditKey, AuditStore, RunAudit, result_body};
use cb_core::dispatch::AgentDirectory;
use cb_core::journal::{self, Journal};
use cb_core::operations::TaskBacklog;
use cb_core::orchestrator::{self, AskRequest};
use cb_core::runs::{EventKind, RunContext, RunState, RunStatus, RunStore, StoreError};
use cb_planner::openai::TokenBudget;
use cb_planner::{PlanContext, Planner, PlanningAttempt, rules::MAX_QUESTION_CHARS};

/// Settings of the run service.
#[derive(Clone)]
pub struct ServiceConfig {
    pub planner: Planner,
    pub token_budget: u32,
    /// Runs accepted and unfinished before new questions get "busy, retry after".
    pub max_active_runs: usize,
    /// Finished runs are also written here (the embedded server's local journal).
    pub journal: Option<Journal>,
    /// This server's name in run leases.
    pub owner: String,
    /// How long a run's lease lasts without renewal; a run whose server died is resumed by
    /// another after this.
    pub lease_ttl: Duration,
    /// Where decision logs go and the key that signs them (`None`: no log).
    pub audit: Option<(AuditStore, AuditKey)>,
    /// The folders a question's MRIO and inventory may come from; `None` (the user's own
    /// `cbutler ask`) reads any path.
    pub data_roots: Option<Arc<cb_core::DataRoots>>,
    /// What one token (or, without tokens, everyone together) may hold open on this server.
    pub quotas: Quotas,
}

/// Per-token limits of one server process. Without tokens every caller shares one quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Runs accepted by this server and not yet finished.
    pub runs_per_token: usize,
    /// Event streams open at once.
    pub streams_per_token: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            runs_per_token: 20,
            streams_per_token: 10,
        }
    }
}

/// How many of something each token holds now.
#[derive(Default)]
pub struct TokenCounts(Mutex<HashMap<String, usize>>);

/// One held unit of a token's quota, given back when dropped (a run finished, a stream closed,
/// a task panicked).
pub struct QuotaSlot {
    counts: Arc<TokenCounts>,
    token: String,
}

impl TokenCounts {
    /// Takes one unit for `token` if it holds fewer than `max`; the count it holds otherwise.
    pub fn acquire(self: &Arc<Self>, token: &str, max: usize) -> Result<QuotaSlot, usize> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let held = counts.entry(token.to_string()).or_default();
        if *held >= max {
            return Err(*held);
        }
        *held += 1;
        Ok(QuotaSlot {
            counts: self.clone(),
            token: token.to_string(),
        })
    }
}

impl Drop for QuotaSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.token) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.token);
            }
        }
    }
}

type SharedAudit = Option<Arc<tokio::sync::Mutex<RunAudit>>>;

async fn record(audit: &SharedAudit, kind: &str, body: serde_json::Value) {
    if let Some(a) = audit {
        // A failure is kept for the next entry's `log_gap` (or, fenced, ends this server's
        // writing); it is not the run's failure.
        let _ = a.lock().await.record(kind, body).await;
    }
}

/// The entry kind and body of a planning attempt: `llm_call` for an LLM (with the call),
/// `planning_attempt` for the rules.
fn attempt_entry(a: &PlanningAttempt) -> (&'static str, serde_json::Value) {
    let body = serde_json::to_value(a).unwrap_or_default();
    (
        if a.call.is_some() {
            "llm_call"
        } else {
            "planning_attempt"
        },
        body,
    )
}

/// Starts a run's span (`run`, with the run id) under `parent`.
fn run_span(parent: &Context, run_id: &str, resumed: bool) -> Context {
    let mut attributes = vec![KeyValue::new(attr::RUN_ID, run_id.to_string())];
    if resumed {
        attributes.push(KeyValue::new(attr::RUN_PHASE, "resumed"));
    }
    telemetry::start_with_parent(parent, "run", SpanKind::Internal, attributes)
}

/// Why a question was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Invalid(String),
    #[error("busy: {reason}; retry after {retry_after_s} s")]
    Busy { reason: String, retry_after_s: u64 },
    #[error("the run store is unavailable: {0}")]
    Store(#[from] StoreError),
}

/// The server's metrics (Prometheus text format on `/metrics`).
pub struct Metrics {
    pub registry: Registry,
    pub questions: IntCounterVec,
    pub runs_finished: IntCounterVec,
    pub run_seconds: HistogramVec,
    pub tasks: IntCounterVec,
    pub planning: IntCounterVec,
    pub llm_tokens: IntCounterVec,
    pub runs_active: IntGauge,
    pub queue_depth: IntGaugeVec,
    pub dead_letters: IntGaugeVec,
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("static metric names are valid");
            registry
                .register(Box::new(c.clone()))
                .expect("each metric is registered once");
            c
        };
        let questions = counter(
            "cbutler_questions_total",
            "Questions received, by outcome.",
            &["outcome"],
        );
        let runs_finished = counter(
            "cbutler_runs_finished_total",
            "Runs finished, by status.",
            &["status"],
        );
        let tasks = counter(
            "cbutler_tasks_total",
            "Tasks finished, by agent and status.",
            &["agent", "status"],
        );
        let planning = counter(
            "cbutler_planning_attempts_total",
            "Planning and prose attempts, by planner and outcome.",
            &["operation", "planner", "outcome"],
        );
        let llm_tokens = counter(
            "cbutler_llm_tokens_total",
            "LLM tokens spent, by direction.",
            &["direction"],
        );
        let run_seconds = HistogramVec::new(
            HistogramOpts::new("cbutler_run_seconds", "Seconds from acceptance to answer.")
                .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]),
            &["status"],
        )
        .expect("static metric names are valid");
        registry
            .register(Box::new(run_seconds.clone()))
            .expect("each metric is registered once");
        let runs_active =
            IntGauge::new("cbutler_runs_active", "Runs accepted and not finished.").expect("valid");
        registry
            .register(Box::new(runs_active.clone()))
            .expect("each metric is registered once");
        let queue_depth = IntGaugeVec::new(
            Opts::new(
                "cbutler_queue_depth",
                "Tasks waiting or running, by agent kind (cluster mode).",
            ),
            &["agent"],
        )
        .expect("valid");
        registry
            .register(Box::new(queue_depth.clone()))
            .expect("each metric is registered once");
        let dead_letters = IntGaugeVec::new(
            Opts::new(
                "cbutler_dead_letters",
                "Tasks in the dead-letter stream, by agent kind (cluster mode).",
            ),
            &["agent"],
        )
        .expect("valid");
        registry
            .register(Box::new(dead_letters.clone()))
            .expect("each metric is registered once");
        Metrics {
            registry,
            questions,
            runs_finished,
            run_seconds,
            tasks,
            planning,
            llm_tokens,
            runs_active,
            queue_depth,
            dead_letters,
        }
    }
}

pub struct RunService {
    pub store: RunStore,
    pub agents: AgentDirectory,
    pub queue: Option<Arc<dyn TaskBacklog>>,
    pub config: ServiceConfig,
    pub metrics: Metrics,
    /// Runs this process is driving now.
    driving: Mutex<HashSet<String>>,
    /// Runs each token has in progress here.
    pub runs_by_token: Arc<TokenCounts>,
    /// Event streams each token has open here.
    pub streams_by_token: Arc<TokenCounts>,
}

impl RunService {
    pub fn new(
        store: RunStore,
        agents: AgentDirectory,
        queue: Option<Arc<dyn TaskBacklog>>,
        config: ServiceConfig,
    ) -> Arc<Self> {
        Arc::new(RunService {
            store,
            agents,
            queue,
            config,
            metrics: Metrics::new(),
            driving: Mutex::default(),
            runs_by_token: Arc::default(),
            streams_by_token: Arc::default(),
        })
    }

    /// Accepts a question: checks it, refuses when too much work is outstanding, stores the run
    /// and starts driving it. The run's span is a child of `parent` (the caller's trace, from an
    /// HTTP `traceparent`; an empty context starts a new trace).
    pub async fn submit(
        self: &Arc<Self>,
        question: String,
        context: RunContext,
        owner: Option<String>,
        parent: &Context,
    ) -> Result<RunState, SubmitError> {
        let question = question.trim().to_string();
        if question.is_empty() {
            self.metrics.questions.with_label_values(&["invalid"]).inc();
            return Err(SubmitError::Invalid("the question is empty".into()));
        }
        if question.chars().count() > MAX_QUESTION_CHARS {
            self.metrics.questions.with_label_values(&["invalid"]).inc();
            return Err(SubmitError::Invalid(format!(
                "the question is longer than {MAX_QUESTION_CHARS} characters"
            )));
        }
        let active = self.store.active_count().await?;
        if active >= self.config.max_active_runs {
            self.metrics.questions.with_label_values(&["busy"]).inc();
            return Err(SubmitError::Busy {
                reason: format!(
                    "{active} runs are in progress (the limit is {})",
                    self.config.max_active_runs
                ),
                retry_after_s: 5,
            });
        }
        if let Some(queue) = &self.queue
            && let Ok(depths) = queue.depth().await
            && let Some((kind, n)) = depths.into_iter().find(|(_, n)| *n >= queue.max_pending())
        {
            self.metrics.questions.with_label_values(&["busy"]).inc();
            return Err(SubmitError::Busy {
                reason: format!(
                    "{n} {kind} tasks are waiting (the limit is {})",
                    queue.max_pending()
                ),
                retry_after_s: 5,
            });
        }
        let token = owner.clone().unwrap_or_default();
        let slot = self
            .runs_by_token
            .acquire(&token, self.config.quotas.runs_per_token)
            .map_err(|held| {
                self.metrics.questions.with_label_values(&["busy"]).inc();
                SubmitError::Busy {
                    reason: format!(
                        "this token has {held} runs in progress on this server (the limit is {})",
                        self.config.quotas.runs_per_token
                    ),
                    retry_after_s: 5,
                }
            })?;
        let mut state = RunState::new(journal::new_run_id(), question.clone(), context);
        state.owner = owner;
        let run_cx = run_span(parent, &state.run_id, false);
        state.trace_id = telemetry::trace_id(&run_cx);
        state.traceparent = telemetry::traceparent(&run_cx);
        self.store.save(&state).await?;
        self.store
            .push_event(&state.run_id, EventKind::Accepted { question })
            .await?;
        self.metrics.questions.with_label_values(&["accepted"]).inc();
        self.spawn_drive(state.run_id.clone(), Some(run_cx), Some(slot));
        Ok(state)
    }

    /// Starts driving a run in the background unless this process already is. `run_cx` holds the
    /// run's span when this process accepted it; a resumed run continues its stored trace. The
    /// token's quota slot, if any, is given back when the drive ends.
    pub fn spawn_drive(self: &Arc<Self>, run_id: String, run_cx: Option<Context>, slot: Option<QuotaSlot>) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.drive(&run_id, run_cx).await {
                eprintln!("warning: run {run_id}: {e}");
            }
            drop(slot);
        });
    }

    /// Resumes every unfinished run whose lease is free (at start, then every lease period, so
    /// the runs of a server that died are taken over).
    pub async fn resume(self: &Arc<Self>) -> Result<usize, StoreError> {
        let active = self.store.active().await?;
        let mut n = 0;
        for run_id in active {
            let already = self
                .driving
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&run_id);
            if !already {
                self.spawn_drive(run_id, None, None);
                n += 1;
            }
        }
        Ok(n)
    }

    pub fn start_resumer(self: &Arc<Self>) {
        let this = Arc::downgrade(self);
        let every = self.config.lease_ttl;
        tokio::spawn(async move {
            loop {
                let Some(service) = this.upgrade() else { return };
                if let Ok(active) = service.store.active_count().await {
                    service.metrics.runs_active.set(active as i64);
                }
                if let Err(e) = service.resume().await {
                    eprintln!("warning: cannot list unfinished runs: {e}");
                }
                drop(service);
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Retries a store operation until it succeeds (Redis may be restarting): a run that was
    /// accepted is never dropped for a transient error.
    async fn persist<F, Fut>(&self, what: &str, mut op: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), StoreError>>,
    {
        let mut delay = Duration::from_millis(100);
        loop {
            match op().await {
                Ok(()) => return,
                Err(e) => {
                    eprintln!(
                        "warning: cannot store {what}: {e}; retrying in {} ms",
                        delay.as_millis()
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    async fn save(&self, state: &mut RunState) {
        state.updated_unix_ms = cb_core::runs::now_ms();
        let snapshot = state.clone();
        self.persist(&format!("run {}", state.run_id), || self.store.save(&snapshot))
            .await;
    }

    async fn event(&self, run_id: &str, event: EventKind) {
        self.persist(&format!("an event of run {run_id}"), || {
            self.store.push_event(run_id, event.clone())
        })
        .await;
    }

    /// Drives one run to its answer, holding its lease.
    async fn drive(self: &Arc<Self>, run_id: &str, run_cx: Option<Context>) -> Result<(), StoreError> {
        if !self
            .driving
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run_id.to_string())
        {
            return Ok(());
        }
        let result = self.drive_leased(run_id, run_cx).await;
        self.driving
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(run_id);
        result
    }

    async fn drive_leased(self: &Arc<Self>, run_id: &str, run_cx: Option<Context>) -> Result<(), StoreError> {
        let (owner, ttl) = (self.config.owner.clone(), self.config.lease_ttl);
        let Some(fence) = self.store.take_lease(run_id, &owner, ttl).await? else {
            return Ok(()); // another server is driving it
        };
        let Some(mut state) = self.store.get(run_id).await? else {
            return Ok(());
        };
        if state.status.is_final() {
            return Ok(());
        }
        let run_cx = match run_cx {
            Some(cx) => cx,
            None => {
                // Resumed here: a new span in the run's stored trace.
                let parent = state
                    .traceparent
                    .as_deref()
                    .map(telemetry::context_from_traceparent)
                    .unwrap_or_default();
                let cx = run_span(&parent, run_id, true);
                if state.trace_id.is_none() {
                    state.trace_id = telemetry::trace_id(&cx);
                    state.traceparent = telemetry::traceparent(&cx);
                }
                cx
            }
        };
        let renew = {
            let (store, run_id) = (self.store.clone(), run_id.to_string());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    let _ = store.take_lease(&run_id, &owner, ttl).await;
                }
            })
        };
        let status = self
            .drive_traced(run_id, state, fence)
            .with_context(run_cx.clone())
            .await;
        if status == RunStatus::Failed {
            run_cx.span().set_status(Status::error("the run failed"));
        }
        run_cx.span().end();
        renew.abort();
        Ok(())
    }

    /// The run itself, inside its span: plan (unless a plan is stored), execute, answer, with
    /// every step in the decision log. Returns the final status.
    async fn drive_traced(self: &Arc<Self>, run_id: &str, mut state: RunState, fence: u64) -> RunStatus {
        let started = Instant::now();
        let audit: SharedAudit = match &self.config.audit {
            Some((store, key)) => Some(Arc::new(tokio::sync::Mutex::new(
                RunAudit::open(
                    store.clone(),
                    key.clone(),
                    run_id,
                    state.trace_id.clone(),
                    Some(fence),
                )
                .await,
            ))),
            None => None,
        };
        if let Some(a) = &audit {
            let mut a = a.lock().await;
            if a.is_empty() {
                let body = serde_json::json!({"question": state.question, "context": state.context,
                                              "server": self.config.owner});
                let _ = a.record("question", body).await;
            }
        }
        let plan_seen: Arc<Mutex<Option<cb_protocol::Plan>>> = Arc::new(Mutex::new(state.plan.clone()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<EventKind>();
        let writer = {
            let (this, audit, plan_seen) = (self.clone(), audit.clone(), plan_seen.clone());
            let run_id = run_id.to_string();
            tokio::spawn(async move {
                while let Some(event) = rx.recv().await {
                    match &event {
                        EventKind::TaskStarted { task, agent } => {
                            let spec = plan_seen
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .as_ref()
                                .and_then(|p| p.tasks.iter().find(|t| t.id.0 == *task))
                                .and_then(|t| serde_json::to_value(&t.spec).ok());
                            let body = serde_json::json!({"task": task, "agent": agent, "spec": spec});
                            record(&audit, "task_dispatched", body).await;
                        }
                        EventKind::TaskFinished {
                            agent,
                            status,
                            worker,
                            attempt,
                            result,
                            ..
                        } => {
                            this.metrics
                                .tasks
                                .with_label_values(&[agent.as_str(), status])
                                .inc();
                            if let Some(r) = result {
                                record(&audit, "task_result", result_body(r, worker.as_deref(), *attempt))
                                    .await;
                            }
                        }
                        _ => {}
                    }
                    this.event(&run_id, event).await;
                }
            })
        };
        let observer = Some(tx);
        let request = AskRequest {
            question: state.question.clone(),
            context: PlanContext {
                mrio: state.context.mrio.clone(),
                lci: state.context.lci.clone(),
            },
        };
        let mut budget = TokenBudget::new(self.config.token_budget);
        let mut attempts = state.planning.clone();
        let plan = match state.plan.clone() {
            Some(plan) => plan,
            None => {
                state.status = RunStatus::Planning;
                self.save(&mut state).await;
                let planned = orchestrator::plan_question(
                    &request,
                    &self.config.planner,
                    &mut budget,
                    &mut attempts,
                    &observer,
                )
                .await;
                self.count_attempts(&attempts);
                for a in &attempts[state.planning.len()..] {
                    let (kind, body) = attempt_entry(a);
                    record(&audit, kind, body).await;
                }
                state.planning = attempts.clone();
                match planned {
                    Ok(plan) => {
                        let body = serde_json::json!({"planner": plan.planner, "plan": plan});
                        record(&audit, "plan", body).await;
                        plan
                    }
                    Err(e) => {
                        drop(observer);
                        let _ = writer.await;
                        record(&audit, "run_failed", serde_json::json!({"error": e.to_string()})).await;
                        state.status = RunStatus::Failed;
                        state.error = Some(e.to_string());
                        self.save(&mut state).await;
                        self.event(run_id, EventKind::Failed { error: e.to_string() })
                            .await;
                        self.finished(&state, started);
                        return RunStatus::Failed;
                    }
                }
            }
        };
        *plan_seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(plan.clone());
        state.plan = Some(plan.clone());
        state.status = RunStatus::Running;
        self.save(&mut state).await;
        let results = orchestrator::execute(run_id, &plan, &self.agents, &observer).await;
        let before = attempts.len();
        let outcome = orchestrator::finish(
            run_id,
            &plan,
            results,
            &self.config.planner,
            &mut budget,
            attempts,
        )
        .await;
        self.count_attempts(&outcome.answer.planning[before..]);
        drop(observer);
        let _ = writer.await;
        for a in &outcome.answer.planning[before..] {
            let (kind, body) = attempt_entry(a);
            record(&audit, kind, body).await;
        }
        let a = &outcome.answer;
        let body = serde_json::json!({
            "writer": a.writer, "text": a.text, "errors": a.errors, "rows": a.table.len(),
            "answer_sha256": cb_audit::sha256_hex(cb_audit::canonical(&serde_json::to_value(a).unwrap_or_default()).as_bytes()),
        });
        record(&audit, "answer", body).await;
        if let Some(j) = &self.config.journal
            && let Err(e) = j.record(&outcome.answer)
        {
            eprintln!(
                "warning: could not record run {run_id} in {}: {e}",
                j.dir().display()
            );
        }
        state.planning = outcome.answer.planning.clone();
        state.status = RunStatus::Done;
        let text = outcome.answer.text.clone();
        state.answer = Some(outcome.answer);
        self.save(&mut state).await;
        self.event(run_id, EventKind::Answer { text }).await;
        self.finished(&state, started);
        RunStatus::Done
    }

    fn count_attempts(&self, attempts: &[PlanningAttempt]) {
        for a in attempts {
            self.metrics
                .planning
                .with_label_values(&[&a.operation, &a.planner, &a.outcome])
                .inc();
            self.metrics
                .llm_tokens
                .with_label_values(&["input"])
                .inc_by(a.input_tokens as u64);
            self.metrics
                .llm_tokens
                .with_label_values(&["output"])
                .inc_by(a.output_tokens as u64);
        }
    }

    fn finished(&self, state: &RunState, started: Instant) {
        let status = if state.status == RunStatus::Done {
            "done"
        } else {
            "failed"
        };
        self.metrics.runs_finished.with_label_values(&[status]).inc();
        self.metrics
            .run_seconds
            .with_label_values(&[status])
            .observe(started.elapsed().as_secs_f64());
    }

    /// Waits until a run is finished (or `timeout` passes) and returns its state.
    pub async fn wait(&self, run_id: &str, timeout: Duration) -> Result<Option<RunState>, StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut cursor: Option<String> = None;
        loop {
            match self.store.get(run_id).await? {
                None => return Ok(None),
                Some(s) if s.status.is_final() => return Ok(Some(s)),
                Some(s) if tokio::time::Instant::now() >= deadline => return Ok(Some(s)),
                Some(_) => {}
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let events = self
                .store
                .events(run_id, cursor.as_deref(), left.min(Duration::from_secs(5)))
                .await?;
            if let Some(last) = events.last() {
                cursor = Some(last.id.clone());
            }
        }
    }

    /// Refreshes the queue gauges (on each `/metrics` scrape).
    pub async fn refresh_gauges(&self) {
        if let Ok(active) = self.store.active_count().await {
            self.metrics.runs_active.set(active as i64);
        }
        if let Some(queue) = &self.queue {
            if let Ok(depths) = queue.depth().await {
                for (kind, n) in depths {
                    self.metrics
                        .queue_depth
                        .with_label_values(&[kind.as_str()])
                        .set(n as i64);
                }
            }
            if let Ok(dead) = queue.dead_letters().await {
                for (kind, n) in dead {
                    self.metrics
                        .dead_letters
                        .with_label_values(&[kind.as_str()])
                        .set(n as i64);
                }
            }
        }
    }
}
