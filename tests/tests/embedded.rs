//! The embedded orchestrator through the library: planner → runs → trade actor → graph → answer,
//! concurrency, and what happens when an agent is missing or a dependency fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cb_core::dispatch::AgentDirectory;
use cb_core::journal::Journal;
use cb_core::orchestrator::execute;
use cb_core::{AskRequest, Embedded, OrchestratorArgs};
use cb_planner::{MrioVocabulary, PlanContext};
use cb_protocol::{AgentKind, NodeKind, Plan, Task, TaskId, TaskOutcome, TaskSpec, TradeTask};

fn fixture_mrio() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../actors/trade/tests/fixtures/pymrio-test/input")
}

/// The fixture MRIO's labels as the planner sees them, with the sectors and stressors named.
fn fixture_vocab(sectors: &[&str], stressors: &[&str]) -> MrioVocabulary {
    MrioVocabulary {
        path: fixture_mrio().display().to_string(),
        name: "testmrio".into(),
        regions: (1..=6).map(|i| format!("reg{i}")).collect(),
        sectors: sectors.iter().map(|s| s.to_string()).collect(),
        stressors: stressors.iter().map(|s| s.to_string()).collect(),
    }
}

async fn embedded(journal: Option<Journal>) -> Embedded {
    Embedded::start(OrchestratorArgs {
        journal,
        task_timeout: Duration::from_secs(120),
        planner: cb_planner::Planner::Rules,
        token_budget: 0,
        data_roots: None,
    })
    .await
    .unwrap()
}

fn ask(question: &str) -> AskRequest {
    AskRequest {
        question: question.into(),
        context: PlanContext::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_becomes_an_answer_a_graph_and_a_journal_entry() {
    let home = tempfile::tempdir().unwrap();
    let journal = Journal::new(home.path());
    let cb = embedded(Some(journal.clone())).await;
    let outcome = cb
        .ask(ask(
            "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
        ))
        .await
        .unwrap();
    let a = &outcome.answer;
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!(a.plan.tasks.len(), 1);
    let schema = cb_protocol::plan_schema();
    let plan_json = serde_json::to_value(&a.plan).unwrap();
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&plan_json));
    let cons = a.table.iter().find(|r| r.measure == "consumption_co2").unwrap();
    assert_eq!((cons.value, cons.unit.as_str()), (10_309_727_000.0, "t CO2"));
    // The graph: China, the rest of the world and the atmosphere, with the net transfer edge.
    let g = &outcome.graph;
    assert_eq!(g.nodes_of_kind(NodeKind::Region).count(), 2);
    let china = g.node("region:CHN").unwrap();
    assert_eq!(china.quantities["territorial_co2"].value, 11_350_538_000.0);
    let transfer = g
        .edges_from("region:CHN")
        .into_iter()
        .find(|e| e.to == "region:rest-of-world")
        .unwrap();
    assert_eq!(
        transfer.quantity.as_ref().unwrap().value,
        11_350_538_000.0 - 10_309_727_000.0
    );
    // Journaled whole.
    let record = journal.load(&a.run_id).unwrap();
    assert_eq!(record.answer, *a);
    cb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_questions_get_their_own_runs() {
    let cb = embedded(None).await;
    let mrio = fixture_mrio();
    let vocab = MrioVocabulary {
        path: mrio.display().to_string(),
        name: "testmrio".into(),
        regions: (1..=6).map(|i| format!("reg{i}")).collect(),
        sectors: [
            "food",
            "mining",
            "manufactoring",
            "electricity",
            "construction",
            "trade",
            "transport",
            "other",
        ]
        .map(String::from)
        .to_vec(),
        stressors: vec![
            "emission_type1".into(),
            "emission_type2".into(),
            "Value Added".into(),
        ],
    };
    let questions: [&'static str; 4] = [
        "What is the carbon footprint of Germany in 2019?",
        "Compare the US consumption and territorial CO2 in 2015",
        "How much emission_type1 embodied in reg4's exports is consumed in reg5?",
        "Which sectors contribute most to reg1's production-based emission_type2?",
    ];
    let cb = std::sync::Arc::new(cb);
    let mut set = tokio::task::JoinSet::new();
    for (i, q) in questions.into_iter().enumerate() {
        let (cb, vocab) = (cb.clone(), vocab.clone());
        set.spawn(async move {
            let request = AskRequest {
                question: q.to_string(),
                context: PlanContext {
                    mrio: Some(vocab),
                    lci: None,
                },
            };
            (i, cb.ask(request).await)
        });
    }
    let mut outcomes: Vec<_> = set.join_all().await;
    outcomes.sort_by_key(|(i, _)| *i);
    let outcomes = outcomes.into_iter().map(|(_, o)| o);
    let mut ids = std::collections::HashSet::new();
    for (q, o) in questions.iter().zip(outcomes) {
        let o = o.unwrap();
        assert!(o.answer.errors.is_empty(), "{q}: {:?}", o.answer.errors);
        assert!(!o.answer.table.is_empty(), "{q}");
        assert_eq!(o.answer.question, *q);
        assert!(ids.insert(o.answer.run_id.clone()));
    }
    if let Ok(cb) = std::sync::Arc::try_unwrap(cb) {
        cb.shutdown().await;
    }
}

fn national(id: &str, country: &str) -> Task {
    Task::new(
        id,
        TaskSpec::Trade(TradeTask::NationalAccounts {
            countries: vec![country.into()],
            year: Some(2020),
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_agent_or_a_failed_dependency_is_reported_not_hidden() {
    let plan = Plan {
        question: "q".into(),
        planner: "test".into(),
        intent: "test".into(),
        tasks: vec![national("a", "CHN")],
    };
    // No agent registered at all.
    let results = execute("run-test", &plan, &AgentDirectory::default(), &None).await;
    match &results[0].outcome {
        TaskOutcome::Failed(e) => assert!(e.message.contains("no trade agent"), "{}", e.message),
        other => panic!("{other:?}"),
    }
    assert_eq!(results[0].agent, AgentKind::Trade);

    // A dependency that fails (unknown country) stops the task that needs it; the
    // independent task still runs.
    let mut dependent = national("b", "DEU");
    dependent.depends_on.push(TaskId::new("a"));
    let plan = Plan {
        tasks: vec![national("a", "Atlantis"), dependent, national("c", "FRA")],
        ..plan
    };
    // A trade actor started the way the orchestrator starts it.
    let (actor, handle) =
        ractor::Actor::spawn(None, cb_trade::TradeActor::new(), cb_trade::TradeAgent::new())
            .await
            .unwrap();
    let directory = AgentDirectory::default();
    directory.register(std::sync::Arc::new(cb_core::dispatch::LocalAgent {
        kind: AgentKind::Trade,
        actor: actor.clone(),
        timeout: Duration::from_secs(60),
    }));
    let results = execute("run-test", &plan, &directory, &None).await;
    let ids: Vec<&str> = results.iter().map(|r| r.task_id.0.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(matches!(&results[0].outcome, TaskOutcome::Failed(e) if e.message.contains("Atlantis")));
    assert!(
        matches!(&results[1].outcome, TaskOutcome::Failed(e) if e.message.contains("not run: task a failed"))
    );
    assert!(matches!(&results[2].outcome, TaskOutcome::Completed(_)));
    actor.stop(None);
    handle.await.unwrap();
}

/// Soil, land conversion and wood products asked in words: each planned, run by the sinks agent
/// and answered with the hand-computed number, in the question's language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn land_questions_are_answered_with_their_numbers() {
    let cb = embedded(None).await;
    let value = |a: &cb_core::answer::Answer, measure: &str| {
        a.table
            .iter()
            .find(|r| r.measure == measure)
            .unwrap_or_else(|| panic!("{measure} in {:?}", a.table))
            .value
    };
    // 100 ha × 80 t C/ha × (0.69 − 1) / 20 years = −124 t C a year = 454.67 t CO2 emitted a year.
    let soil = cb
        .ask(ask(
            "Soil carbon change when 100 ha of temperate moist grassland is converted to cropland, reference soil \
             carbon 80 t C/ha",
        ))
        .await
        .unwrap()
        .answer;
    assert!(soil.errors.is_empty(), "{:?}", soil.errors);
    assert!((value(&soil, "net_co2_annual") - 124.0 * 44.0 / 12.0).abs() < 1e-6);
    assert!(soil.text.contains("emits 454.7 t CO2 per year"), "{}", soil.text);
    // 500 ha × 300 t d.m./ha × 0.47 = 70,500 t C = 258,500 t CO2 in the year of clearing.
    let luc = cb
        .ask(ask(
            "Emissions from clearing 500 ha of tropical rainforest in Africa holding 300 t of dry matter per hectare",
        ))
        .await
        .unwrap()
        .answer;
    assert!(luc.errors.is_empty(), "{:?}", luc.errors);
    assert!((value(&luc, "net_co2_first_year") - 258_500.0).abs() < 1e-6);
    assert!(luc.text.contains("in the year of conversion"), "{}", luc.text);
    // The same wood question in German: 800 t C, half-life 35 years, after 50 years.
    let wood = cb
        .ask(ask(
            "Wie viel Kohlenstoff speichern 800 t C Schnittholz nach 50 Jahren noch?",
        ))
        .await
        .unwrap()
        .answer;
    assert!(wood.errors.is_empty(), "{:?}", wood.errors);
    let k = std::f64::consts::LN_2 / 35.0;
    let expected = 800.0 * (1.0 - (-k).exp()) / k * (-49.0 * k).exp();
    assert!((value(&wood, "hwp_stock") - expected).abs() < 1e-9);
    assert!(wood.text.contains("nach 50 Jahren noch"), "{}", wood.text);
}

/// A CBAM default set against a modelled route: both tasks run, and the answer states the
/// default (Brazil, CN 7206 10 00: 1.48 t CO2e/t, 1.628 with the 2026 mark-up, IR 2025/2621),
/// the modelled intensity on Brazil's grid and their ratio on the basis CBAM counts, and that a
/// modelled route is not a verified value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cbam_default_is_set_against_a_modelled_route() {
    let cb = embedded(None).await;
    let a = cb
        .ask(ask(
            "Is the CBAM default for Brazilian steel above what a scrap-EAF plant emits?",
        ))
        .await
        .unwrap()
        .answer;
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    let row = |m: &str| {
        a.table
            .iter()
            .find(|r| r.measure == m)
            .unwrap_or_else(|| panic!("{m}"))
    };
    assert_eq!(row("default_value").value, 1.628);
    assert_eq!(
        row("default_value_direct").value + row("default_value_indirect").value,
        1.48
    );
    let modelled = row("emission_intensity").value;
    assert!(
        modelled > 0.0 && modelled < 1.0,
        "a scrap EAF emits well under 1 t CO2/t: {modelled}"
    );
    let parts = row("emission_intensity_direct").value + row("emission_intensity_indirect").value;
    assert!((parts - modelled).abs() < 1e-9);
    assert!(a.text.contains("1.628 t CO2e/t"), "{}", a.text);
    assert!(a.text.contains("not a verified installation value"), "{}", a.text);
    // Iron and steel count direct emissions only (Reg. 2023/956 Annex II), and Brazil's default
    // for CN 7206 10 00 has no indirect part: the ratio is on the modelled direct intensity.
    let direct = row("emission_intensity_direct").value;
    let ratio = cb_protocol::format::significant(1.628 / direct, 4);
    assert!(a.text.contains(&ratio), "{ratio} in {}", a.text);
    assert!(a.text.contains("direct emissions only"), "{}", a.text);
    // The route runs on Brazil's grid (its Ember annual mean), and the answer says so.
    assert!(
        a.text
            .contains("Annual mean grid intensity the plant runs on (Brazil)"),
        "{}",
        a.text
    );
}

/// Asked in Chinese, every agent's labels and notes come back in Chinese: each label and note an
/// agent writes is a sentence of `data/agent-text.csv` with all its values, and the answer says
/// it in the question's language. The numbers are the agents' own either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_agent_s_labels_and_notes_follow_the_question_s_language() {
    let cb = embedded(None).await;
    let questions = [
        ("中国2022年的消费排放与领土排放相比如何？", AgentKind::Trade),
        ("从埃及进口1000吨液氨，2026年要买多少CBAM证书？", AgentKind::Lca),
        ("USLCI中1公斤聚乙烯的碳足迹", AgentKind::Lca),
        (
            "非洲1万公顷热带雨林每年吸收多少二氧化碳？根茎比 0.37",
            AgentKind::Sinks,
        ),
        (
            "电弧炉钢厂在每吨80欧元碳价下如何以最低成本减排？",
            AgentKind::Factory,
        ),
        ("Ishigami函数的哪些输入最重要？", AgentKind::Uncertainty),
    ];
    for (q, agent) in questions {
        let a = cb.ask(ask(q)).await.unwrap().answer;
        assert!(a.errors.is_empty(), "{q}: {:?}", a.errors);
        let mut english_notes = Vec::new();
        for r in &a.results {
            assert_eq!(r.agent, agent, "{q}");
            let TaskOutcome::Completed(out) = &r.outcome else {
                panic!("{q}: {:?}", r.outcome)
            };
            for lq in &out.quantities {
                let t = lq
                    .label_text
                    .as_ref()
                    .unwrap_or_else(|| panic!("{q}: {} has no key", lq.label));
                assert!(t.is_complete(), "{q}: label {t:?} is not in data/agent-text.csv");
            }
            for t in &out.note_texts {
                assert!(t.is_complete(), "{q}: note {t:?} is not in data/agent-text.csv");
            }
            english_notes.extend(out.notes.iter().cloned());
        }
        // The table's labels are Chinese: no row reads as its English label.
        for row in &a.table {
            let english = a
                .results
                .iter()
                .filter_map(|r| match &r.outcome {
                    TaskOutcome::Completed(o) => Some(o),
                    TaskOutcome::Failed(_) => None,
                })
                .flat_map(|o| &o.quantities)
                .find(|lq| lq.measure == row.measure && lq.quantity.value == row.value)
                .unwrap();
            assert_ne!(row.label, english.label, "{q}: label left in English");
        }
        // A note left in English is one the agent wrote from its data (a measure's description),
        // never one of its own sentences.
        for note in &a.notes {
            let keyed = a.results.iter().any(|r| match &r.outcome {
                TaskOutcome::Completed(o) => o.note_texts.iter().any(|t| t.english() == *note),
                TaskOutcome::Failed(_) => false,
            });
            assert!(!keyed, "{q}: note left in English: {note}");
        }
        assert!(!english_notes.is_empty() || a.notes.is_empty(), "{q}");
    }
}

/// An MRIO's footprint of a product against its life-cycle footprint: the trade agent's
/// multiplier is pymrio's own `M` for the sector, its per-kg figure is that times the price
/// written, and the answer sets it against the LCA agent's footprint with their ratio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mrio_footprint_is_set_against_a_life_cycle_footprint() {
    let cb = embedded(None).await;
    let vocab = fixture_vocab(
        &["food", "mining", "manufactoring", "electricity"],
        &["emission_type1", "emission_type2"],
    );
    // The same question priced in the MRIO's currency (USD) and in another (EUR).
    let at = |currency: &str, vocab: MrioVocabulary| AskRequest {
        question: format!(
            "Compare the MRIO footprint of reg2 manufactoring (emission_type1) with the LCA footprint of 1 kg \
             of polyethylene in USLCI at 1,500 {currency}/t"
        ),
        context: PlanContext {
            mrio: Some(vocab),
            lci: None,
        },
    };
    let outcome = cb.ask(at("USD", vocab)).await.unwrap();
    let a = &outcome.answer;
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    // pymrio's M for emission_type1, reg2|manufactoring (expected/emissions_M.csv).
    let expected = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../actors/trade/tests/fixtures/pymrio-test/expected/emissions_M.csv"),
    )
    .unwrap();
    let header: Vec<&str> = expected.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = expected
        .lines()
        .find(|l| l.starts_with("emission_type1"))
        .unwrap()
        .split(',')
        .collect();
    let col = header.iter().position(|h| *h == "reg2|manufactoring").unwrap();
    let pymrio_m: f64 = row[col].parse().unwrap();
    let m = a.table.iter().find(|r| r.measure == "multiplier").unwrap();
    assert!(
        (m.value - pymrio_m).abs() <= 1e-9 * pymrio_m.abs(),
        "{} vs {pymrio_m}",
        m.value
    );
    assert_eq!(m.unit, "kg/Mill USD");
    // 1,500 USD/t is 1.5 USD/kg, and the MRIO counts millions of USD.
    let per_kg = a.table.iter().find(|r| r.measure == "multiplier_per_kg").unwrap();
    let want = pymrio_m * 1.5 / 1e6;
    assert!(
        (per_kg.value - want).abs() <= 1e-12 * want.abs().max(1e-30),
        "{} vs {want}",
        per_kg.value
    );
    let lca = a.table.iter().find(|r| r.measure == "footprint").unwrap();
    assert!(lca.value > 0.0);
    assert!(a.text.contains("MRIO ÷ LCA"), "{}", a.text);
    // A price in another currency is not converted: the answer says so and gives no per-kg figure.
    let eur = cb
        .ask(at("EUR", fixture_vocab(&["manufactoring"], &["emission_type1"])))
        .await
        .unwrap()
        .answer;
    assert!(eur.table.iter().all(|r| r.measure != "multiplier_per_kg"));
    assert!(
        eur.notes.iter().any(|n| n.contains("no exchange rate")),
        "{:?}",
        eur.notes
    );
}
