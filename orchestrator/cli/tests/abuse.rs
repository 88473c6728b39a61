//! The abuse suite: hostile requests against real `cbutler serve` processes (and a served
//! agent), each asserting its bounded outcome — status, time, memory.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cb_agent_runtime::AgentMsg;
use cb_protocol::{AgentKind, MrioSource, Task, TaskOutcome, TaskSpec, TradeTask};
use common::*;
use serde_json::json;

fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Resident memory of a process, in MB (Linux).
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A root holding a symlink that leaves it.
fn leaky_root() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc", d.path().join("leak")).unwrap();
    std::os::unix::fs::symlink("/proc/self", d.path().join("loop")).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_outside_the_data_roots_are_refused_alike_and_fast() {
    let leaky = leaky_root();
    let fixtures = repo().join("actors/trade/tests/fixtures");
    let port = free_port();
    let mut serve = embedded_serve(
        port,
        &[
            "--data-root",
            fixtures.to_str().unwrap(),
            "--data-root",
            leaky.path().to_str().unwrap(),
        ],
    );
    wait_healthy(&mut serve, port).await;
    let pid = serve.child.id();
    let url = format!("http://127.0.0.1:{port}/v1/questions");
    let client = http();
    let mut messages = Vec::new();
    for path in [
        "/proc",
        "/proc/self/root",
        "/etc/passwd",
        "../../../../etc/passwd",
        "leak",
        "leak/passwd",
        "loop",
        "/nonexistent/mrio.zip",
        &"a/".repeat(3000),
    ] {
        let start = Instant::now();
        let r = client
            .post(&url)
            .json(&json!({"question": QUESTION, "mrio": path}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            start.elapsed()
        );
        let v: serde_json::Value = r.json().await.unwrap();
        let m = v["error"]["message"].as_str().unwrap().to_string();
        let shown: String = path.chars().take(200).collect();
        // The same sentence whether the path exists outside the roots or not at all.
        messages.push(m.replace(&format!("{shown:?}"), "PATH"));
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(
        messages[0].contains("under this server's data roots"),
        "{}",
        messages[0]
    );
    assert!(rss_mb(pid) < 400.0, "the server grew to {} MB", rss_mb(pid));

    // Inside a root, by a relative or an absolute path: accepted.
    for path in [
        "pymrio-test/input",
        fixtures.join("pymrio-test/input").to_str().unwrap(),
    ] {
        let r = client
            .post(&url)
            .json(&json!({"question": QUESTION, "mrio": path}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{path}: {}", r.text().await.unwrap());
    }
    // An inventory database outside the roots, the same way.
    let r = client
        .post(&url)
        .json(&json!({"question": "What is the carbon footprint of 1 kg of polyethylene?", "lci": "/etc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("lci: \"/etc\" is not a readable file or folder"),
        "{m}"
    );

    // Run ids never become paths.
    for id in ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", "run-1%2F..%2F..", "a.b"] {
        for tail in ["", "/audit", "/events", "/graph"] {
            let r = client
                .get(format!("http://127.0.0.1:{port}/v1/runs/{id}{tail}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{id}{tail}");
        }
    }
    serve.term();
}

/// A served agent (as a worker runs it) refuses a task naming a file outside its roots, even
/// when the task did not come through the API's check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_agent_reads_only_under_its_roots() {
    let fixtures = repo().join("actors/trade/tests/fixtures");
    let roots = Arc::new(cb_core::DataRoots::new(std::slice::from_ref(&fixtures), &[]).unwrap());
    let agent = cb_core::orchestrator::spawn_agent(AgentKind::Trade, Some(roots))
        .await
        .unwrap();
    let task = |path: &str| {
        Task::new(
            "t1",
            TaskSpec::Trade(TradeTask::Transfers {
                mrio: MrioSource { path: path.into() },
                stressor: "emission_type1".into(),
                from: None,
                to: None,
            }),
        )
    };
    for (path, refused) in [
        ("/proc", true),
        ("../../../../etc", true),
        ("pymrio-test/input", false),
    ] {
        let result = ractor::call!(agent, AgentMsg::Run, task(path)).unwrap();
        match result.outcome {
            TaskOutcome::Failed(e) if refused => {
                assert!(
                    e.message.contains("under this server's data roots"),
                    "{path}: {}",
                    e.message
                )
            }
            TaskOutcome::Completed(_) if !refused => {}
            other => panic!("{path}: {other:?}"),
        }
    }
}

/// Polls a run until it has finished.
async fn wait_done(port: u16, run: &str) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let state = get_json(port, &format!("/v1/runs/{run}")).await;
        if state["status"] == "done" || state["status"] == "failed" {
            return state;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{state:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_quotas_and_streams_are_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = free_port();
    let mut serve = embedded_serve(
        port,
        &[
            "--header-read-timeout",
            "1",
            "--max-runs-per-token",
            "1",
            "--max-streams-per-token",
            "1",
        ],
    );
    wait_healthy(&mut serve, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = http();

    // A client that never finishes its headers is cut off after the header-read timeout.
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "the connection stayed open"
    );
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());

    // A keep-alive connection left idle after its answer is closed after the same time.
    let mut idle = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    idle.write_all(b"GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 1024];
    let n = idle.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    let start = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut answer)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the idle connection stayed open"
    );
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());

    // Open mode on loopback answers only requests addressed to localhost (DNS rebinding).
    let r = client
        .get(format!("{base}/v1/runs"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client
        .get(format!("{base}/v1/runs"))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // One run at a time for this (token-free) caller: a second question while the first runs
    // is told to come back.
    let ask = |q: &'static str| {
        let client = client.clone();
        let url = format!("{base}/v1/questions");
        async move {
            client
                .post(url)
                .json(&json!({ "question": q }))
                .send()
                .await
                .unwrap()
        }
    };
    let first = ask("Which inputs of the Ishigami function matter most? Use 100000 samples.").await;
    assert_eq!(first.status(), 202);
    let run = first.json::<serde_json::Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = ask("What uncertainty do pedigree scores (2,3,1,4,5) imply?").await;
    assert_eq!(second.status(), 429, "{}", second.text().await.unwrap());

    // One event stream at a time: a second is refused while the first is open.
    let held = client
        .get(format!("{base}/v1/runs/{run}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), 200);
    let refused = client
        .get(format!("{base}/v1/runs/{run}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    drop(held);
    let state = wait_done(port, &run).await;
    assert_eq!(state["status"], "done", "{state:#}");

    // A finished run's stream ends after its last event; from that event on it is empty and
    // ends at once; a cursor that is not one of its events is refused.
    let start = Instant::now();
    let all = get_text(&format!("{base}/v1/runs/{run}/events")).await;
    let last = all
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .to_string();
    let tail = client
        .get(format!("{base}/v1/runs/{run}/events"))
        .header("last-event-id", &last)
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 200);
    assert!(!tail.text().await.unwrap().contains("id: "));
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    let past = client
        .get(format!("{base}/v1/runs/{run}/events"))
        .header("last-event-id", "999999")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), 400);

    // Quotas are given back: the caller may ask again.
    let again = ask("What uncertainty do pedigree scores (2,3,1,4,5) imply?").await;
    assert_eq!(again.status(), 202);
    serve.term();
}

#[test]
fn serving_beyond_loopback_without_tokens_is_refused_unless_asked_for() {
    let port = free_port();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_cbutler"))
        .args(["serve", "--listen", &format!("0.0.0.0:{port}")])
        .env("CBUTLER_HOME", test_home())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = serve.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "serve kept running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("--insecure-open") && err.contains("--auth"), "{err}");
}

/// A question asking for a million Sobol samples is refused at planning, in bounded time and
/// memory, by a real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_costly_question_is_refused_at_planning() {
    let port = free_port();
    let mut serve = embedded_serve(port, &[]);
    wait_healthy(&mut serve, port).await;
    let pid = serve.child.id();
    let r = http()
        .post(format!("http://127.0.0.1:{port}/v1/questions"))
        .json(&json!({"question": "Which inputs of the Ishigami function matter most? Use 1000000 samples."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let run = r.json::<serde_json::Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let started = Instant::now();
    let state = wait_done(port, &run).await;
    assert_eq!(state["status"], "failed", "{state:#}");
    assert!(
        state.to_string().contains("100,000") || state.to_string().contains("100000"),
        "{state:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(rss_mb(pid) < 400.0, "the server grew to {} MB", rss_mb(pid));
    serve.term();
}
