//! The LLM planner's gate: an OpenAI-compatible endpoint scripted by each test (so the test
//! decides what the "model" says) and the real agents. What is tested is what the orchestrator
//! does with the replies: validate, retry once with the error, fall back to the rules, check the
//! prose's numbers, respect timeouts and the token budget, and record every attempt.
//! `llm-node/tests/planner.rs` runs the same path against the real cb-llm-node.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use cb_core::{AskRequest, Embedded, OrchestratorArgs, RunOutcome};
use cb_planner::openai::{LlmClient, LlmConfig};
use cb_planner::{PlanContext, Planner};
use serde_json::{Value, json};

type Script = Arc<dyn Fn(&Value, usize) -> (Duration, String) + Send + Sync>;

#[derive(Clone)]
struct Scripted {
    script: Script,
    requests: Arc<Mutex<Vec<Value>>>,
}

async fn completions(State(s): State<Scripted>, Json(body): Json<Value>) -> Json<Value> {
    let n = {
        let mut r = s.requests.lock().unwrap();
        r.push(body.clone());
        r.len() - 1
    };
    let (delay, content) = (s.script)(&body, n);
    tokio::time::sleep(delay).await;
    Json(json!({
        "id": format!("c{n}"), "object": "chat.completion", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    }))
}

/// Starts an endpoint answering with `script(request, n)`; returns its URL and the requests.
async fn endpoint(script: Script) -> (String, Arc<Mutex<Vec<Value>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(Scripted {
            script,
            requests: requests.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, requests)
}

const QUESTION: &str =
    "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?";

fn plan_for(countries: &[&str]) -> String {
    json!({
        "question": "ignored", "planner": "llm", "intent": "consumption versus territorial CO2",
        "tasks": [{"id": "national", "agent": "trade",
                   "params": {"op": "national_accounts", "countries": countries, "year": 2022}}]
    })
    .to_string()
}

fn is_prose(request: &Value) -> bool {
    request.get("response_format").is_none()
}

async fn ask_with(url: &str, configure: impl FnOnce(&mut LlmConfig), budget: u32) -> RunOutcome {
    let mut config = LlmConfig::new(url, "scripted");
    configure(&mut config);
    let planner = Planner::Llm(Arc::new(LlmClient::new(config).unwrap()));
    let embedded = Embedded::start(OrchestratorArgs {
        journal: None,
        task_timeout: Duration::from_secs(120),
        planner,
        token_budget: budget,
        data_roots: None,
    })
    .await
    .unwrap();
    let outcome = embedded
        .ask(AskRequest {
            question: QUESTION.into(),
            context: PlanContext::default(),
        })
        .await
        .unwrap();
    embedded.shutdown().await;
    outcome
}

fn outcomes(outcome: &RunOutcome) -> Vec<(String, String, String)> {
    outcome
        .answer
        .planning
        .iter()
        .map(|a| (a.operation.clone(), a.planner.clone(), a.outcome.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_plan_is_retried_with_its_error_and_checked_prose_replaces_the_template() {
    let (url, requests) = endpoint(Arc::new(|req: &Value, n| {
        if is_prose(req) {
            // Quote the first result line of the prompt: its numbers are the run's.
            let prompt = req["messages"][1]["content"].as_str().unwrap_or_default();
            let line = prompt.lines().find(|l| l.starts_with("- ")).unwrap_or_default();
            return (
                Duration::ZERO,
                format!("In short: {}.", line.trim_start_matches("- ")),
            );
        }
        let plan = if n == 0 {
            plan_for(&["Atlantis"])
        } else {
            plan_for(&["CHN"])
        };
        (Duration::ZERO, plan)
    }))
    .await;
    let outcome = ask_with(&url, |_| {}, 16_000).await;
    let a = &outcome.answer;
    assert_eq!(
        outcomes(&outcome),
        [
            ("plan".into(), "llm:scripted".into(), "rejected".into()),
            ("plan".into(), "llm:scripted".into(), "accepted".into()),
            ("prose".into(), "llm:scripted".into(), "accepted".into()),
        ]
    );
    assert!(
        a.planning[0].error.as_deref().unwrap().contains("Atlantis"),
        "{:?}",
        a.planning[0]
    );
    assert_eq!(a.planning[1].input_tokens, 100);
    assert_eq!(a.plan.planner, "llm:scripted");
    assert_eq!(
        a.plan.question, QUESTION,
        "the question is the user's, whatever the LLM wrote"
    );
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!(a.writer, "llm:scripted");
    assert!(a.text.starts_with("In short:"), "{}", a.text);
    // The retry carried the rejected plan and the reason.
    let reqs = requests.lock().unwrap();
    // (after the system prompt and the worked examples, whose count may change).
    let retry = reqs[1]["messages"].as_array().unwrap();
    let n = retry.len();
    assert_eq!(retry[n - 2]["role"], "assistant");
    assert!(retry[n - 2]["content"].as_str().unwrap().contains("Atlantis"));
    assert!(retry[n - 1]["content"].as_str().unwrap().contains("Atlantis"));
    assert_eq!(retry[n - 3]["content"], QUESTION);
    assert_eq!(reqs[0]["response_format"]["type"], "json_schema");
    assert_eq!(reqs[0]["model"], "scripted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prose_with_a_number_of_its_own_is_refused_and_the_template_stays() {
    let (url, _) = endpoint(Arc::new(|req: &Value, _| {
        if is_prose(req) {
            (
                Duration::ZERO,
                "China emitted 12345.678 Mt, far more than anyone.".into(),
            )
        } else {
            (Duration::ZERO, plan_for(&["CHN"]))
        }
    }))
    .await;
    let outcome = ask_with(&url, |_| {}, 16_000).await;
    let a = &outcome.answer;
    assert_eq!(a.writer, "template");
    let prose = a.planning.iter().find(|p| p.operation == "prose").unwrap();
    assert_eq!(prose.outcome, "rejected");
    assert!(prose.error.as_deref().unwrap().contains("12345.678"), "{prose:?}");
    assert!(!a.text.contains("12345.678"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bad_plans_fall_back_to_the_rules() {
    // Not JSON, then a plan that reads a file nobody gave it.
    let (url, _) = endpoint(Arc::new(|req: &Value, n| {
        if is_prose(req) {
            return (Duration::ZERO, String::new());
        }
        let reply = if n == 0 {
            "Sure! Here is a plan:".to_string()
        } else {
            json!({"question": "q", "planner": "llm", "intent": "x", "tasks": [{"id": "t", "agent": "trade",
                "params": {"op": "mrio_accounts", "mrio": {"path": "/etc/passwd"}}}]})
            .to_string()
        };
        (Duration::ZERO, reply)
    }))
    .await;
    let outcome = ask_with(&url, |_| {}, 16_000).await;
    let a = &outcome.answer;
    let got = outcomes(&outcome);
    assert_eq!(got[0].2, "rejected");
    assert!(a.planning[0].error.as_deref().unwrap().contains("not JSON"));
    assert_eq!(got[1].2, "rejected");
    assert!(
        a.planning[1]
            .error
            .as_deref()
            .unwrap()
            .contains("no MRIO was given"),
        "{:?}",
        a.planning[1]
    );
    assert_eq!(got[2], ("plan".into(), "rules".into(), "accepted".into()));
    assert_eq!(a.plan.planner, "rules");
    assert!(!a.table.is_empty());
    // Empty prose is refused too.
    assert_eq!(got[3].2, "rejected");
    assert_eq!(a.writer, "template");
}

/// The gate holds an LLM's plan to the same cost caps as the rules: a million Sobol samples, or
/// more tasks than a plan may have, never run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_beyond_the_cost_caps_are_rejected() {
    let (url, _) = endpoint(Arc::new(|req: &Value, n| {
        if is_prose(req) {
            return (Duration::ZERO, String::new());
        }
        let sobol = |i: usize| {
            json!({"id": format!("t{i}"), "agent": "uncertainty",
                "params": {"op": "sobol", "function": "ishigami", "samples": 1_000_000, "bootstrap": 200}})
        };
        let tasks: Vec<Value> = if n == 0 {
            vec![sobol(0)]
        } else {
            (0..40).map(sobol).collect()
        };
        let reply = json!({"question": "q", "planner": "llm", "intent": "x", "tasks": tasks}).to_string();
        (Duration::ZERO, reply)
    }))
    .await;
    let outcome = ask_with(&url, |_| {}, 16_000).await;
    let a = &outcome.answer;
    let got = outcomes(&outcome);
    assert_eq!(got[0].2, "rejected");
    assert_eq!(got[1].2, "rejected");
    for attempt in &a.planning[..2] {
        let e = attempt.error.as_deref().unwrap();
        assert!(e.contains("100000") || e.contains("32"), "{e}");
    }
    assert_eq!(a.plan.planner, "rules");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_llm_times_out_and_the_rules_answer() {
    let (url, _) = endpoint(Arc::new(|_: &Value, _| {
        (Duration::from_secs(5), plan_for(&["CHN"]))
    }))
    .await;
    let outcome = ask_with(&url, |c| c.timeout = Duration::from_secs(1), 16_000).await;
    let a = &outcome.answer;
    assert_eq!(a.planning[0].outcome, "failed");
    assert!(
        a.planning[0].error.as_deref().unwrap().contains("within 1 s"),
        "{:?}",
        a.planning[0]
    );
    assert_eq!(a.plan.planner, "rules");
    assert!(!a.table.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_token_budget_skips_the_llm() {
    let (url, requests) = endpoint(Arc::new(|_: &Value, _| (Duration::ZERO, plan_for(&["CHN"])))).await;
    let outcome = ask_with(&url, |_| {}, 500).await;
    let a = &outcome.answer;
    assert_eq!(a.planning[0].outcome, "skipped");
    assert!(a.planning[0].error.as_deref().unwrap().contains("budget"));
    assert_eq!(a.plan.planner, "rules");
    assert!(requests.lock().unwrap().is_empty(), "no call was made");
}

#[test]
fn the_gate_names_what_is_wrong() {
    use cb_planner::llm::check_plan;
    let ctx = PlanContext::default();
    let check = |reply: Value| check_plan(&reply.to_string(), "q", &ctx, "llm:m").unwrap_err();
    let base = |tasks: Value| json!({"question": "q", "planner": "llm", "intent": "i", "tasks": tasks});
    let national = |id: &str, deps: Value| {
        json!({"id": id, "depends_on": deps, "agent": "trade",
        "params": {"op": "national_accounts", "countries": ["CHN"]}})
    };
    let e = check(base(json!([
        national("a", json!(["b"])),
        national("b", json!(["a"]))
    ])));
    assert!(e.contains("cycle"), "{e}");
    let e = check(base(json!([{"id": "a", "agent": "astrology", "params": {}}])));
    assert!(e.contains("schema"), "{e}");
    let e = check(base(
        json!([{"id": "a", "agent": "lca", "params": {"op": "cbam_cost", "country": "CHN",
        "cn_code": "99999999", "tonnes": 1.0, "year": 2026}}]),
    ));
    assert!(e.contains("99999999"), "{e}");
    let e = check(base(
        json!([{"id": "a", "agent": "factory", "params": {"op": "macc", "plant": "/tmp/evil.toml"}}]),
    ));
    assert!(e.contains("not a bundled plant"), "{e}");
    let ok = check_plan(
        &base(json!([national("a", json!([]))])).to_string(),
        "the question",
        &ctx,
        "llm:m",
    )
    .unwrap();
    assert_eq!(
        (ok.planner.as_str(), ok.question.as_str()),
        ("llm:m", "the question")
    );
}

/// `cbutler ask --llm-no-prose`: the LLM plans, but is never asked to write the answer; the
/// template text stays. Without the flag the same endpoint is asked for prose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_no_prose_keeps_the_template_and_never_asks_for_prose() {
    let (url, requests) = endpoint(Arc::new(|req: &Value, _| {
        if is_prose(req) {
            (Duration::ZERO, "Prose from the model.".into())
        } else {
            (Duration::ZERO, plan_for(&["CHN"]))
        }
    }))
    .await;
    let run = |extra: Option<&'static str>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let home = tempfile::tempdir().unwrap();
            let mut args = vec![
                "ask",
                "--llm-url",
                url.as_str(),
                "--llm-model",
                "scripted",
                "--json",
            ];
            args.extend(extra);
            args.push(QUESTION);
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_cbutler"))
                .args(&args)
                .env("CBUTLER_HOME", home.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        })
    };
    let a = run(Some("--llm-no-prose")).await.unwrap();
    assert_eq!(a["writer"], "template", "{a}");
    assert!(!requests.lock().unwrap().iter().any(is_prose));
    assert!(
        requests.lock().unwrap().iter().any(|r| !is_prose(r)),
        "the LLM still plans"
    );
    let _ = run(None).await.unwrap();
    assert!(
        requests.lock().unwrap().iter().any(is_prose),
        "without the flag prose is asked for"
    );
}
