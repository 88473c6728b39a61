//! `cbutler serve`: the HTTP API. Handlers only translate HTTP to and from the
//! [`RunService`]; validation of questions happens there, planning and dispatch in the run.
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/questions` | ask; 202 with the run id (429 + `Retry-After` when busy) |
//! | `GET /v1/runs` | recent runs |
//! | `GET /v1/runs/{id}` | status, plan, planning attempts, answer, results |
//! | `GET /v1/runs/{id}/events` | progress as server-sent events (resumable with `Last-Event-ID`) |
//! | `GET /v1/runs/{id}/graph?format=json\|dot\|graphml` | the supply-chain graph |
//! | `POST /v1/chat/completions` | OpenAI-compatible façade, model `carbon-butler`, streaming |
//! | `GET /health`, `GET /metrics`, `GET /openapi.json`, `GET /livez` | operations |
//! | `GET /v1/status` | which agent kinds can take work now, whether a token is needed (open) |
//! | `GET /` | the web page ([`crate::web`]; no token: it asks for one) |
//! | `POST /v1/workers/{name}/drain` | stop a worker gracefully (cluster) |
//!
//! With `--auth FILE`, every route but `/livez`, `/health` (details for operators only),
//! `/openapi.json`, `/v1/status` and the page takes a bearer token whose
//! role allows it ([`crate::auth`]); analysts see only their own runs.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cb_graphs::SupplyChainGraph;
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use cb_core::DataRoots;
use cb_core::operations::WorkerRegistry;
use cb_core::runs::{RunContext, RunState, StoreError};
use cb_planner::MrioVocabulary;

use crate::api::{
    Accepted, AgentStatus, ChatRequest, ErrorBody, ErrorDetail, QuestionRequest, ServiceStatus,
};
use crate::auth::{Caller, Role, Tokens};
use crate::service::{RunService, SubmitError};

/// The model name of the chat façade.
pub const CHAT_MODEL: &str = "carbon-butler";

/// Longest a chat completion waits for its run.
const CHAT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<RunService>,
    /// The cluster's workers, for health and draining (absent in the embedded mode).
    pub workers: Option<Arc<dyn WorkerRegistry>>,
    /// Bearer tokens and roles; `None` leaves the API open (a local, single-user server).
    pub tokens: Option<Arc<Tokens>>,
    /// Open and on loopback: answer only requests addressed to a loopback name, so a web page
    /// elsewhere cannot reach the API through DNS rebinding.
    pub loopback_hosts_only: bool,
}

pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    code: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            code: None,
            retry_after: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Invalid(m) => ApiError::bad_request(m),
            SubmitError::Busy { retry_after_s, .. } => ApiError {
                retry_after: Some(retry_after_s),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "busy", e.to_string())
            },
            SubmitError::Store(e) => ApiError::unavailable(format!("the run store is unavailable: {e}")),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::unavailable(format!("the run store is unavailable: {e}"))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::bad_request(format!("the request body is not valid: {}", e.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                message: self.message,
                kind: self.kind.to_string(),
                code: self.code,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/workers/{name}/drain", post(drain_worker))
        .route("/livez", get(|| async { "ok" }))
        .route("/v1/questions", post(post_question))
        .route("/v1/runs", get(list_runs))
        .route("/v1/runs/{id}", get(get_run))
        .route("/v1/runs/{id}/events", get(run_events))
        .route("/v1/runs/{id}/graph", get(run_graph))
        .route("/v1/runs/{id}/audit", get(run_audit))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/status", get(status))
        .route("/", get(crate::web::index))
        .route("/assets/{file}", get(crate::web::assets))
        .layer(axum::middleware::from_fn_with_state(state.clone(), authorize))
        .with_state(state)
}

/// `/metrics` and `/livez` alone, without tokens: `serve --metrics-listen` puts them on a port of
/// their own for Prometheus.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Whether a role may make this call.
pub fn allowed(role: Role, method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    let run_read = path == "/v1/runs" || path.starts_with("/v1/runs/");
    match role {
        Role::Analyst => {
            (*method == Method::POST && (path == "/v1/questions" || path == "/v1/chat/completions"))
                || (*method == Method::GET
                    && (path == "/v1/models" || (run_read && !path.ends_with("/audit"))))
        }
        Role::Auditor => *method == Method::GET && (run_read || path == "/v1/models"),
        Role::Operator => {
            (*method == Method::GET && (path == "/health" || path == "/metrics"))
                || (*method == Method::POST && path.starts_with("/v1/workers/") && path.ends_with("/drain"))
        }
    }
}

/// Whether a Host header names this machine's loopback (`localhost`, `127.0.0.1`, `[::1]`, any
/// port).
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks the bearer token and the role before any handler runs.
async fn authorize(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(tokens) = &app.tokens else {
        if app.loopback_hosts_only
            && let Some(host) = request.headers().get(header::HOST)
            && !is_loopback_host(host.to_str().unwrap_or(""))
        {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                "this server runs without tokens and answers only requests addressed to localhost",
            )
            .into_response();
        }
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    if path == "/livez" || path == "/openapi.json" || path == "/v1/status" || crate::web::is_page(&path) {
        return next.run(request).await;
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Probes carry no token: /health answers everyone, with details for operators only.
    if path == "/health" {
        if let Some(caller) = token.and_then(|t| tokens.caller(t)) {
            request.extensions_mut().insert(caller);
        }
        return next.run(request).await;
    }
    let Some(caller) = token.and_then(|t| tokens.caller(t)) else {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer <token>)",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    if !allowed(caller.role, request.method(), &path) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "the {} role may not {} {path}",
                caller.role.as_str(),
                request.method()
            ),
        )
        .into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The owner a new run records: the token's name, if tokens are in use.
fn owner_of(caller: &Option<Extension<Caller>>) -> Option<String> {
    caller.as_ref().map(|Extension(c)| c.name.clone())
}

/// Whether the caller may read a run: everyone without tokens, auditors always, analysts their own.
fn may_read(caller: &Option<Extension<Caller>>, run: &RunState) -> bool {
    match caller {
        None => true,
        Some(Extension(c)) => c.role != Role::Analyst || run.owner.as_deref() == Some(c.name.as_str()),
    }
}

/// Reads an MRIO's labels so the planner can use its regions and sectors. A served question's
/// files must lie under the server's data roots; the plan then names them by canonical path.
async fn context_of(
    roots: Option<Arc<DataRoots>>,
    mrio: Option<String>,
    lci: Option<String>,
) -> Result<RunContext, ApiError> {
    let confine = |field: &str, path: String| -> Result<String, ApiError> {
        match &roots {
            Some(r) => r
                .resolve(field, &path)
                .map(|p| p.to_string_lossy().into_owned())
                .map_err(|e| ApiError::bad_request(e.to_string())),
            None => Ok(path),
        }
    };
    let mrio = match mrio {
        None => None,
        Some(path) => {
            let path = confine("mrio", path)?;
            let p = PathBuf::from(&path);
            let labels = tokio::task::spawn_blocking(move || cb_trade::analysis::MrioLabels::read(&p))
                .await
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()))?
                .map_err(|e| ApiError::bad_request(format!("cannot read the MRIO {path}: {e}")))?;
            Some(MrioVocabulary {
                path,
                name: labels.name,
                regions: labels.regions,
                sectors: labels.sectors,
                stressors: labels.stressors,
            })
        }
    };
    let lci = match lci {
        None => None,
        Some(l) if l.eq_ignore_ascii_case(cb_protocol::BUNDLED_DATABASE) => Some(l),
        Some(l) => {
            let l = confine("lci", l)?;
            if !std::path::Path::new(&l).exists() {
                return Err(ApiError::bad_request(format!(
                    "the inventory database {l} does not exist"
                )));
            }
            Some(l)
        }
    };
    Ok(RunContext { mrio, lci })
}

async fn post_question(
    State(app): State<AppState>,
    caller: Option<Extension<Caller>>,
    request_headers: HeaderMap,
    body: Result<Json<QuestionRequest>, JsonRejection>,
) -> Result<(StatusCode, HeaderMap, Json<Accepted>), ApiError> {
    let Json(request) = body?;
    let roots = app.service.config.data_roots.clone();
    let context = context_of(roots, request.mrio, request.lci).await?;
    let parent = cb_telemetry::extract_headers(&request_headers);
    let state = app
        .service
        .submit(request.question, context, owner_of(&caller), &parent)
        .await?;
    let run_url = format!("/v1/runs/{}", state.run_id);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&run_url) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::ACCEPTED,
        headers,
        Json(Accepted {
            events_url: format!("{run_url}/events"),
            run_url,
            run_id: state.run_id,
            status: state.status,
            trace_id: state.trace_id,
        }),
    ))
}

/// Runs one `GET /v1/runs` returns at most.
pub const MAX_RUNS_PAGE: usize = 100;

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    limit: Option<usize>,
}

async fn list_runs(
    State(app): State<AppState>,
    caller: Option<Extension<Caller>>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let mut runs = app
        .service
        .store
        .list(q.limit.unwrap_or(50).clamp(1, MAX_RUNS_PAGE))
        .await?;
    if let Some(Extension(c)) = &caller
        && c.role == Role::Analyst
    {
        runs.retain(|r| r.owner.as_deref() == Some(c.name.as_str()));
    }
    Ok(Json(json!({ "runs": runs })).into_response())
}

/// A run the caller may read (another analyst's run is "not found", not "forbidden": its
/// existence is not disclosed).
async fn load_run(
    app: &AppState,
    caller: &Option<Extension<Caller>>,
    id: &str,
) -> Result<RunState, ApiError> {
    if !cb_audit::is_run_id(id) {
        return Err(ApiError::not_found(
            "no such run: a run id is letters, digits, '-' and '_'",
        ));
    }
    app.service
        .store
        .get(id)
        .await?
        .filter(|run| may_read(caller, run))
        .ok_or_else(|| ApiError::not_found(format!("no run {id}")))
}

async fn get_run(
    State(app): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<RunState>, ApiError> {
    Ok(Json(load_run(&app, &caller, &id).await?))
}

async fn run_events(
    State(app): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let run = load_run(&app, &caller, &id).await?;
    let cursor = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let store = app.service.store.clone();
    // A cursor must name one of the run's events; a finished run's stream after its last event
    // is empty and ends at once, instead of holding a connection open for nothing.
    let sent = store.events(&id, None, Duration::ZERO).await?;
    let finished = match &cursor {
        None => false,
        Some(c) => {
            let Some(at) = sent.iter().position(|e| &e.id == c) else {
                return Err(ApiError::bad_request(format!(
                    "Last-Event-ID {:?} is not an event of run {id}",
                    c.chars().take(64).collect::<String>()
                )));
            };
            run.status.is_final() && sent[at + 1..].is_empty()
        }
    };
    let token = caller
        .as_ref()
        .map(|Extension(c)| c.name.clone())
        .unwrap_or_default();
    let slot = app
        .service
        .streams_by_token
        .acquire(&token, app.service.config.quotas.streams_per_token)
        .map_err(|held| ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                format!(
                    "this token has {held} event streams open on this server (the limit is {})",
                    app.service.config.quotas.streams_per_token
                ),
            )
        })?;
    // (cursor, finished): stop after the answer or failure has been sent. The quota slot lives
    // as long as the stream.
    let stream = futures::stream::unfold((cursor, finished), move |(cursor, finished)| {
        let (store, id) = (store.clone(), id.clone());
        let _held = &slot;
        async move {
            if finished {
                return None;
            }
            loop {
                match store
                    .events(&id, cursor.as_deref(), Duration::from_secs(15))
                    .await
                {
                    Ok(events) if events.is_empty() => {
                        // Nothing new: the keep-alive comments hold the connection open.
                        continue;
                    }
                    Ok(events) => {
                        let last = events.last().map(|e| e.id.clone());
                        let done = events.iter().any(|e| e.event.is_final());
                        let batch: Vec<Result<Event, Infallible>> = events
                            .into_iter()
                            .map(|e| {
                                Ok(Event::default()
                                    .id(e.id.clone())
                                    .event(e.event.name())
                                    .json_data(&e)
                                    .unwrap_or_else(|_| Event::default().comment("unserialisable event")))
                            })
                            .collect();
                        return Some((futures::stream::iter(batch), (last, done)));
                    }
                    Err(e) => {
                        let event = Event::default()
                            .event("error")
                            .data(format!("the run store is unavailable: {e}"));
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        return Some((futures::stream::iter(vec![Ok(event)]), (cursor, false)));
                    }
                }
            }
        }
    });
    use futures::StreamExt;
    Ok(Sse::new(stream.flatten()).keep_alive(KeepAlive::default()))
}

#[derive(Debug, Deserialize)]
struct GraphQuery {
    #[serde(default)]
    format: Option<String>,
}

async fn run_graph(
    State(app): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
    Query(q): Query<GraphQuery>,
) -> Result<Response, ApiError> {
    let run = load_run(&app, &caller, &id).await?;
    let Some(answer) = run.answer else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_request_error",
            format!("run {id} is {:?}: its graph exists once it is done", run.status).to_lowercase(),
        ));
    };
    let graph =
        SupplyChainGraph::from_fragments(answer.results.iter().filter_map(|r| r.output().map(|o| &o.graph)))
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()))?;
    let format = q.format.as_deref().unwrap_or("json");
    let (content_type, body) = match format {
        "json" => ("application/json", graph.to_json().to_string()),
        "dot" => ("text/vnd.graphviz", graph.to_dot()),
        "graphml" => ("application/graphml+xml", graph.to_graphml()),
        other => {
            return Err(ApiError::bad_request(format!(
                "format {other:?} is not one of json, dot, graphml"
            )));
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// Asks a worker to stop gracefully: it finishes (or hands back) its tasks and exits.
async fn drain_worker(State(app): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    let Some(redis) = &app.workers else {
        return Err(ApiError::bad_request(
            "there are no workers to drain in the embedded mode",
        ));
    };
    let live = redis.workers().await?;
    if !live.iter().any(|w| w["name"] == name.as_str()) {
        return Err(ApiError::not_found(format!("no live worker named {name}")));
    }
    redis.request_drain(&name).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"draining": name}))).into_response())
}

/// A run's decision log with the verification of its chain and signed head.
async fn run_audit(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if !cb_audit::is_run_id(&id) {
        return Err(ApiError::not_found(
            "no such run: a run id is letters, digits, '-' and '_'",
        ));
    }
    let Some((store, key)) = &app.service.config.audit else {
        return Err(ApiError::not_found("this server keeps no decision log"));
    };
    let (entries, head) = match store.load(&id).await {
        Ok(found) => found,
        Err(cb_audit::AuditError::NotFound(_)) => {
            return Err(ApiError::not_found(format!("no audit log for run {id}")));
        }
        Err(e) => return Err(ApiError::unavailable(e.to_string())),
    };
    let verification = cb_audit::verify(&id, &entries, head.as_ref(), Some(&key.public_hex()));
    Ok(
        Json(json!({"run_id": id, "verification": verification, "head": head, "entries": entries}))
            .into_response(),
    )
}

/// The live workers (as they announce themselves) and each kind's queue depth.
async fn workers_and_queues(
    app: &AppState,
    redis: &dyn WorkerRegistry,
) -> (Vec<Value>, Vec<(cb_protocol::AgentKind, usize)>) {
    let workers = redis.workers().await.unwrap_or_default();
    let depth = match &app.service.queue {
        Some(q) => q.depth().await.unwrap_or_default(),
        None => Vec::new(),
    };
    (workers, depth)
}

async fn status(State(app): State<AppState>) -> Response {
    use cb_protocol::AgentKind;
    let auth_required = app.tokens.is_some();
    let without_workers = |available: &dyn Fn(AgentKind) -> bool| -> Vec<AgentStatus> {
        AgentKind::ALL
            .into_iter()
            .map(|agent| AgentStatus {
                agent,
                available: available(agent),
                workers: None,
                queued: None,
            })
            .collect()
    };
    let Some(redis) = &app.workers else {
        return Json(ServiceStatus {
            mode: "embedded".into(),
            redis: None,
            agents: without_workers(&|agent| app.service.agents.get(agent).is_some()),
            auth_required,
        })
        .into_response();
    };
    if !redis.ping().await {
        let body = ServiceStatus {
            mode: "cluster".into(),
            redis: Some("unreachable".into()),
            agents: without_workers(&|_| false),
            auth_required,
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    let (workers, depth) = workers_and_queues(&app, redis.as_ref()).await;
    let agents = AgentKind::ALL
        .into_iter()
        .map(|agent| {
            let serving = workers
                .iter()
                .filter(|w| {
                    w["agents"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|k| k.as_str() == Some(agent.as_str())))
                })
                .count();
            AgentStatus {
                agent,
                available: serving > 0,
                workers: Some(serving),
                queued: depth.iter().find(|(k, _)| *k == agent).map(|(_, n)| *n),
            }
        })
        .collect();
    Json(ServiceStatus {
        mode: "cluster".into(),
        redis: Some("ok".into()),
        agents,
        auth_required,
    })
    .into_response()
}

/// `GET /health`: 200 when the server can take work (in the cluster: Redis answers), else 503 —
/// open, for probes; live workers and queue depths only for operators (or without `--auth`).
async fn health(State(app): State<AppState>, caller: Option<Extension<Caller>>) -> Response {
    let details = app.tokens.is_none() || caller.is_some_and(|Extension(c)| c.role == Role::Operator);
    match &app.workers {
        None => Json(json!({"status": "ok", "mode": "embedded"})).into_response(),
        Some(redis) => {
            if !redis.ping().await {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"status": "unavailable", "mode": "cluster", "redis": "unreachable"})),
                )
                    .into_response();
            }
            if !details {
                return Json(json!({"status": "ok", "mode": "cluster", "redis": "ok"})).into_response();
            }
            let (workers, depth) = workers_and_queues(&app, redis.as_ref()).await;
            let queues: serde_json::Map<String, Value> = depth
                .into_iter()
                .map(|(k, n)| (k.to_string(), json!(n)))
                .collect();
            Json(json!({"status": "ok", "mode": "cluster", "redis": "ok", "workers": workers, "queues": queues}))
                .into_response()
        }
    }
}

async fn metrics(State(app): State<AppState>) -> Response {
    app.service.refresh_gauges().await;
    cb_telemetry::prometheus_response(&app.service.metrics.registry).into_response()
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

async fn models() -> Json<Value> {
    Json(
        json!({"object": "list", "data": [{"id": CHAT_MODEL, "object": "model", "owned_by": "carbon-butler"}]}),
    )
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The assistant's reply: the answer, its numbers, and where to find the run.
fn chat_content(run: &RunState) -> String {
    match (&run.answer, &run.error) {
        (Some(a), _) => {
            let mut s = a.text.clone();
            if !a.table.is_empty() {
                s.push_str("\n\n| quantity | value | unit | source |\n|---|---|---|---|\n");
                for r in a.table.iter().take(30) {
                    s.push_str(&format!(
                        "| {} | {} | {} | {} |\n",
                        r.label.replace('|', "/"),
                        cb_protocol::format::significant(r.value, 4),
                        r.unit,
                        r.source.replace('|', "/")
                    ));
                }
            }
            s.push_str(&format!("\nRun {} (GET /v1/runs/{}).", run.run_id, run.run_id));
            s
        }
        (None, Some(e)) => format!("I could not answer this: {e}"),
        (None, None) => format!("Run {} is still {:?}.", run.run_id, run.status).to_lowercase(),
    }
}

async fn chat_completions(
    State(app): State<AppState>,
    caller: Option<Extension<Caller>>,
    request_headers: HeaderMap,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    if request.model != CHAT_MODEL {
        return Err(ApiError {
            code: Some("model_not_found".into()),
            ..ApiError::not_found(format!(
                "the model `{}` does not exist; use `{CHAT_MODEL}`",
                request.model
            ))
        });
    }
    let question = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| text_of(&m.content))
        .unwrap_or_default();
    if question.trim().is_empty() {
        return Err(ApiError::bad_request("no user message with text to answer"));
    }
    let state = app
        .service
        .submit(
            question,
            RunContext::default(),
            owner_of(&caller),
            &cb_telemetry::extract_headers(&request_headers),
        )
        .await?;
    let id = format!("chatcmpl-{}", state.run_id);
    let created = cb_core::runs::now_ms() / 1000;
    let service = app.service.clone();
    let run_id = state.run_id.clone();
    if !request.stream {
        let run = service
            .wait(&run_id, CHAT_TIMEOUT)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("run {run_id} disappeared")))?;
        return Ok(Json(json!({
            "id": id, "object": "chat.completion", "created": created, "model": CHAT_MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": chat_content(&run)},
                          "finish_reason": "stop"}],
        }))
        .into_response());
    }
    let chunk = move |delta: Value, finish: Option<&str>| {
        Event::default().data(
            json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": CHAT_MODEL,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            .to_string(),
        )
    };
    let stream = async_stream(service, run_id, chunk);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

/// The streamed chat reply: the role, then the answer in pieces, then `[DONE]`.
fn async_stream(
    service: Arc<RunService>,
    run_id: String,
    chunk: impl Fn(Value, Option<&str>) -> Event + Send + 'static,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let first = futures::stream::iter(vec![Ok(chunk(json!({"role": "assistant", "content": ""}), None))]);
    let rest = futures::stream::once(async move {
        let content = match service.wait(&run_id, CHAT_TIMEOUT).await {
            Ok(Some(run)) => chat_content(&run),
            Ok(None) => format!("run {run_id} disappeared"),
            Err(e) => format!("the run store is unavailable: {e}"),
        };
        let mut events: Vec<Result<Event, Infallible>> = content
            .split_inclusive('\n')
            .map(|piece| Ok(chunk(json!({"content": piece}), None)))
            .collect();
        events.push(Ok(chunk(json!({}), Some("stop"))));
        events.push(Ok(Event::default().data("[DONE]")));
        futures::stream::iter(events)
    });
    use futures::StreamExt;
    first.chain(rest.flatten())
}
