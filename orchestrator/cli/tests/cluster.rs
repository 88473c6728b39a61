//! The cluster with real processes and a real Redis (127.0.0.1:6379, started by scripts/redis.sh
//! when none answers): `cbutler serve` and `cbutler worker` children, killed and restarted.
//! Fault injection in the worker (`CBUTLER_FAULT_TASK_DELAY_MS`, `CBUTLER_FAULT_ABORT_TASK`)
//! makes a task last long enough to kill someone in the middle of it, or crash its worker.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const REDIS: &str = "redis://127.0.0.1:6379";

/// `cbutler audit verify RUN` against the cluster's store: (exit code, output).
fn verify(prefix: &str, run: &str) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cbutler"))
        .args(["audit", "verify", run, "--redis", REDIS, "--prefix", prefix])
        .env("CBUTLER_HOME", common::test_home())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn finished_ok(state: &Value) {
    assert_eq!(state["status"], "done", "{state:#}");
    let table = state["answer"]["table"].as_array().expect("an answer table");
    assert!(!table.is_empty(), "{state:#}");
    assert!(
        state["answer"]["errors"].as_array().unwrap().is_empty(),
        "{state:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_answered_by_a_worker_and_the_api_reports_it() {
    let p = prefix("basic");
    let port = free_port();
    let mut serve_proc = serve(REDIS, &p, port, &[]);
    let _worker = worker(REDIS, &p, "w1", "trade,lca", &[], &[]);
    wait_healthy(&mut serve_proc, port).await;
    let run = ask(port, QUESTION).await;
    let state = wait_finished(port, &run, Duration::from_secs(60)).await;
    finished_ok(&state);
    let uid = format!("{run}/{}", state["plan"]["tasks"][0]["id"].as_str().unwrap());
    let stored = stored_result(REDIS, &p, &uid).await;
    assert_eq!(stored["worker"], "w1-trade-0");
    assert_eq!(stored["attempt"], 1);

    // The events tell the story in order.
    let body = http()
        .get(format!("http://127.0.0.1:{port}/v1/runs/{run}/events"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let kinds: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(kinds.first(), Some(&"accepted"), "{body}");
    let at = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k} in {body}"))
    };
    assert!(at("planned") < at("task_started") && at("task_started") < at("task_finished"));
    assert_eq!(kinds.last(), Some(&"answer"), "{body}");

    // Graph in every format; health lists the worker and the queues.
    for (format, needle) in [("json", "\"nodes\""), ("dot", "digraph"), ("graphml", "<graphml")] {
        let r = http()
            .get(format!(
                "http://127.0.0.1:{port}/v1/runs/{run}/graph?format={format}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains(needle), "{format}");
    }
    let health = get_json(port, "/health").await;
    assert_eq!(health["redis"], "ok");
    assert!(
        health["workers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["name"] == "w1"),
        "{health}"
    );
    let metrics = get_text(&format!("http://127.0.0.1:{port}/metrics")).await;
    assert!(
        metrics.contains("cbutler_runs_finished_total{status=\"done\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("cbutler_queue_depth{agent=\"trade\"} 0"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_task_loses_it_to_another_and_one_result_is_recorded() {
    let p = prefix("kill-worker");
    let port = free_port();
    let mut serve_proc = serve(REDIS, &p, port, &[]);
    let mut slow = worker(
        REDIS,
        &p,
        "slow",
        "trade",
        &[("CBUTLER_FAULT_TASK_DELAY_MS", "60000")],
        &[],
    );
    wait_healthy(&mut serve_proc, port).await;
    let run = ask(port, QUESTION).await;
    let uid = first_task_uid(port, &run).await;
    // The slow worker has taken the task (it recorded itself as the owner): kill it.
    wait_key(REDIS, &format!("{p}:owner:{uid}"), Duration::from_secs(30)).await;
    slow.kill9();
    let _other = worker(REDIS, &p, "other", "trade", &[], &[]);
    let state = wait_finished(port, &run, Duration::from_secs(60)).await;
    finished_ok(&state);
    let stored = stored_result(REDIS, &p, &uid).await;
    assert_eq!(stored["worker"], "other-trade-0");
    assert_eq!(stored["attempt"], 2, "the second attempt answered: {stored}");
    assert_eq!(done_count(REDIS, &p, &uid).await, 1, "exactly one result");
    let mut con = redis(REDIS).await;
    let errors: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{p}:errors:{uid}"))
        .arg(0)
        .arg(-1)
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(errors[0].contains("slow-trade-0 did not finish it"), "{errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_run_is_restarted_and_the_run_finishes() {
    let p = prefix("kill-serve");
    let port = free_port();
    let mut first = serve(REDIS, &p, port, &[]);
    let _worker = worker(
        REDIS,
        &p,
        "w",
        "trade",
        &[("CBUTLER_FAULT_TASK_DELAY_MS", "3000")],
        &[],
    );
    wait_healthy(&mut first, port).await;
    let run = ask(port, QUESTION).await;
    let uid = first_task_uid(port, &run).await;
    wait_key(REDIS, &format!("{p}:enq:{uid}"), Duration::from_secs(30)).await;
    first.kill9();
    // The log of the crashed run verifies up to the crash and says where it stopped.
    let (code, text) = verify(&p, &run);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("incomplete: the run stopped after entry"), "{text}");
    let mut second = serve(REDIS, &p, port, &[]);
    wait_healthy(&mut second, port).await;
    let state = wait_finished(port, &run, Duration::from_secs(60)).await;
    finished_ok(&state);
    assert_eq!(
        done_count(REDIS, &p, &uid).await,
        1,
        "the resumed run did not run its task again"
    );
    let events = http()
        .get(format!("http://127.0.0.1:{port}/v1/runs/{run}/events"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        events.matches("event: planned").count(),
        1,
        "planned once: {events}"
    );
    // The resumed run stays in the trace it began in: every log entry, before and after the
    // crash, names the trace the run was accepted with.
    let trace = state["trace_id"].as_str().expect("a trace id").to_string();
    assert_eq!(trace.len(), 32);
    let audit = get_json(port, &format!("/v1/runs/{run}/audit")).await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["kind"] == "answer"), "{audit:#}");
    for e in entries {
        assert_eq!(e["trace_id"], trace.as_str(), "{e:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_no_accepted_question() {
    let mut own = OwnRedis::start();
    let url = own.url();
    let p = prefix("restart-redis");
    let port = free_port();
    let mut serve_proc = serve(&url, &p, port, &[]);
    let _worker = worker(
        &url,
        &p,
        "w",
        "trade",
        &[("CBUTLER_FAULT_TASK_DELAY_MS", "2000")],
        &[],
    );
    wait_healthy(&mut serve_proc, port).await;
    let before = ask(port, QUESTION).await;
    let uid = first_task_uid(port, &before).await;
    wait_key(&url, &format!("{p}:owner:{uid}"), Duration::from_secs(30)).await;
    own.kill9();
    tokio::time::sleep(Duration::from_secs(1)).await;
    own.restart();
    // The server reconnects: it is healthy again and takes new questions.
    wait_healthy(&mut serve_proc, port).await;
    let after = ask(port, "What is the carbon footprint of the EU27 in 2020?").await;
    for run in [&before, &after] {
        let state = wait_finished(port, run, Duration::from_secs(90)).await;
        finished_ok(&state);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_task_lands_in_the_dead_letter_stream_with_its_errors() {
    let p = prefix("poison");
    let port = free_port();
    let mut serve_proc = serve(REDIS, &p, port, &[]);
    wait_healthy(&mut serve_proc, port).await;
    let run = ask(port, QUESTION).await;
    let uid = first_task_uid(port, &run).await;
    let task_id = uid.rsplit('/').next().unwrap().to_string();
    // Every worker that touches this task crashes; a supervisor (this loop) restarts them.
    let crash = [("CBUTLER_FAULT_ABORT_TASK", uid.as_str())];
    let mut crashes = 0;
    let start = std::time::Instant::now();
    let state = loop {
        let mut w = worker(
            REDIS,
            &p,
            &format!("w{crashes}"),
            "trade",
            &crash,
            &["--max-attempts", "2"],
        );
        loop {
            if w.exited() {
                crashes += 1;
                break;
            }
            if let Some(s) = run_state(port, &run).await
                && (s["status"] == "done" || s["status"] == "failed")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Some(s) = run_state(port, &run).await
            && s["status"] == "done"
        {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the poison task was never dead-lettered"
        );
    };
    assert_eq!(
        crashes, 2,
        "two attempts crashed their workers, the third dead-lettered it"
    );
    let errors = state["answer"]["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e.as_str().unwrap().contains("dead-letter")),
        "{errors:?}"
    );
    let mut con = redis(REDIS).await;
    let dead: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{p}:dead:trade"))
        .arg("-")
        .arg("+")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(dead.ids.len(), 1);
    let Some(redis::Value::BulkString(raw)) = dead.ids[0].map.get("errors") else {
        panic!("no errors field")
    };
    let record: Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(record["uid"], uid);
    assert_eq!(record["errors"].as_array().unwrap().len(), 2, "{record}");
    assert!(String::from_utf8_lossy(raw).contains(&task_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_cut_off_from_redis_loses_its_task_to_another() {
    let p = prefix("cut-off");
    let port = free_port();
    let proxy = CutProxy::start(6379).await;
    let mut serve_proc = serve(REDIS, &p, port, &[]);
    let _cut_off = worker(
        &proxy.url(),
        &p,
        "cut",
        "trade",
        &[("CBUTLER_FAULT_TASK_DELAY_MS", "5000")],
        &[],
    );
    wait_healthy(&mut serve_proc, port).await;
    let run = ask(port, QUESTION).await;
    let uid = first_task_uid(port, &run).await;
    wait_key(REDIS, &format!("{p}:owner:{uid}"), Duration::from_secs(30)).await;
    proxy.cut();
    let _healthy = worker(REDIS, &p, "healthy", "trade", &[], &[]);
    let state = wait_finished(port, &run, Duration::from_secs(60)).await;
    finished_ok(&state);
    assert_eq!(stored_result(REDIS, &p, &uid).await["worker"], "healthy-trade-0");
    // The cut-off worker comes back with its own result: it is not recorded a second time.
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(done_count(REDIS, &p, &uid).await, 1);
    assert_eq!(stored_result(REDIS, &p, &uid).await["worker"], "healthy-trade-0");
}

/// `--health-listen`: /health follows the worker's reach of Redis (503 while cut off), /metrics
/// counts its tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_reports_its_health_and_metrics() {
    let p = prefix("worker-health");
    let port = free_port();
    let health_port = free_port();
    let proxy = CutProxy::start(6379).await;
    let mut serve_proc = serve(REDIS, &p, port, &[]);
    let _w = worker(
        &proxy.url(),
        &p,
        "probed",
        "trade",
        &[],
        &["--health-listen", &format!("127.0.0.1:{health_port}")],
    );
    wait_healthy(&mut serve_proc, port).await;
    let health = |expect: u16| async move {
        let start = std::time::Instant::now();
        loop {
            if let Ok(r) = http()
                .get(format!("http://127.0.0.1:{health_port}/health"))
                .send()
                .await
                && r.status().as_u16() == expect
            {
                return r.json::<Value>().await.unwrap();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the worker's /health did not answer {expect}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let ok = health(200).await;
    assert_eq!(ok["worker"], "probed");
    assert_eq!(ok["redis"], "ok");
    let run = ask(port, QUESTION).await;
    finished_ok(&wait_finished(port, &run, Duration::from_secs(60)).await);
    let metrics = get_text(&format!("http://127.0.0.1:{health_port}/metrics")).await;
    assert!(
        metrics.contains(r#"cbutler_worker_tasks_total{agent="trade",outcome="completed"} 1"#),
        "{metrics}"
    );
    proxy.cut();
    assert_eq!(health(503).await["redis"], "unreachable");
    proxy.restore();
    health(200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_busy_with_retry_after() {
    let p = prefix("busy");
    let port = free_port();
    // No workers: the first question's task waits in the queue, which holds one.
    let mut serve_proc = serve(REDIS, &p, port, &["--max-pending", "1"]);
    wait_healthy(&mut serve_proc, port).await;
    let run = ask(port, QUESTION).await;
    let uid = first_task_uid(port, &run).await;
    wait_key(REDIS, &format!("{p}:enq:{uid}"), Duration::from_secs(30)).await;
    let r = http()
        .post(format!("http://127.0.0.1:{port}/v1/questions"))
        .json(&serde_json::json!({"question": QUESTION}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "busy");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trade tasks are waiting"),
        "{body}"
    );
    // A worker drains it and the first run still finishes.
    let _worker = worker(REDIS, &p, "w", "trade", &[], &[]);
    finished_ok(&wait_finished(port, &run, Duration::from_secs(60)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_with_sigterm_hands_its_task_back() {
    let p = prefix("drain");
    let port = free_port();
    let mut serve_proc = serve(REDIS, &p, port, &[]);
    let mut leaving = worker(
        REDIS,
        &p,
        "leaving",
        "trade",
        &[("CBUTLER_FAULT_TASK_DELAY_MS", "60000")],
        &["--grace", "1"],
    );
    wait_healthy(&mut serve_proc, port).await;
    let run = ask(port, QUESTION).await;
    let uid = first_task_uid(port, &run).await;
    wait_key(REDIS, &format!("{p}:owner:{uid}"), Duration::from_secs(30)).await;
    leaving.term();
    let status = leaving
        .wait_exit(Duration::from_secs(20))
        .expect("the worker exits after its grace period");
    assert!(status.success(), "{status:?}");
    // Handed back without counting as a failed attempt; the next worker takes it at once.
    let _next = worker(REDIS, &p, "next", "trade", &[], &[]);
    finished_ok(&wait_finished(port, &run, Duration::from_secs(30)).await);
    let stored = stored_result(REDIS, &p, &uid).await;
    assert_eq!(stored["worker"], "next-trade-0");
    assert_eq!(stored["attempt"], 1, "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_drains_a_worker_and_an_analyst_cannot() {
    use cb_server::auth::{Role, new_token};
    let p = prefix("drain-op");
    let port = free_port();
    let (ops, o) = new_token("ops", Role::Operator);
    let (alice, a) = new_token("alice", Role::Analyst);
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("tokens.toml");
    std::fs::write(&auth, format!("{o}\n{a}")).unwrap();
    let _serve = serve(REDIS, &p, port, &["--auth", auth.to_str().unwrap()]);
    let mut w = worker(REDIS, &p, "draining", "trade", &[], &[]);
    let start = std::time::Instant::now();
    loop {
        if let Ok(r) = http().get(format!("http://127.0.0.1:{port}/livez")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Wait until the worker has announced itself.
    wait_key(REDIS, &format!("{p}:worker:draining"), Duration::from_secs(30)).await;
    // Probes (no token) get the verdict; only an operator sees the workers and queues.
    let probe = get_json(port, "/health").await;
    assert_eq!(probe["status"], "ok", "{probe}");
    assert!(probe.get("workers").is_none(), "{probe}");
    let full: Value = http()
        .get(format!("http://127.0.0.1:{port}/health"))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        full["workers"].as_array().is_some_and(|w| !w.is_empty()),
        "{full}"
    );
    let drain = |token: String| {
        http()
            .post(format!("http://127.0.0.1:{port}/v1/workers/draining/drain"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(drain(alice).await.unwrap().status(), 403);
    assert_eq!(
        http()
            .post(format!("http://127.0.0.1:{port}/v1/workers/draining/drain"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(drain(ops).await.unwrap().status(), 202);
    let status = w
        .wait_exit(Duration::from_secs(20))
        .expect("the drained worker exits");
    assert!(status.success(), "{status:?}");
}

/// Two servers and one run's decision log in Redis: the lease's fencing token changes when the
/// run changes hands, and the server that lost it can no longer append, even at the right
/// position; the owner re-taking its own lapsed lease keeps its token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_lost_the_lease_cannot_append_to_the_log() {
    use cb_audit::{AuditError, AuditKey, AuditStore, RunAudit};
    use cb_core::runs::RunBackend;
    let prefix = prefix("fence");
    let store = std::sync::Arc::new(
        cb_cluster::store::RedisStore::connect(REDIS, cb_cluster::Keys::new(&prefix))
            .await
            .unwrap(),
    );
    let home = tempfile::tempdir().unwrap();
    let key = AuditKey::load_or_create(&home.path().join("k")).unwrap();
    let audits = AuditStore::Shared(store.clone());
    let (run, ttl) = ("run-9-0-0-00000000", Duration::from_millis(300));

    let a = store
        .take_lease(run, "server-a", ttl)
        .await
        .unwrap()
        .expect("free");
    assert_eq!(
        store.take_lease(run, "server-b", ttl).await.unwrap(),
        None,
        "held by a"
    );
    assert_eq!(
        store.take_lease(run, "server-a", ttl).await.unwrap(),
        Some(a),
        "renewed"
    );
    let mut log_a = RunAudit::open(audits.clone(), key.clone(), run, None, Some(a)).await;
    log_a
        .record("question", serde_json::json!({"question": "q"}))
        .await
        .unwrap();
    tokio::time::sleep(ttl * 2).await;
    assert_eq!(
        store.take_lease(run, "server-a", ttl).await.unwrap(),
        Some(a),
        "lapsed, re-taken by a"
    );
    tokio::time::sleep(ttl * 2).await;
    let b = store
        .take_lease(run, "server-b", ttl)
        .await
        .unwrap()
        .expect("lapsed");
    assert!(b > a);
    let mut log_b = RunAudit::open(audits.clone(), key.clone(), run, None, Some(b)).await;
    // a's next entry would sit at the right position, but its token is stale.
    let stale = log_a
        .record("plan", serde_json::json!({"from": "a"}))
        .await
        .unwrap_err();
    assert!(matches!(stale, AuditError::Fenced { .. }), "{stale}");
    log_b
        .record("plan", serde_json::json!({"from": "b"}))
        .await
        .unwrap();
    log_b
        .record("answer", serde_json::json!({"text": "x"}))
        .await
        .unwrap();
    let (entries, head) = audits.load(run).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1].body["from"], "b");
    assert!(cb_audit::verify(run, &entries, head.as_ref(), Some(&key.public_hex())).intact);
}

/// With retention set, a finished run, its events and its closed decision log expire from
/// Redis, and the index of runs tells the expired log from a deleted one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_runs_and_closed_logs_expire_and_the_index_says_so() {
    use cb_audit::{AuditKey, AuditStore, RunAudit};
    use cb_core::runs::{EventKind, RunBackend, RunContext, RunState, RunStatus};
    let prefix = prefix("retention");
    let keys = cb_cluster::Keys::new(&prefix);
    let second = Some(Duration::from_secs(1));
    let store = std::sync::Arc::new(
        cb_cluster::store::RedisStore::connect(REDIS, keys.clone())
            .await
            .unwrap()
            .with_retention(cb_cluster::store::Retention {
                runs: second,
                audit: second,
            }),
    );
    let run = "run-7-0-0-00000000";
    let mut state = RunState::new(run.into(), "q".into(), RunContext::default());
    store.save(&state).await.unwrap();
    store
        .push_event(run, EventKind::Accepted { question: "q".into() })
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let key = AuditKey::load_or_create(&home.path().join("k")).unwrap();
    let audits = AuditStore::Shared(store.clone());
    let mut log = RunAudit::open(audits.clone(), key.clone(), run, None, None).await;
    log.record("question", serde_json::json!({"question": "q"}))
        .await
        .unwrap();
    log.record("answer", serde_json::json!({"text": "a"}))
        .await
        .unwrap();
    state.status = RunStatus::Done;
    store.save(&state).await.unwrap();

    let mut con = redis::Client::open(REDIS)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for k in [
        keys.run(run),
        keys.run_events(run),
        keys.audit(run),
        keys.audit_head(run),
    ] {
        let ttl: i64 = redis::cmd("TTL").arg(&k).query_async(&mut con).await.unwrap();
        assert!((0..=1).contains(&ttl), "{k}: TTL {ttl}");
    }
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert!(store.get(run).await.unwrap().is_none());
    assert!(store.list(10).await.unwrap().iter().all(|r| r.run_id != run));
    let v = cb_audit::verify_index(&audits, Some(&key.public_hex()))
        .await
        .unwrap();
    assert!(v.intact(), "{v:?}");
}
