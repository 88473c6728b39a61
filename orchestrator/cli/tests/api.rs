//! The HTTP API in the embedded mode (no Redis): requests through the router in process, and the
//! real `openai` Python client and `openapi-spec-validator` against a running `cbutler serve`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cb_core::runs::{MemoryStore, RunStore};
use cb_core::{Embedded, OrchestratorArgs};
use cb_planner::Planner;
use cb_server::{AppState, router};
use cb_server::{RunService, ServiceConfig};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn app() -> (axum::Router, Arc<RunService>, Embedded) {
    app_with(None, None).await
}

async fn app_with(
    tokens: Option<Arc<cb_server::auth::Tokens>>,
    audit: Option<(cb_audit::AuditStore, cb_audit::AuditKey)>,
) -> (axum::Router, Arc<RunService>, Embedded) {
    let embedded = Embedded::start(OrchestratorArgs {
        journal: None,
        task_timeout: Duration::from_secs(120),
        planner: Planner::Rules,
        token_budget: 0,
        data_roots: None,
    })
    .await
    .unwrap();
    let agents = embedded.agents().await.unwrap();
    let service = RunService::new(
        RunStore::Memory(MemoryStore::default()),
        agents,
        None,
        ServiceConfig {
            planner: Planner::Rules,
            token_budget: 0,
            max_active_runs: 100,
            journal: None,
            owner: "test".into(),
            lease_ttl: Duration::from_secs(15),
            audit,
            data_roots: Some(test_roots()),
            quotas: Default::default(),
        },
    );
    let router = router(AppState {
        service: service.clone(),
        workers: None,
        tokens,
        loopback_hosts_only: false,
    });
    (router, service, embedded)
}

/// The data roots the test server reads under: the repository's fixtures and bundled data.
fn test_roots() -> Arc<cb_core::DataRoots> {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Arc::new(
        cb_core::DataRoots::new(
            &[repo.join("data"), repo.join("orchestrator/cli/tests/fixtures")],
            &[],
        )
        .unwrap(),
    )
}

async fn call(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, String) {
    call_as(app, None, method, uri, body).await
}

async fn call_as(
    app: &axum::Router,
    token: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let request = request
        .header("content-type", "application/json")
        .body(match body {
            Some(b) => Body::from(b.to_string()),
            None => Body::empty(),
        })
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_follow_and_read_a_run() {
    let (app, service, embedded) = app().await;
    let (status, body) = call(
        &app,
        "POST",
        "/v1/questions",
        Some(json!({"question": common::QUESTION})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let accepted: Value = serde_json::from_str(&body).unwrap();
    let run = accepted["run_id"].as_str().unwrap().to_string();
    assert_eq!(accepted["events_url"], format!("/v1/runs/{run}/events"));
    let done = service
        .wait(&run, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(format!("{:?}", done.status), "Done");

    let (status, body) = call(&app, "GET", &format!("/v1/runs/{run}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["plan"]["planner"], "rules");
    assert_eq!(state["planning"][0]["outcome"], "accepted");
    assert!(state["answer"]["table"].as_array().unwrap().len() >= 2);
    assert!(state["answer"]["results"].as_array().unwrap().len() == 1);

    let (_, body) = call(&app, "GET", &format!("/v1/runs/{run}/events"), None).await;
    for kind in ["accepted", "planned", "task_started", "task_finished", "answer"] {
        assert!(
            body.contains(&format!("event: {kind}\n")),
            "{kind} missing from {body}"
        );
    }
    assert!(body.contains("\"agent\":\"trade\""), "{body}");
    // Resumed with Last-Event-ID: only the events after that one, in order, to the answer.
    let ids: Vec<(String, String)> = body
        .split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .map(str::to_string)
            };
            Some((field("id")?, field("event")?))
        })
        .collect();
    let planned = ids
        .iter()
        .position(|(_, e)| e == "planned")
        .expect("a planned event");
    let request = Request::builder()
        .method("GET")
        .uri(format!("/v1/runs/{run}/events"))
        .header("last-event-id", &ids[planned].0)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let resumed =
        String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
    let resumed_ids: Vec<&str> = resumed.lines().filter_map(|l| l.strip_prefix("id: ")).collect();
    let expected: Vec<&str> = ids[planned + 1..].iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(resumed_ids, expected, "{resumed}");
    assert!(!resumed.contains("event: accepted\n") && !resumed.contains("event: planned\n"));
    assert!(resumed.contains("event: answer\n"), "{resumed}");

    let (status, body) = call(&app, "GET", "/v1/runs", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&run));
    let (status, body) = call(&app, "GET", &format!("/v1/runs/{run}/graph?format=dot"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("digraph"), "{body}");
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors() {
    let (app, service, embedded) = app().await;
    let cases = [
        (json!({"question": "  "}), "empty"),
        (
            json!({"question": "q", "colour": "red"}),
            "unknown field `colour`",
        ),
        (
            json!({"question": "q", "mrio": "/nonexistent/mrio.zip"}),
            "/nonexistent/mrio.zip",
        ),
        (json!({"question": "x".repeat(3000)}), "longer than"),
        (json!({"qestion": "q"}), "qestion"),
    ];
    for (body, needle) in cases {
        let (status, text) = call(&app, "POST", "/v1/questions", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{needle}: {text}"
        );
    }
    let (status, text) = call(&app, "GET", "/v1/runs/run-nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    assert!(text.contains("no run run-nope"));

    // A question nobody can plan: the run fails with what can be asked, and has no graph.
    let (_, body) = call(
        &app,
        "POST",
        "/v1/questions",
        Some(json!({"question": "Will it rain tomorrow?"})),
    )
    .await;
    let run = serde_json::from_str::<Value>(&body).unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = service
        .wait(&run, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .contains("Carbon Butler can answer"),
        "{failed:?}"
    );
    let (status, text) = call(&app, "GET", &format!("/v1/runs/{run}/graph"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{text}");
    let (_, events) = call(&app, "GET", &format!("/v1/runs/{run}/events"), None).await;
    assert!(events.contains("event: failed"), "{events}");
    let (status, text) = call(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(json!({"model": "gpt-4", "messages": []})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(text.contains("model_not_found"), "{text}");
    embedded.shutdown().await;
}

#[test]
fn the_openai_client_and_the_openapi_validator_accept_the_server() {
    let python = common::venv_python();
    assert!(
        python.exists(),
        "{} is missing: run scripts/pyenv.sh (scripts/test does)",
        python.display()
    );
    let port = common::free_port();
    let mut serve = common::embedded_serve(port, &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(common::wait_healthy(&mut serve, port));
    let script = r#"
import json, sys, urllib.request
from openai import OpenAI, NotFoundError
from openapi_spec_validator import validate
base = sys.argv[1]
doc = json.load(urllib.request.urlopen(base + "/openapi.json"))
validate(doc)
assert "/v1/questions" in doc["paths"] and "RunState" in doc["components"]["schemas"], doc["paths"].keys()
client = OpenAI(base_url=base + "/v1", api_key="unused")
q = "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?"
r = client.chat.completions.create(model="carbon-butler", messages=[{"role": "user", "content": q}])
text = r.choices[0].message.content
assert "China" in text and "| quantity |" in text, text
assert r.choices[0].finish_reason == "stop"
parts = []
for chunk in client.chat.completions.create(model="carbon-butler", stream=True,
                                            messages=[{"role": "user", "content": q}]):
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
streamed = "".join(parts)
assert "China" in streamed and "Run run-" in streamed, streamed
try:
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": q}])
    raise SystemExit("an unknown model was accepted")
except NotFoundError as e:
    assert "carbon-butler" in str(e), e
print("all ok")
"#;
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains("all ok"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_may_do_what_it_may_and_nothing_else() {
    use cb_server::auth::{AuthConfig, Role, Tokens, new_token};
    let (alice, a) = new_token("alice", Role::Analyst);
    let (bob, b) = new_token("bob", Role::Analyst);
    let (carol, c) = new_token("carol", Role::Auditor);
    let (ops, o) = new_token("ops", Role::Operator);
    let config: AuthConfig = toml::from_str(&[a, b, c, o].join("\n")).unwrap();
    let tokens = Arc::new(Tokens::from_config(&config).unwrap());
    let home = tempfile::tempdir().unwrap();
    let key = cb_audit::AuditKey::load_or_create(&home.path().join("k")).unwrap();
    let store = cb_audit::AuditStore::Local(cb_audit::LocalAudit::new(home.path()));
    let (app, service, embedded) = app_with(Some(tokens), Some((store, key))).await;
    let ask = || Some(json!({"question": common::QUESTION}));

    // No token, or a wrong one: 401 everywhere but the open routes.
    for (method, uri) in [
        ("POST", "/v1/questions"),
        ("GET", "/v1/runs"),
        ("GET", "/metrics"),
    ] {
        assert_eq!(
            call_as(&app, None, method, uri, ask()).await.0,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        assert_eq!(
            call_as(&app, Some("cb_nope"), method, uri, ask()).await.0,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
    }
    assert_eq!(call_as(&app, None, "GET", "/livez", None).await.0, StatusCode::OK);
    assert_eq!(
        call_as(&app, None, "GET", "/openapi.json", None).await.0,
        StatusCode::OK
    );
    // The page and the status it starts with are open: the page asks for the token itself.
    let (status, page) = call_as(&app, None, "GET", "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<title>Carbon Butler</title>") && page.contains("/assets/app.js"),
        "{page}"
    );
    let (status, js) = call_as(&app, None, "GET", "/assets/app.js", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("/v1/questions"));
    assert_eq!(
        call_as(&app, None, "GET", "/assets/secret.txt", None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = call_as(&app, None, "GET", "/v1/status", None).await;
    assert_eq!(status, StatusCode::OK);
    let s: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(s["auth_required"], true);
    assert_eq!(s["mode"], "embedded");
    assert_eq!(s["agents"].as_array().unwrap().len(), 5);
    assert!(
        s["agents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["available"] == true),
        "{s}"
    );

    // Analyst: asks and reads their own runs only; no operations, no audit log.
    let (status, body) = call_as(&app, Some(&alice), "POST", "/v1/questions", ask()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run = serde_json::from_str::<Value>(&body).unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    service.wait(&run, Duration::from_secs(60)).await.unwrap();
    let own = format!("/v1/runs/{run}");
    assert_eq!(
        call_as(&app, Some(&alice), "GET", &own, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call_as(&app, Some(&bob), "GET", &own, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = call_as(&app, Some(&bob), "GET", "/v1/runs", None).await;
    assert!(!list.contains(&run), "{list}");
    for (method, uri) in [
        ("GET", "/metrics"),
        ("GET", &format!("{own}/audit")),
        ("POST", "/v1/workers/w/drain"),
    ] {
        let (status, text) = call_as(&app, Some(&alice), method, uri, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {text}");
        assert!(text.contains("the analyst role may not"), "{text}");
    }

    // Auditor: reads every run and its log; can never ask or change anything.
    assert_eq!(
        call_as(&app, Some(&carol), "GET", &own, None).await.0,
        StatusCode::OK
    );
    let (status, log) = call_as(&app, Some(&carol), "GET", &format!("{own}/audit"), None).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert_eq!(
        serde_json::from_str::<Value>(&log).unwrap()["verification"]["intact"],
        true,
        "{log}"
    );
    for (method, uri) in [
        ("POST", "/v1/questions"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/workers/w/drain"),
    ] {
        assert_eq!(
            call_as(&app, Some(&carol), method, uri, ask()).await.0,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }

    // Operator: health and metrics; no questions, no runs.
    assert_eq!(
        call_as(&app, Some(&ops), "GET", "/health", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call_as(&app, Some(&ops), "GET", "/metrics", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call_as(&app, Some(&ops), "GET", &own, None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call_as(&app, Some(&ops), "POST", "/v1/questions", ask()).await.0,
        StatusCode::FORBIDDEN
    );
    // Draining needs the cluster: the embedded server says so.
    let (status, text) = call_as(&app, Some(&ops), "POST", "/v1/workers/w/drain", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    embedded.shutdown().await;
}
