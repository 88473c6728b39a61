//! Carbon Butler's LLM planner against the real `cb-llm-node` serving the tiny SYNTHETIC Qwen2
//! checkpoint. Its plans are schema-valid (the node enforces the JSON Schema) but meaningless, so
//! this checks the real path end to end: the request the orchestrator sends is one the node
//! accepts and constrains, the reply goes through the gate, a rejected plan is retried and then
//! replaced by the rules' plan, every attempt is recorded with the node's token counts, and any
//! prose the node writes is shown only if its numbers check out.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cb_core::{AskRequest, Embedded, OrchestratorArgs};
use cb_planner::openai::{LlmClient, LlmConfig};
use cb_planner::{PlanContext, Planner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_talks_to_the_node_and_falls_back_when_its_plan_is_rejected() {
    let node = common::start("qwen2-tiny", "tiny-qwen2", &[]);
    let port = node.port;

    let mut config = LlmConfig::new(&format!("http://127.0.0.1:{port}/v1"), "tiny-qwen2");
    config.max_plan_tokens = 400;
    config.max_prose_tokens = 60;
    config.timeout = Duration::from_secs(120);
    // The tiny test model's context (2,048 positions) cannot hold the worked examples.
    config.worked_examples = false;
    let embedded = Embedded::start(OrchestratorArgs {
        journal: None,
        task_timeout: Duration::from_secs(120),
        planner: Planner::Llm(Arc::new(LlmClient::new(config).unwrap())),
        token_budget: 1_000_000,
        data_roots: None,
    })
    .await
    .unwrap();
    let outcome = embedded
        .ask(AskRequest {
            question: "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?"
                .into(),
            context: PlanContext::default(),
        })
        .await
        .unwrap();
    embedded.shutdown().await;
    let a = &outcome.answer;
    eprintln!("attempts: {:#?}", a.planning);
    let plans: Vec<_> = a.planning.iter().filter(|p| p.operation == "plan").collect();
    assert!(!plans.is_empty());
    for attempt in &plans {
        if attempt.planner == "llm:tiny-qwen2" {
            // The node answered (it never failed or timed out) and reported its token counts.
            assert!(
                matches!(attempt.outcome.as_str(), "accepted" | "rejected"),
                "{attempt:?}"
            );
            assert!(
                attempt.input_tokens > 100 && attempt.output_tokens > 0,
                "{attempt:?}"
            );
            if attempt.outcome == "rejected" {
                assert!(attempt.error.as_deref().is_some_and(|e| !e.is_empty()));
            }
        }
    }
    assert_eq!(plans[0].planner, "llm:tiny-qwen2");
    // A random model's plan for a real question is rejected twice, and the rules answer.
    if plans[0].outcome == "rejected" {
        assert_eq!(plans.len(), 3, "{plans:?}");
        assert_eq!(plans[2].planner, "rules");
        assert_eq!(a.plan.planner, "rules");
    }
    assert!(!a.table.is_empty(), "{a:?}");
    if a.writer != "template" {
        cb_core::prose::check_numbers(&a.text, a).expect("shown prose passed the number check");
    }
}
