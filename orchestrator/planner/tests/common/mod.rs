//! What the planner's test binaries share.

use cb_planner::MrioVocabulary;

/// The labels of pymrio's test system (`actors/trade/tests/fixtures/pymrio-test`), as a user's
/// `--mrio` would give them.
pub fn pymrio_test_vocabulary() -> MrioVocabulary {
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
