//! Every `cbutler ask "…"` example of the README is planned by the rule planner: a README
//! question the planner refuses is an example that no longer runs. An example the README shows
//! refused (its next line is `error: …`) must be refused with that reason. Examples that read a user's own
//! file by a placeholder name (`IOT_2022_ixi.zip`, `my-database.zip`) get an MRIO or inventory of
//! the same shape; the pymrio test system is the repository's own fixture. "How certain is that?"
//! follows an earlier answer and is tested with the run history (`cbutler`'s tests).

mod common;

use cb_planner::{MrioVocabulary, PlanContext, plan_with_rules};

const README: &str = include_str!("../../../README.md");

fn mrio(regions: &[&str], sectors: &[&str], stressors: &[&str]) -> MrioVocabulary {
    MrioVocabulary {
        path: "mrio".into(),
        name: "mrio".into(),
        regions: regions.iter().map(|s| s.to_string()).collect(),
        sectors: sectors.iter().map(|s| s.to_string()).collect(),
        stressors: stressors.iter().map(|s| s.to_string()).collect(),
    }
}

/// The README's example questions with the `--mrio` / `--lci` each is run with, and the refusal
/// the README shows for it, if any.
fn examples() -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = README.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = line.find("cbutler ask \"") else {
            continue;
        };
        let rest = &line[at + "cbutler ask \"".len()..];
        let Some(end) = rest.find('"') else {
            continue;
        };
        let refusal = lines
            .get(i + 1)
            .and_then(|next| next.trim().strip_prefix("error: "))
            .map(str::to_string);
        out.push((
            rest[..end].to_string(),
            rest[end + 1..].trim().to_string(),
            refusal,
        ));
    }
    out
}

#[test]
fn every_readme_question_is_planned() {
    let all = examples();
    assert!(all.len() >= 35, "only {} examples found", all.len());
    // EXIOBASE-shaped labels for the placeholder zip, pymrio's test system for the fixture.
    let exiobase = mrio(
        &["DE", "CN", "FR", "US"],
        &[
            "Food products",
            "Manufacture of basic iron and steel",
            "Electricity by coal",
        ],
        &["CO2 - combustion - air"],
    );
    let pymrio_test = common::pymrio_test_vocabulary();
    let mut planned = 0;
    for (q, flags, refusal) in &all {
        if q == "How certain is that?" {
            continue;
        }
        let ctx = PlanContext {
            mrio: if flags.contains("IOT_2022_ixi.zip") {
                Some(exiobase.clone())
            } else if flags.contains("pymrio-test") {
                Some(pymrio_test.clone())
            } else {
                None
            },
            lci: flags.contains("--lci").then(|| "my-database.zip".to_string()),
        };
        match (plan_with_rules(q, &ctx), refusal) {
            (Ok(_), None) => {}
            (Err(e), None) => panic!("README example {q:?} {flags} is refused: {}", e.reason),
            (Ok(_), Some(r)) => panic!("README example {q:?} is shown refused ({r}) but is planned"),
            (Err(e), Some(r)) => assert_eq!(&e.reason, r, "README example {q:?}"),
        }
        planned += 1;
    }
    assert!(planned >= 35, "{planned}");
}
