//! The question corpus (`corpus/questions.jsonl`): questions as policy teams, CBAM importers, LCA
//! practitioners, foresters and plant engineers write them, in five languages, each with its
//! golden plan (agent, operation and key parameters of every task, in order) or the refusal it
//! must get (a phrase the reason must contain). The rule planner must get at least 95 % right
//! and must never answer a different question: a plan where a refusal is due, or a plan whose
//! tasks differ from the golden ones, is a wrong answer; a refusal where a plan is due is only
//! a miss.

use std::collections::BTreeMap;

use cb_planner::{MrioVocabulary, PlanContext, plan_with_rules};
use serde::Deserialize;
use serde_json::Value;

const CORPUS: &str = include_str!("../corpus/questions.jsonl");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    q: String,
    lang: String,
    class: String,
    #[serde(default)]
    mrio: bool,
    #[serde(default)]
    tasks: Option<Vec<serde_json::Map<String, Value>>>,
    #[serde(default)]
    refuse: Option<String>,
}

/// The labels of pymrio's test system, as a user's `--mrio` would give them.
fn test_mrio() -> MrioVocabulary {
    MrioVocabulary {
        path: "test-mrio".into(),
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
        stressors: vec!["emission_type1".into(), "emission_type2".into()],
    }
}

enum Verdict {
    Right,
    /// Refused where a plan was due.
    Missed(String),
    /// A plan that is not the golden one, or a plan where a refusal was due.
    Wrong(String),
}

/// Every key of the golden task holds in the planned task (`agent` at the top, the rest among
/// the parameters).
fn task_matches(golden: &serde_json::Map<String, Value>, planned: &Value) -> bool {
    golden.iter().all(|(k, v)| {
        let got = if k == "agent" {
            planned.get("agent")
        } else {
            planned.get("params").and_then(|p| p.get(k))
        };
        match (got, v) {
            (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Some(a), b) => a == b,
            (None, _) => false,
        }
    })
}

fn judge(e: &Entry) -> Verdict {
    let ctx = PlanContext {
        mrio: e.mrio.then(test_mrio),
        lci: None,
    };
    let planned = plan_with_rules(&e.q, &ctx);
    match (&e.tasks, &e.refuse, planned) {
        (Some(golden), None, Ok(plan)) => {
            let tasks: Vec<Value> = plan
                .tasks
                .iter()
                .map(|t| serde_json::to_value(t).unwrap())
                .collect();
            if tasks.len() == golden.len() && golden.iter().zip(&tasks).all(|(g, t)| task_matches(g, t)) {
                Verdict::Right
            } else {
                Verdict::Wrong(format!("planned {}", serde_json::to_string(&tasks).unwrap()))
            }
        }
        (Some(_), None, Err(err)) => Verdict::Missed(format!("refused: {}", err.reason)),
        (None, Some(phrase), Err(err)) if err.reason.contains(phrase.as_str()) => {
            // A refusal's suggestions must themselves be answerable, or the user is sent on to
            // another refusal.
            for s in &err.suggestions {
                if let Err(e) = plan_with_rules(s, &ctx) {
                    return Verdict::Wrong(format!("suggested {s:?}, which is refused: {}", e.reason));
                }
            }
            Verdict::Right
        }
        (None, Some(phrase), Err(err)) => {
            Verdict::Missed(format!("refused without {phrase:?}: {}", err.reason))
        }
        (None, Some(_), Ok(plan)) => Verdict::Wrong(format!("answered {:?}", plan.intent)),
        _ => panic!("{:?}: give either tasks or refuse", e.q),
    }
}

#[test]
fn the_rule_planner_holds_the_corpus() {
    let entries: Vec<Entry> = CORPUS
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("corpus/questions.jsonl line {}: {e}", i + 1))
        })
        .collect();
    let langs = ["en", "zh", "fr", "de", "es"];
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut right, mut wrong, mut report) = (0, Vec::new(), String::new());
    for e in &entries {
        assert!(
            langs.contains(&e.lang.as_str()),
            "{:?}: language {:?}",
            e.q,
            e.lang
        );
        let verdict = judge(e);
        let ok = matches!(verdict, Verdict::Right);
        for key in [format!("language {}", e.lang), format!("class {}", e.class)] {
            let c = by.entry(key).or_default();
            c.0 += ok as usize;
            c.1 += 1;
        }
        match verdict {
            Verdict::Right => right += 1,
            Verdict::Missed(why) => report.push_str(&format!("MISSED [{}] {}\n    {why}\n", e.class, e.q)),
            Verdict::Wrong(why) => {
                report.push_str(&format!("WRONG  [{}] {}\n    {why}\n", e.class, e.q));
                wrong.push(e.q.clone());
            }
        }
    }
    for (key, (ok, n)) in &by {
        report.push_str(&format!("{key}: {ok}/{n}\n"));
    }
    let share = right as f64 / entries.len() as f64;
    eprintln!(
        "{report}right: {right}/{} ({:.1} %)",
        entries.len(),
        share * 100.0
    );
    assert!(wrong.is_empty(), "answers to a different question:\n{report}");
    assert!(share >= 0.95, "only {:.1} % right:\n{report}", share * 100.0);
    for lang in langs {
        assert!(
            by.contains_key(&format!("language {lang}")),
            "no question in {lang}"
        );
    }
}
