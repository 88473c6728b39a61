//! The Plan contract: JSON round trip, the generated JSON Schema, and the checks the schema
//! cannot express (ids, dependencies, cycles, ranges).

use cb_protocol::{
    MrioSource, Plan, PlanError, Task, TaskId, TaskSpec, TestFunction, TradeTask, UncertaintyTask,
    plan_schema,
};

fn national(id: &str) -> Task {
    Task::new(
        id,
        TaskSpec::Trade(TradeTask::NationalAccounts {
            countries: vec!["CHN".into()],
            year: Some(2022),
        }),
    )
}

fn paths(id: &str, depth: u32, threshold: f64) -> Task {
    Task::new(
        id,
        TaskSpec::Trade(TradeTask::SupplyChainPaths {
            mrio: MrioSource { path: "m".into() },
            stressor: "CO2".into(),
            region: "DE".into(),
            sector: "steel".into(),
            depth,
            top: 10,
            threshold,
        }),
    )
}

fn plan(tasks: Vec<Task>) -> Plan {
    Plan {
        question: "q".into(),
        planner: "test".into(),
        intent: "test".into(),
        tasks,
    }
}

#[test]
fn json_shape_and_schema_agree() {
    let mut second = paths("paths", 4, 0.001);
    second.depends_on.push(TaskId::new("gcb"));
    let p = plan(vec![national("gcb"), second]);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["tasks"][0]["agent"], "trade");
    assert_eq!(json["tasks"][0]["params"]["op"], "national_accounts");
    assert_eq!(json["tasks"][1]["depends_on"][0], "gcb");
    let back: Plan = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, p);

    let schema = plan_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The schema rejects what the types reject.
    let mut bad = json.clone();
    bad["tasks"][0]["agent"] = "astrology".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = json.clone();
    bad["tasks"][1]["params"]["depth"] = 40.into();
    assert!(!validator.is_valid(&bad));
    let mut bad = json.clone();
    bad["tasks"][0]["id"] = "Not An Id".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = json;
    bad["tasks"] = serde_json::json!([]);
    assert!(!validator.is_valid(&bad));
}

#[test]
fn validation_orders_tasks_and_names_problems() {
    let mut b = national("b");
    b.depends_on.push(TaskId::new("a"));
    let p = plan(vec![b, national("a")]);
    let order: Vec<&str> = p.validate().unwrap().iter().map(|t| t.id.0.as_str()).collect();
    assert_eq!(order, ["a", "b"]);

    assert_eq!(plan(vec![]).validate().unwrap_err(), PlanError::Empty);
    assert_eq!(
        plan(vec![national("a"), national("a")]).validate().unwrap_err(),
        PlanError::DuplicateId("a".into())
    );
    assert_eq!(
        plan(vec![national("Bad Id")]).validate().unwrap_err(),
        PlanError::MalformedId("Bad Id".into())
    );
    let mut orphan = national("a");
    orphan.depends_on.push(TaskId::new("ghost"));
    assert!(
        plan(vec![orphan])
            .validate()
            .unwrap_err()
            .to_string()
            .contains("ghost")
    );

    let mut a = national("a");
    let mut b = national("b");
    a.depends_on.push(TaskId::new("b"));
    b.depends_on.push(TaskId::new("a"));
    match plan(vec![a, b, national("c")]).validate().unwrap_err() {
        PlanError::Cycle(mut ids) => {
            ids.sort();
            assert_eq!(ids, ["a", "b"]);
        }
        other => panic!("{other}"),
    }

    let bad_year = Task::new(
        "y",
        TaskSpec::Trade(TradeTask::NationalAccounts {
            countries: vec!["CHN".into()],
            year: Some(3000),
        }),
    );
    let err = plan(vec![bad_year]).validate().unwrap_err().to_string();
    assert!(err.contains("`year`") && err.contains("3000"), "{err}");
    let err = plan(vec![paths("p", 4, 2.0)]).validate().unwrap_err().to_string();
    assert!(err.contains("threshold"), "{err}");
    let err = plan(vec![paths("p", 0, 0.1)]).validate().unwrap_err().to_string();
    assert!(err.contains("depth"), "{err}");
}

#[test]
fn unknown_operations_are_type_errors() {
    let json = serde_json::json!({
        "question": "q", "planner": "llm", "intent": "x",
        "tasks": [{"id": "a", "agent": "trade", "params": {"op": "launch_missiles"}}]
    });
    assert!(serde_json::from_value::<Plan>(json).is_err());
}

/// The cost caps hold for any plan, whoever wrote it.
#[test]
fn plans_beyond_the_cost_caps_are_invalid() {
    use cb_protocol::limits::{MAX_SOBOL_WORK, MAX_TASKS_PER_PLAN};
    let sobol = |id: &str, samples: u32, bootstrap: u32| {
        Task::new(
            id,
            TaskSpec::Uncertainty(UncertaintyTask::Sobol {
                function: TestFunction::Ishigami,
                samples,
                seed: 0,
                bootstrap,
            }),
        )
    };
    let plan = |tasks: Vec<Task>| Plan {
        question: "q".into(),
        planner: "test".into(),
        intent: "x".into(),
        tasks,
    };
    assert!(plan(vec![sobol("a", 100_000, 1_000)]).validate().is_ok());
    let e = plan(vec![sobol("a", 1_000_000, 200)])
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("samples` is 1000000, must be between 10 and 100000"),
        "{e}"
    );
    let e = plan(vec![sobol("a", 100_000, 1_001)])
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("must be at most {MAX_SOBOL_WORK}")), "{e}");
    let many = (0..=MAX_TASKS_PER_PLAN)
        .map(|i| sobol(&format!("t{i}"), 100, 100))
        .collect();
    let e = plan(many).validate().unwrap_err().to_string();
    assert!(e.contains("33 tasks; at most 32"), "{e}");
}
