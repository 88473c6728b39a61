//! The LLM planner: the question, the agents' capabilities, the data at hand and the Plan's JSON
//! Schema go to an OpenAI-compatible endpoint (`response_format: json_schema`); what comes back
//! must pass [`check_plan`] — the schema, `Plan::validate`, and the facts (known countries, CN
//! codes, plants, and only the data files the user gave). One retry with the error in the
//! prompt, then the rule-based planner. Every attempt is recorded.

use cb_protocol::{FactoryTask, LcaTask, Plan, TaskSpec, TradeTask};
use serde_json::{Value, json};

use crate::context::{PlanContext, PlanningAttempt, PlanningError};
use crate::mentions::{self, Mentions};
use crate::openai::{LlmClient, LlmError, TokenBudget};
use crate::places::Gazetteer;

/// Longest list of labels shown to the LLM per kind (regions, sectors, stressors).
const MAX_LABELS: usize = 80;

const CORPUS: &str = include_str!("../corpus/questions.jsonl");

/// Worked examples for the LLM: the corpus questions marked `"shot": true`, each with the plan
/// the rules make for it (so every example is a valid plan), as user and assistant turns. They
/// are held out when an LLM planner is measured (`bench/planner.py --llm-url` skips them).
pub fn few_shot() -> &'static [(String, String)] {
    static SHOTS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    SHOTS.get_or_init(|| {
        CORPUS
            .lines()
            .filter_map(|line| {
                let v: Value = serde_json::from_str(line).ok()?;
                if v.get("shot") != Some(&Value::Bool(true)) || v.get("mrio") == Some(&Value::Bool(true)) {
                    return None;
                }
                let q = v.get("q")?.as_str()?;
                let mut plan = crate::rules::plan(q, &PlanContext::default()).ok()?;
                plan.planner = "llm".into();
                Some((q.to_string(), serde_json::to_string(&plan).ok()?))
            })
            .collect()
    })
}

/// The system prompt: what the planner is, the rules a plan must follow, and the data at hand.
pub fn system_prompt(ctx: &PlanContext) -> String {
    let mut s = String::from(
        "You are the planner of Carbon Butler, a carbon-accounting system. Turn the user's question \
into a plan: one JSON object that follows the JSON Schema you are given. A plan is a DAG of tasks; each \
task goes to one agent with typed parameters:\n\
- trade: national consumption- and production-based CO2 (bundled Global Carbon Budget 2024, op \
national_accounts, countries as ISO 3166-1 alpha-3 codes or a group such as \"European Union (27)\"), \
and MRIO analyses (accounts, transfers, top sectors, supply-chain paths) on the MRIO given below only.\n\
- lca: a product's life-cycle footprint (database \"uslci\", the bundled US LCI, unless an inventory \
is given below; method \"ipcc-ar6-gwp100\" or \"ipcc-ar6-gwp20\") and EU CBAM costs (country, CN code, tonnes, year >= 2026).\n\
- sinks: IPCC Tier 1 forest and soil carbon accounts.\n\
- factory: least-cost hourly operation and abatement cost curves of bundled plants.\n\
- uncertainty: Sobol indices of test functions, pedigree-matrix uncertainty, products of uncertain factors.\n\
Rules: use only the agents and operations of the schema; never invent file paths; name countries by \
ISO alpha-3 code; keep task ids short (lowercase, digits, '-' or '_'); set \"planner\" to \"llm\", \
\"question\" to the user's question and \"intent\" to a few words on what is asked. Reply with the JSON only.\n",
    );
    let plants: Vec<&str> = cb_factory::bundled::PLANTS.iter().map(|(id, _)| *id).collect();
    s.push_str(&format!("Bundled plants: {}.\n", plants.join(", ")));
    match &ctx.mrio {
        Some(m) => {
            let list = |v: &[String]| {
                let mut l = v.iter().take(MAX_LABELS).cloned().collect::<Vec<_>>().join(", ");
                if v.len() > MAX_LABELS {
                    l.push_str(&format!(", … ({} in all)", v.len()));
                }
                l
            };
            s.push_str(&format!(
                "MRIO: path {:?}; regions: {}; sectors: {}; stressors: {}.\n",
                m.path,
                list(&m.regions),
                list(&m.sectors),
                list(&m.stressors)
            ));
        }
        None => s.push_str("No MRIO is given: MRIO operations are not available.\n"),
    }
    if let Some(lci) = &ctx.lci {
        s.push_str(&format!("Life-cycle inventory: database {lci:?}.\n"));
    }
    s
}

/// The question frames of `data/planner-frames.toml`, one line each: the task kinds a frame plans,
/// the mentions it uses and its defaults, so the model plans as the rules would. A model with a
/// short context (`--llm-no-examples`) goes without them, as it goes without worked examples.
pub fn frames_prompt(full: bool) -> String {
    let (true, Ok(frames)) = (full, crate::frames::load()) else {
        return String::new();
    };
    let mut s = String::from("Question frames (task kinds; mentions used; defaults):\n");
    for f in &frames.frames {
        let slots: Vec<String> = f.slots.iter().map(|x| format!("{x:?}")).collect();
        let defaults: Vec<String> = f.defaults.iter().map(|(k, v)| format!("{k}={v}")).collect();
        s.push_str(&format!(
            "- {}: {}; {}{}\n",
            f.name.as_str(),
            f.tasks.join(", "),
            slots.join(", "),
            if defaults.is_empty() {
                String::new()
            } else {
                format!("; {}", defaults.join(", "))
            }
        ));
    }
    s
}

/// What the first pass found in the question, for the prompt: the plan must use each mention.
pub fn mentions_prompt(m: &Mentions) -> String {
    let mut parts = Vec::new();
    if !m.places.is_empty() {
        let places: Vec<String> = m
            .places
            .iter()
            .map(|p| format!("{} ({})", p.place.name, p.place.key))
            .collect();
        parts.push(format!("places: {}", places.join(", ")));
    }
    match m.range {
        Some(r) => parts.push(match r.to {
            Some(to) => format!("years {}–{to} (one task per end year)", r.from),
            None => format!(
                "years since {} (one task for {} and one for the latest year)",
                r.from, r.from
            ),
        }),
        None if !m.years.is_empty() => {
            let years: Vec<String> = m.years.iter().map(i32::to_string).collect();
            parts.push(format!("years: {}", years.join(", ")));
        }
        None => {}
    }
    if !m.routes.is_empty() {
        let routes: Vec<&str> = m.routes.iter().map(|r| r.route).collect();
        parts.push(format!("production routes (not places): {}", routes.join(", ")));
    }
    if !m.quantities.is_empty() {
        let q: Vec<String> = m
            .quantities
            .iter()
            .map(|q| format!("{} {:?}", q.value, q.unit))
            .collect();
        parts.push(format!("quantities: {}", q.join(", ")));
    }
    if !m.percents.is_empty() {
        let p: Vec<String> = m.percents.iter().map(|p| format!("{p} %")).collect();
        parts.push(format!("percentages: {}", p.join(", ")));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "The question mentions ({} language) {}. Every mention must be used by the plan.\n",
        m.lang.code(),
        parts.join("; ")
    )
}

/// The gate's last check: the plan uses what the question names. A place is used by a task
/// that names it (a country, a CBAM origin, an MRIO region; EU places may be a CBAM
/// destination); a range of years by national accounts at both ends; a route by a plant task.
/// Plans of plants, sinks and product footprints take no place, so their places are not held
/// against them.
pub fn check_coverage(plan: &Plan, m: &Mentions) -> Result<(), String> {
    let gazetteer = Gazetteer::get();
    let mut keys: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut years: Vec<i32> = Vec::new();
    let (mut takes_places, mut cbam, mut plant) = (false, false, false);
    for task in &plan.tasks {
        match &task.spec {
            TaskSpec::Trade(TradeTask::NationalAccounts { countries, year }) => {
                takes_places = true;
                keys.extend(
                    countries
                        .iter()
                        .filter_map(|c| gazetteer.resolve(c))
                        .map(|p| p.key),
                );
                years.extend(year);
            }
            TaskSpec::Trade(t) => {
                takes_places = true;
                match t {
                    TradeTask::MrioAccounts { regions, .. } => labels.extend(regions.iter().cloned()),
                    TradeTask::Transfers { from, to, .. } => labels.extend(from.iter().chain(to).cloned()),
                    TradeTask::TopSectors { region, .. }
                    | TradeTask::SupplyChainPaths { region, .. }
                    | TradeTask::Multiplier { region, .. } => labels.push(region.clone()),
                    TradeTask::NationalAccounts { .. } => {}
                    TradeTask::AvoidedEmissions {
                        exporter,
                        destination,
                        ..
                    } => keys.extend(
                        [exporter, destination]
                            .into_iter()
                            .filter_map(|c| gazetteer.resolve(c))
                            .map(|p| p.key),
                    ),
                }
            }
            TaskSpec::Lca(LcaTask::CbamCost { country, .. }) => {
                takes_places = true;
                cbam = true;
                keys.extend(gazetteer.resolve(country).map(|p| p.key));
            }
            TaskSpec::Factory(FactoryTask::GridIntensity { place, .. }) => {
                takes_places = true;
                keys.extend(gazetteer.resolve(place).map(|p| p.key));
            }
            TaskSpec::Factory(_) => plant = true,
            _ => {}
        }
    }
    if takes_places {
        for p in &m.places {
            let place = &p.place;
            let named = keys.contains(&place.key)
                || labels.iter().any(|l| {
                    [
                        Some(place.key.as_str()),
                        place.iso2.as_deref(),
                        Some(place.name.as_str()),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|c| c.eq_ignore_ascii_case(l))
                });
            let destination = cbam && crate::rules::is_eu(&place.key);
            if !named && !destination {
                return Err(format!(
                    "the question names {} ({}), but no task uses it",
                    place.name, place.key
                ));
            }
        }
    }
    if let Some(r) = m.range {
        let ends = [Some(r.from), r.to];
        if let Some(missing) = ends.iter().flatten().find(|y| !years.contains(y)) {
            return Err(format!(
                "the question asks over a range of years, but no national-accounts task is for {missing}"
            ));
        }
        if r.to.is_none() && years.len() < 2 {
            return Err(format!(
                "the question asks since {}, but the plan has no task for a later year",
                r.from
            ));
        }
    }
    if let Some(route) = m.routes.first()
        && !plant
    {
        return Err(format!(
            "the question names the production route {:?}, which only a factory task models",
            route.text
        ));
    }
    Ok(())
}

/// The `response_format` that constrains the reply to a Plan (built once).
pub fn response_format() -> Value {
    static FORMAT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    FORMAT
        .get_or_init(|| {
            json!({
                "type": "json_schema",
                "json_schema": {"name": "plan", "schema": cb_protocol::plan_schema(), "strict": true}
            })
        })
        .clone()
}

/// The Plan's JSON Schema, compiled once.
fn plan_validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: std::sync::OnceLock<Result<jsonschema::Validator, String>> = std::sync::OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            jsonschema::validator_for(&cb_protocol::plan_schema())
                .map_err(|e| format!("the plan schema does not compile: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Checks an LLM's reply and returns the plan it proposes, or why it cannot run.
pub fn check_plan(reply: &str, question: &str, ctx: &PlanContext, planner: &str) -> Result<Plan, String> {
    let value: Value =
        serde_json::from_str(reply.trim()).map_err(|e| format!("the reply is not JSON: {e}"))?;
    let validator = plan_validator()?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(3)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "the plan does not follow the schema: {}",
            errors.join("; ")
        ));
    }
    let mut plan: Plan =
        serde_json::from_value(value).map_err(|e| format!("the plan does not follow the schema: {e}"))?;
    plan.validate().map_err(|e| format!("the plan is invalid: {e}"))?;
    for task in &plan.tasks {
        check_facts(&task.spec, ctx).map_err(|e| format!("task {}: {e}", task.id))?;
    }
    for task in &plan.tasks {
        if let TaskSpec::Trade(t) = &task.spec {
            crate::rules::check_avoided_task(t, question, ctx)
                .map_err(|e| format!("task {}: {e}", task.id))?;
        }
    }
    check_coverage(&plan, &mentions::read(question))?;
    plan.planner = planner.to_string();
    plan.question = question.to_string();
    Ok(plan)
}

/// What the schema cannot know: that places, codes, plants and files exist and were given.
fn check_facts(spec: &TaskSpec, ctx: &PlanContext) -> Result<(), String> {
    let gazetteer = Gazetteer::get();
    let mrio_given = |path: &str| match &ctx.mrio {
        Some(m) if m.path == path => Ok(m),
        Some(m) => Err(format!(
            "reads the MRIO {path:?}, but the only MRIO given is {:?}",
            m.path
        )),
        None => Err(format!("reads the MRIO {path:?}, but no MRIO was given")),
    };
    let known = |what: &str, name: &str, list: &[String]| {
        if list.iter().any(|l| l == name) {
            Ok(())
        } else {
            Err(format!("{what} {name:?} is not in the MRIO"))
        }
    };
    match spec {
        TaskSpec::Trade(TradeTask::AvoidedEmissions {
            exporter,
            destination,
            ..
        }) => {
            for c in [exporter, destination] {
                if gazetteer.resolve(c).is_none() {
                    return Err(format!("{c:?} is not a known country"));
                }
            }
            Ok(())
        }
        TaskSpec::Trade(TradeTask::NationalAccounts { countries, .. }) => {
            for c in countries {
                if gazetteer.resolve(c).is_none() {
                    return Err(format!("{c:?} is not a known country or group"));
                }
            }
            Ok(())
        }
        TaskSpec::Trade(TradeTask::MrioAccounts {
            mrio,
            stressor,
            regions,
            ..
        }) => {
            let m = mrio_given(&mrio.path)?;
            for r in regions {
                known("region", r, &m.regions)?;
            }
            match stressor {
                Some(s) => known("stressor", s, &m.stressors),
                None => Ok(()),
            }
        }
        TaskSpec::Trade(TradeTask::Transfers {
            mrio,
            stressor,
            from,
            to,
            ..
        }) => {
            let m = mrio_given(&mrio.path)?;
            known("stressor", stressor, &m.stressors)?;
            for r in from.iter().chain(to) {
                known("region", r, &m.regions)?;
            }
            Ok(())
        }
        TaskSpec::Trade(TradeTask::TopSectors {
            mrio,
            stressor,
            region,
            ..
        }) => {
            let m = mrio_given(&mrio.path)?;
            known("stressor", stressor, &m.stressors)?;
            known("region", region, &m.regions)
        }
        TaskSpec::Trade(
            TradeTask::SupplyChainPaths {
                mrio,
                stressor,
                region,
                sector,
                ..
            }
            | TradeTask::Multiplier {
                mrio,
                stressor,
                region,
                sector,
                ..
            },
        ) => {
            let m = mrio_given(&mrio.path)?;
            known("stressor", stressor, &m.stressors)?;
            known("region", region, &m.regions)?;
            known("sector", sector, &m.sectors)
        }
        TaskSpec::Lca(LcaTask::Footprint { database, .. }) => {
            if database == cb_lca::agent::USLCI || ctx.lci.as_deref() == Some(database.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "uses the database {database:?}, which is neither \"uslci\" nor one the user gave"
                ))
            }
        }
        TaskSpec::Lca(LcaTask::CbamCost { country, cn_code, .. }) => {
            let tables = cb_lca::cbam::data::CbamTables::bundled();
            let country = tables.country(country).map_err(|e| e.to_string())?;
            tables
                .default_value(&country, cn_code)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        TaskSpec::Factory(
            FactoryTask::Optimize { plant, .. }
            | FactoryTask::Macc { plant, .. }
            | FactoryTask::Intensity { plant, .. },
        ) => {
            if cb_factory::bundled::PLANTS.iter().any(|(id, _)| id == plant) {
                Ok(())
            } else {
                Err(format!("{plant:?} is not a bundled plant"))
            }
        }
        TaskSpec::Factory(FactoryTask::GridIntensity {
            place,
            factor,
            year,
            source,
        }) => cb_grid::GridTables::bundled()
            .intensity(place, *factor, *year, *source)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        TaskSpec::Sinks(_) | TaskSpec::Uncertainty(_) => Ok(()),
    }
}

/// Asks the LLM for a plan, retries once with the validation error, and records each attempt.
/// `Err` when neither attempt gave a valid plan (the caller then falls back to the rules).
pub async fn plan_with_llm(
    client: &LlmClient,
    question: &str,
    ctx: &PlanContext,
    budget: &mut TokenBudget,
    attempts: &mut Vec<PlanningAttempt>,
) -> Result<Plan, String> {
    let planner = format!("llm:{}", client.config.model);
    let mentioned = mentions_prompt(&mentions::read(question));
    let mut messages = vec![json!({"role": "system", "content": format!(
        "{}{}{mentioned}",
        system_prompt(ctx),
        frames_prompt(client.config.worked_examples)
    )})];
    let shots = if client.config.worked_examples {
        few_shot()
    } else {
        &[]
    };
    for (q, plan) in shots {
        messages.push(json!({"role": "user", "content": q}));
        messages.push(json!({"role": "assistant", "content": plan}));
    }
    messages.push(json!({"role": "user", "content": question}));
    let mut last_error = String::new();
    for _ in 0..2 {
        let reply = client
            .chat(
                &messages,
                Some(response_format()),
                client.config.max_plan_tokens,
                budget,
            )
            .await;
        let completion = match reply {
            Ok(c) => c,
            Err(e) => {
                attempts.push(PlanningAttempt {
                    operation: "plan".into(),
                    planner: planner.clone(),
                    outcome: if matches!(e, LlmError::Budget { .. }) {
                        "skipped"
                    } else {
                        "failed"
                    }
                    .into(),
                    error: Some(e.to_string()),
                    input_tokens: 0,
                    output_tokens: 0,
                    latency_ms: 0,
                    call: Some(json!({"endpoint": client.config.url, "model": client.config.model, "messages": messages})),
                });
                return Err(e.to_string());
            }
        };
        let checked = check_plan(&completion.content, question, ctx, &planner);
        attempts.push(PlanningAttempt {
            operation: "plan".into(),
            planner: planner.clone(),
            outcome: if checked.is_ok() { "accepted" } else { "rejected" }.into(),
            error: checked.as_ref().err().cloned(),
            input_tokens: completion.input_tokens,
            output_tokens: completion.output_tokens,
            latency_ms: completion.latency_ms,
            call: Some(completion.call.clone()),
        });
        match checked {
            Ok(plan) => return Ok(plan),
            Err(e) => {
                messages.push(json!({"role": "assistant", "content": completion.content}));
                messages.push(json!({
                    "role": "user",
                    "content": format!("That plan was rejected: {e}. Reply with a corrected plan.")
                }));
                last_error = e;
            }
        }
    }
    Err(last_error)
}

/// The rule-based planner as an attempt.
pub fn plan_with_rules_recorded(
    question: &str,
    ctx: &PlanContext,
    attempts: &mut Vec<PlanningAttempt>,
) -> Result<Plan, PlanningError> {
    let started = std::time::Instant::now();
    let planned = crate::rules::plan(question, ctx);
    attempts.push(PlanningAttempt {
        operation: "plan".into(),
        planner: "rules".into(),
        outcome: if planned.is_ok() { "accepted" } else { "rejected" }.into(),
        error: planned.as_ref().err().map(|e| e.reason.clone()),
        input_tokens: 0,
        output_tokens: 0,
        latency_ms: started.elapsed().as_millis() as u64,
        call: None,
    });
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use cb_protocol::Task;

    /// The worked examples cover several agents and languages, and each passes the same gate an
    /// LLM's plan must pass.
    #[test]
    fn few_shot_examples_are_valid_plans_from_the_corpus() {
        let shots = few_shot();
        assert!(shots.len() >= 5, "{} examples", shots.len());
        let mut agents = std::collections::BTreeSet::new();
        for (q, plan) in shots {
            let plan =
                check_plan(plan, q, &PlanContext::default(), "llm").unwrap_or_else(|e| panic!("{q}: {e}"));
            agents.extend(plan.tasks.iter().map(|t| t.spec.agent()));
        }
        assert!(agents.len() >= 4, "{agents:?}");
        assert!(shots.iter().any(|(q, _)| crate::places::is_cjk(q)));
    }

    /// An LLM's avoided-emissions plan must take every number from the question or the bundled
    /// defaults: the rules' own plan passes, and one number changed (or added), the places swapped,
    /// another margin or another source fails.
    #[test]
    fn an_avoided_emissions_plan_takes_its_numbers_from_the_question() {
        let q = "How much CO2 do 1,000 MW of solar panels exported from China to Brazil avoid over 25 years at a \
                 capacity factor of 17%, degrading 0.5% a year, if making them took 900 MWh per MW and 300 t CO2e \
                 per MW besides?";
        let rules = crate::rules::plan(q, &PlanContext::default()).unwrap();
        let reply = |plan: &Plan| serde_json::to_string(plan).unwrap();
        check_plan(&reply(&rules), q, &PlanContext::default(), "llm").unwrap();
        type Edit = fn(&mut cb_protocol::AvoidedParameters);
        let edits: [(&str, Edit); 5] = [
            ("capacity factor", |p| p.capacity_factor = 0.2),
            ("lifetime", |p| p.lifetime_years = 30),
            ("manufacturing electricity", |p| {
                p.manufacturing_mwh_per_mw = 500.0
            }),
            ("operation emissions", |p| p.operation_g_per_kwh = 5.0),
            ("ranges", |p| p.capacity_factor_range = Some([0.1, 0.3])),
        ];
        for (what, edit) in edits {
            let mut made_up = rules.clone();
            if let TaskSpec::Trade(TradeTask::AvoidedEmissions { parameters, .. }) =
                &mut made_up.tasks[0].spec
            {
                edit(parameters);
            }
            let e = check_plan(&reply(&made_up), q, &PlanContext::default(), "llm").unwrap_err();
            assert!(e.contains(what), "{what}: {e}");
        }
        let mut bigger = rules.clone();
        if let TaskSpec::Trade(TradeTask::AvoidedEmissions { mw, .. }) = &mut bigger.tasks[0].spec {
            *mw = 2000.0;
        }
        let e = check_plan(&reply(&bigger), q, &PlanContext::default(), "llm").unwrap_err();
        assert!(e.contains("capacity"), "{e}");
        // The places swapped, another margin, another source.
        type Change = fn(&mut TradeTask);
        let changes: [(&str, Change); 3] = [
            ("exporter", |t| {
                if let TradeTask::AvoidedEmissions {
                    exporter,
                    destination,
                    ..
                } = t
                {
                    std::mem::swap(exporter, destination);
                }
            }),
            ("margin", |t| {
                if let TradeTask::AvoidedEmissions { margin, .. } = t {
                    *margin = Some(cb_protocol::GridFactor::OperatingMargin);
                }
            }),
            ("source", |t| {
                if let TradeTask::AvoidedEmissions { parameters, .. } = t {
                    parameters.source = "IEA 2024".into();
                }
            }),
        ];
        for (what, change) in changes {
            let mut changed = rules.clone();
            if let TaskSpec::Trade(t) = &mut changed.tasks[0].spec {
                change(t);
            }
            let e = check_plan(&reply(&changed), q, &PlanContext::default(), "llm").unwrap_err();
            assert!(e.contains(what), "{what}: {e}");
        }
        // With defaults: onshore wind's lifetime range is the default's; a plan without it fails.
        let q = "How much CO2 do 200 MW of wind turbines exported from Germany to Poland avoid at a capacity factor \
                 of 30 %, degrading 0.5 % a year, with 150 MWh per MW and 700 t CO2e per MW?";
        let rules = crate::rules::plan(q, &PlanContext::default()).unwrap();
        check_plan(&reply(&rules), q, &PlanContext::default(), "llm").unwrap();
        let mut narrow = rules.clone();
        if let TaskSpec::Trade(TradeTask::AvoidedEmissions { parameters, .. }) = &mut narrow.tasks[0].spec {
            assert_eq!(parameters.lifetime_years_range, Some([20, 30]));
            parameters.lifetime_years_range = None;
        }
        let e = check_plan(&reply(&narrow), q, &PlanContext::default(), "llm").unwrap_err();
        assert!(e.contains("ranges"), "{e}");
    }

    fn national(id: &str, countries: &[&str], year: Option<i32>) -> Task {
        Task::new(
            id,
            TaskSpec::Trade(TradeTask::NationalAccounts {
                countries: countries.iter().map(|c| c.to_string()).collect(),
                year,
            }),
        )
    }

    fn plan(tasks: Vec<Task>) -> Plan {
        Plan {
            question: "q".into(),
            planner: "llm".into(),
            intent: "i".into(),
            tasks,
        }
    }

    #[test]
    fn the_gate_holds_a_plan_to_the_question_s_mentions() {
        let m = mentions::read("usa vs chn consumption-based co2 2019");
        let e = check_coverage(&plan(vec![national("a", &["USA"], Some(2019))]), &m).unwrap_err();
        assert!(e.contains("China"), "{e}");
        check_coverage(&plan(vec![national("a", &["USA", "CHN"], Some(2019))]), &m).unwrap();

        let m = mentions::read("China's emissions between 2010 and 2020");
        let e = check_coverage(&plan(vec![national("a", &["CHN"], Some(2020))]), &m).unwrap_err();
        assert!(e.contains("2010"), "{e}");
        check_coverage(
            &plan(vec![
                national("a", &["CHN"], Some(2010)),
                national("b", &["CHN"], Some(2020)),
            ]),
            &m,
        )
        .unwrap();

        let m = mentions::read("What does a BF-BOF plant emit?");
        assert!(m.places.is_empty(), "BF is no place here");
        let e = check_coverage(&plan(vec![national("a", &["BFA"], None)]), &m).unwrap_err();
        assert!(e.contains("route"), "{e}");

        let m = mentions::read("CBAM on 1,000 t of Indian wire rod imported into Germany in 2026");
        let cbam = Task::new(
            "c",
            TaskSpec::Lca(LcaTask::CbamCost {
                country: "IN".into(),
                cn_code: "7213".into(),
                variant: None,
                tonnes: 1000.0,
                year: 2026,
                quarter: None,
                actual_direct: None,
                actual_indirect: None,
                ets_price: None,
                origin_carbon_price: None,
            }),
        );
        check_coverage(&plan(vec![cbam]), &m).unwrap();
    }

    #[test]
    fn the_prompt_lists_the_mentions() {
        let p = mentions_prompt(&mentions::read("中国2015年至2022年的领土排放"));
        assert!(
            p.contains("China (CHN)") && p.contains("2015–2022") && p.contains("zh"),
            "{p}"
        );
        assert_eq!(mentions_prompt(&mentions::read("Tell me a joke")), "");
    }
}
