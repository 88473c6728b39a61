//! One question, one trace: `cbutler serve` (with the LLM planner), a `cbutler worker` behind
//! Redis Streams and the real `cb-llm-node` (tiny SYNTHETIC Qwen2) all export spans over
//! OTLP/HTTP to a receiver that decodes them with the official `opentelemetry-proto` package
//! (tests/otlp_receiver.py, in .venv/ by scripts/pyenv.sh). Checks that every span
//! of the run is in one trace, that the trace context crossed HTTP (server → node) and the Redis
//! stream (server → worker), that the LLM call carries the GenAI attributes, and that every
//! decision-log entry names the trace.
//!
//! Needs the `cbutler` binary beside `cb-llm-node` (`cargo test --workspace` builds both) and a
//! Redis on 127.0.0.1:6379 (scripts/test starts one).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `cbutler` binary beside `cb-llm-node`. `cargo test --workspace` builds it; `cargo test -p
/// cb-llm-node` alone does not, so it is built here with the same profile (cargo holds no lock on
/// the build directory while tests run).
fn cbutler_binary() -> PathBuf {
    let node = Path::new(env!("CARGO_BIN_EXE_cb-llm-node"));
    let bin = node.with_file_name("cbutler");
    if !bin.exists() {
        let profile = match node.parent().and_then(|d| d.file_name()).and_then(|n| n.to_str()) {
            Some("debug") | None => "dev".to_string(),
            Some(other) => other.to_string(),
        };
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "cbutler",
                "--bin",
                "cbutler",
                "--profile",
                &profile,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cannot build the cbutler binary this test runs");
    }
    assert!(bin.exists(), "{} is missing after building it", bin.display());
    bin
}

fn spans(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn find<'a>(spans: &'a [Value], service: &str, name: &str, kind: &str) -> Vec<&'a Value> {
    spans
        .iter()
        .filter(|s| s["service"] == service && s["name"] == name && s["kind"] == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_question_is_one_trace_across_server_worker_and_llm_node() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pyenv.sh (scripts/test does)",
        python.display()
    );
    let cbutler = cbutler_binary();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spans.jsonl");

    let mut receiver = Command::new(&python)
        .arg(root.join("../tests/otlp_receiver.py"))
        .arg(&out)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(receiver.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _receiver = Killed(receiver);
    let otlp_port: u16 = first.trim().parse().expect("the receiver prints its port");
    let endpoint = format!("http://127.0.0.1:{otlp_port}");
    let otel = |service: &'static str| {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ("OTEL_SERVICE_NAME", service.to_string()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_string()),
        ]
    };

    let node_env = otel("cb-llm-node");
    let node_env: Vec<(&str, &str)> = node_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let node = common::start_with_env("qwen2-tiny", "tiny-qwen2", &[], &node_env);

    let redis = "redis://127.0.0.1:6379";
    let prefix = format!("cbtrace{}", std::process::id());
    let home = dir.path().join("home");
    let port = free_port();
    let serve = Command::new(&cbutler)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--redis", redis, "--prefix", &prefix])
        .args(["--llm-url", &format!("http://127.0.0.1:{}/v1", node.port)])
        .args(["--llm-model", "tiny-qwen2"])
        .env("CBUTLER_HOME", &home)
        .envs(otel("cbutler-serve"))
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let _serve = Killed(serve);
    let worker = Command::new(&cbutler)
        .args(["worker", "--redis", redis, "--prefix", &prefix])
        .args(["--name", "tracer", "--agents", "trade"])
        .env("CBUTLER_HOME", &home)
        .envs(otel("cbutler-worker"))
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let _worker = Killed(worker);

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            let h: Value = r.json().await.unwrap();
            if h["workers"].as_array().is_some_and(|w| !w.is_empty()) {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve and worker did not come up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let accepted: Value = http
        .post(format!("{base}/v1/questions"))
        .json(&serde_json::json!({"question": "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = accepted["run_id"].as_str().unwrap().to_string();
    let trace = accepted["trace_id"]
        .as_str()
        .expect("the run's trace id")
        .to_string();
    assert_eq!(trace.len(), 32);
    let get = |path: String| {
        let http = http.clone();
        async move {
            let r = http.get(path).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let state = loop {
        let s = get(format!("{base}/v1/runs/{run}")).await;
        if s["status"] == "done" || s["status"] == "failed" {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "run {run} did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(state["status"], "done", "{state:#}");
    for a in state["planning"].as_array().unwrap() {
        eprintln!(
            "attempt: {} {} {} {}",
            a["operation"], a["planner"], a["outcome"], a["error"]
        );
    }
    assert_eq!(state["trace_id"], trace.as_str());

    // Every decision-log entry names the run's trace.
    let audit = get(format!("{base}/v1/runs/{run}/audit")).await;
    let entries = audit["entries"].as_array().expect("entries");
    assert!(entries.len() >= 4, "{audit:#}");
    for e in entries {
        assert_eq!(e["trace_id"], trace.as_str(), "{e:#}");
    }

    // Wait for the spans of all three processes (the run span ends last, with the answer).
    let deadline = Instant::now() + Duration::from_secs(30);
    let all = loop {
        let all = spans(&out);
        let services: std::collections::BTreeSet<&str> =
            all.iter().filter_map(|s| s["service"].as_str()).collect();
        let run_span_in = all.iter().any(|s| s["name"] == "run");
        // Each process exports on its own schedule: the node's span of the last LLM call can
        // arrive after the server's run span, so wait for every call's node span too.
        let calls_served = all
            .iter()
            .filter(|s| s["service"] == "cbutler-serve" && s["kind"] == "SPAN_KIND_CLIENT")
            .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("chat ")))
            .all(|c| {
                all.iter()
                    .any(|s| s["service"] == "cb-llm-node" && s["parent_span_id"] == c["span_id"])
            });
        if run_span_in
            && calls_served
            && ["cb-llm-node", "cbutler-serve", "cbutler-worker"]
                .iter()
                .all(|s| services.contains(s))
        {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "spans from all three processes did not arrive; got {services:?}: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // One trace: every span anyone exported belongs to the run's.
    for s in &all {
        assert_eq!(
            s["trace_id"],
            trace.as_str(),
            "a span outside the run's trace: {s:#}"
        );
    }
    let by_id = |id: &Value| all.iter().find(|s| s["span_id"] == *id);

    let run_span = find(&all, "cbutler-serve", "run", "SPAN_KIND_INTERNAL");
    assert_eq!(run_span.len(), 1, "{all:#?}");
    assert_eq!(run_span[0]["attributes"]["cbutler.run.id"], run.as_str());
    let plan = find(&all, "cbutler-serve", "plan", "SPAN_KIND_INTERNAL");
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0]["parent_span_id"], run_span[0]["span_id"]);

    // The LLM calls: client spans on the server with GenAI attributes, each the parent of the
    // node's server span.
    let chats = find(&all, "cbutler-serve", "chat tiny-qwen2", "SPAN_KIND_CLIENT");
    assert!(!chats.is_empty(), "{all:#?}");
    assert!(
        chats.iter().any(|c| c["status"] != "STATUS_CODE_ERROR"),
        "{chats:#?}"
    );
    for c in &chats {
        let a = &c["attributes"];
        assert_eq!(a["gen_ai.operation.name"], "chat");
        assert_eq!(a["gen_ai.provider.name"], "openai");
        assert_eq!(a["gen_ai.request.model"], "tiny-qwen2");
        assert_eq!(a["gen_ai.request.temperature"], 0.0);
        assert!(a["server.port"].as_i64().is_some(), "{a:#}");
        if c["status"] == "STATUS_CODE_ERROR" {
            // A call the node refused: the error is named on both sides.
            assert!(a["error.type"].is_string(), "{c:#}");
        } else {
            assert!(a["gen_ai.usage.input_tokens"].as_i64().unwrap() > 100, "{a:#}");
            assert!(a["gen_ai.usage.output_tokens"].as_i64().unwrap() > 0, "{a:#}");
            assert!(
                a["gen_ai.response.finish_reasons"]
                    .as_array()
                    .is_some_and(|r| r.len() == 1),
                "{a:#}"
            );
        }
        let parent = by_id(&c["parent_span_id"]).expect("a chat span's parent was exported");
        assert!(
            parent["name"] == "plan" || parent["name"] == "write_prose",
            "{parent:#}"
        );
        let served: Vec<_> = all
            .iter()
            .filter(|s| s["service"] == "cb-llm-node" && s["parent_span_id"] == c["span_id"])
            .collect();
        assert_eq!(served.len(), 1, "the node's span of {c:#}");
        assert_eq!(served[0]["name"], "chat tiny-qwen2");
        assert_eq!(served[0]["kind"], "SPAN_KIND_SERVER");
        assert_eq!(served[0]["status"], c["status"]);
        assert_eq!(
            served[0]["attributes"]["gen_ai.usage.output_tokens"],
            a["gen_ai.usage.output_tokens"]
        );
    }

    // The task: the server's client span, and under it the worker's consumer span (the context
    // went through the Redis stream entry).
    let invoke = find(&all, "cbutler-serve", "invoke_agent trade", "SPAN_KIND_CLIENT");
    assert!(!invoke.is_empty(), "{all:#?}");
    for i in &invoke {
        assert_eq!(i["parent_span_id"], run_span[0]["span_id"]);
        assert_eq!(i["attributes"]["gen_ai.agent.name"], "trade");
        let consumed: Vec<_> = all
            .iter()
            .filter(|s| s["service"] == "cbutler-worker" && s["parent_span_id"] == i["span_id"])
            .collect();
        assert_eq!(consumed.len(), 1, "the worker's span of {i:#}");
        assert_eq!(consumed[0]["name"], "invoke_agent trade");
        assert_eq!(consumed[0]["kind"], "SPAN_KIND_CONSUMER");
        assert_eq!(consumed[0]["attributes"]["messaging.system"], "redis");
        assert_eq!(consumed[0]["attributes"]["cbutler.task.attempt"], 1);
        assert_eq!(
            i["attributes"]["cbutler.worker"],
            consumed[0]["attributes"]["cbutler.worker"]
        );
    }
}
