//! A worker's own small HTTP endpoint (`cbutler worker --health-listen ADDR`) for Kubernetes
//! probes and Prometheus: `/livez` (the process runs), `/health` (it has reached Redis within the
//! last 10 s; 503 otherwise, so a worker cut off from Redis is taken out of rotation) and
//! `/metrics` (tasks by agent and outcome, tasks running).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use serde_json::json;

/// How long Redis may go unanswered before `/health` says 503.
const REDIS_STALE_MS: u64 = 10_000;

pub struct WorkerHealth {
    pub name: String,
    pub agents: Vec<String>,
    registry: Registry,
    /// Tasks a worker finished, by agent and outcome (`completed`, `failed`, `handed_back`,
    /// `dead_lettered`).
    pub tasks: IntCounterVec,
    pub running: IntGaugeVec,
    /// When Redis last answered (ms since the epoch; 0: never).
    redis_ok_ms: AtomicU64,
}

impl WorkerHealth {
    pub fn new(name: &str, agents: &[cb_protocol::AgentKind]) -> Arc<WorkerHealth> {
        let registry = Registry::new();
        let tasks = IntCounterVec::new(
            Opts::new(
                "cbutler_worker_tasks_total",
                "Tasks this worker finished, by agent and outcome.",
            ),
            &["agent", "outcome"],
        )
        .expect("static metric names are valid");
        let running = IntGaugeVec::new(
            Opts::new(
                "cbutler_worker_tasks_running",
                "Tasks this worker is running, by agent.",
            ),
            &["agent"],
        )
        .expect("static metric names are valid");
        registry
            .register(Box::new(tasks.clone()))
            .expect("each metric is registered once");
        registry
            .register(Box::new(running.clone()))
            .expect("each metric is registered once");
        Arc::new(WorkerHealth {
            name: name.to_string(),
            agents: agents.iter().map(|a| a.to_string()).collect(),
            registry,
            tasks,
            running,
            redis_ok_ms: AtomicU64::new(0),
        })
    }

    /// Redis just answered.
    pub fn redis_ok(&self) {
        self.redis_ok_ms.store(crate::now_ms() as u64, Ordering::Relaxed);
    }

    fn redis_fresh(&self) -> bool {
        let last = self.redis_ok_ms.load(Ordering::Relaxed);
        last > 0 && (crate::now_ms() as u64).saturating_sub(last) < REDIS_STALE_MS
    }
}

async fn health(State(h): State<Arc<WorkerHealth>>) -> Response {
    let ok = h.redis_fresh();
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "worker": h.name,
        "agents": h.agents,
        "redis": if ok { "ok" } else { "unreachable" },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(h): State<Arc<WorkerHealth>>) -> Response {
    cb_telemetry::prometheus_response(&h.registry).into_response()
}

pub fn router(h: Arc<WorkerHealth>) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(h)
}
