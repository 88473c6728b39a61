//! Property-based fuzzing of the rule-based planner (proptest, a fixed number of cases so the
//! test command's time stays bounded): the corpus's questions cut, repeated and mixed with
//! numbers, units and stray text in any script, and arbitrary text, are planned or refused;
//! nothing panics, and every plan the rules make passes the plan's own validation (types,
//! ranges, the cost caps).

use cb_planner::{PlanContext, plan_with_rules};
use proptest::prelude::*;

const CORPUS: &str = include_str!("../corpus/questions.jsonl");

fn questions() -> Vec<String> {
    CORPUS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["q"].as_str().map(str::to_string))
        .collect()
}

/// Words that steer the planner: numbers in every notation, units, years, CN codes, places.
const SALT: &[&str] = &[
    "1e9",
    "1,000,000",
    "1.000.000,5",
    "-3",
    "0",
    "NaN",
    "∞",
    "100000",
    "1000000 samples",
    "20000 bootstrap",
    "t",
    "kt",
    "Mt CO2",
    "kg",
    "MWh",
    "ha",
    "2030",
    "1850-2100",
    "7208 10 00",
    "2523",
    "China",
    "中国",
    "Allemagne",
    "EU",
    "France",
    "steel",
    "Stahl",
    "acier",
    "cement",
    "clinker",
    "ammonia",
    "hydrogen",
    "%",
    "€/t",
    "per capita",
    "EAF",
    "BF-BOF",
    "?",
    "\u{0}",
    "\u{202e}",
    "🙂",
    "'; DROP TABLE",
    "../../etc/passwd",
    "{",
    "}",
    "\"",
];

fn mutated() -> impl Strategy<Value = String> {
    let qs = questions();
    (
        0..qs.len(),
        prop::collection::vec((0usize..4, any::<usize>(), 0..SALT.len()), 0..6),
    )
        .prop_map(move |(i, ops)| {
            let mut words: Vec<String> = qs[i].split_whitespace().map(str::to_string).collect();
            for (op, at, salt) in ops {
                let n = words.len().max(1);
                match op {
                    0 if !words.is_empty() => {
                        words.remove(at % n);
                    }
                    1 => words.insert(at % (words.len() + 1), SALT[salt].to_string()),
                    2 if !words.is_empty() => {
                        let w = words[at % n].clone();
                        words.insert(at % n, w);
                    }
                    _ => words.truncate(at % (words.len() + 1)),
                }
            }
            words.join(" ")
        })
}

fn planned_or_refused(q: &str) -> Result<(), TestCaseError> {
    if let Ok(plan) = plan_with_rules(q, &PlanContext::default()) {
        prop_assert!(plan.validate().is_ok(), "{q:?}: {:?}", plan.validate());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_corpus_questions_are_planned_validly_or_refused(q in mutated()) {
        planned_or_refused(&q)?;
    }

    #[test]
    fn arbitrary_text_is_planned_validly_or_refused(q in "\\PC{0,300}") {
        planned_or_refused(&q)?;
    }
}
