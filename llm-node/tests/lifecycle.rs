//! The node as operators run it: metrics on a port of their own, the API key from a file, and
//! SIGTERM letting a running request finish before the process exits.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_apart_and_sigterm_drains() {
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut node = common::start(
        "qwen2-tiny",
        "tiny",
        &[
            "--metrics-listen",
            &format!("127.0.0.1:{metrics_port}"),
            "--drain-seconds",
            "30",
        ],
    );
    let base = format!("http://127.0.0.1:{}", node.port);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let m = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(m.status(), 200);
    assert!(m.text().await.unwrap().contains("llm_structured_mask_seconds"));
    let on_api = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), 404, "metrics are not on the API's port");

    // Stop strings are bounded.
    let long_stop = http
        .post(format!("{base}/v1/completions"))
        .json(&json!({"model": "tiny", "prompt": "x", "stop": ["y".repeat(200)]}))
        .send()
        .await
        .unwrap();
    assert_eq!(long_stop.status(), 400);

    // A long answer is running when SIGTERM comes: it still completes, then the node exits.
    let request = {
        let http = http.clone();
        let url = format!("{base}/v1/completions");
        tokio::spawn(async move {
            http.post(url)
                .json(
                    &json!({"model": "tiny", "prompt": "The footprint of steel", "max_tokens": 2000,
                              "ignore_eos": true, "temperature": 0}),
                )
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let pid = node.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let signalled = Instant::now();
    assert!(
        !request.is_finished(),
        "the request ended before the signal: make it longer"
    );
    let answer = request.await.unwrap();
    assert_eq!(answer["usage"]["completion_tokens"], 2000, "{answer}");
    eprintln!("the request finished {:?} after SIGTERM", signalled.elapsed());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = node.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the node did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

/// Hostile schemas against the real node: 40,000 chained `$ref`s and a union of three
/// self-references are answered (or refused with 400) within seconds, and the node serves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_schemas_are_answered_in_bounded_time() {
    let node = common::start("qwen2-tiny", "tiny", &[]);
    let base = format!("http://127.0.0.1:{}", node.port);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut defs = serde_json::Map::new();
    for i in 0..40_000 {
        defs.insert(format!("d{i}"), json!({"$ref": format!("#/$defs/d{}", i + 1)}));
    }
    defs.insert("d40000".into(), json!({"type": "integer"}));
    let chain = json!({"$ref": "#/$defs/d0", "$defs": defs});
    let union = json!({"$ref": "#/$defs/u", "$defs": {"u": {"anyOf": [
        {"$ref": "#/$defs/u"}, {"$ref": "#/$defs/u"}, {"$ref": "#/$defs/u"}]}}});
    for schema in [chain, union] {
        let started = Instant::now();
        let r = http
            .post(format!("{base}/v1/chat/completions"))
            .json(&json!({"model": "tiny", "max_tokens": 32,
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}}))
            .send()
            .await
            .unwrap();
        assert!([200, 400].contains(&r.status().as_u16()), "{}", r.status());
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }
    let alive = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(alive.status(), 200);
}
