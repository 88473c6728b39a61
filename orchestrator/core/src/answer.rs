//! Turning a run's results into an answer: short text, a table of every number with its unit,
//! uncertainty and source, the notes, and any task that failed. Only formatting happens here; the
//! numbers come from the agents untouched.

use std::collections::{BTreeMap, BTreeSet};

use cb_protocol::format::{format_quantity, interval_text};
use cb_protocol::{
    LabeledQuantity, LcaTask, Plan, Quantity, TaskOutcome, TaskResult, TaskSpec, TradeTask, Uncertainty,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One number of the answer, flattened for tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnswerRow {
    pub task: String,
    pub measure: String,
    pub label: String,
    pub value: f64,
    pub unit: String,
    pub uncertainty: Uncertainty,
    pub source: String,
    pub method: String,
}

/// The answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Answer {
    pub run_id: String,
    pub question: String,
    pub planner: String,
    pub intent: String,
    /// The short answer in words.
    pub text: String,
    /// Every number, with unit, uncertainty and source.
    pub table: Vec<AnswerRow>,
    pub notes: Vec<String>,
    /// Consistency checks of the results: what was compared, the numbers, the tolerance, pass/fail.
    #[serde(default)]
    pub findings: Vec<cb_protocol::Finding>,
    /// Tasks that failed, with why.
    pub errors: Vec<String>,
    /// Citations of every dataset used.
    pub sources: Vec<String>,
    pub plan: Plan,
    pub results: Vec<TaskResult>,
    /// Who wrote `text`: `template`, or `llm:<model>` when an LLM's prose passed the number check.
    #[serde(default = "template_writer")]
    pub writer: String,
    /// Every planning and writing attempt of the run (planner, outcome, tokens, latency).
    #[serde(default)]
    pub planning: Vec<cb_planner::PlanningAttempt>,
}

fn template_writer() -> String {
    "template".into()
}

fn rows(task: &str, quantities: &[LabeledQuantity]) -> Vec<AnswerRow> {
    quantities
        .iter()
        .map(|q| AnswerRow {
            task: task.to_string(),
            measure: q.measure.clone(),
            label: q.label.clone(),
            value: q.quantity.value,
            unit: q.quantity.unit.clone(),
            uncertainty: q.quantity.uncertainty.clone(),
            source: format!(
                "{} ({})",
                q.quantity.provenance.dataset, q.quantity.provenance.version
            ),
            method: q.quantity.provenance.method.clone(),
        })
        .collect()
}

fn find<'a>(qs: &'a [LabeledQuantity], measure: &str, region: &str, year: &str) -> Option<&'a Quantity> {
    qs.iter()
        .find(|q| {
            q.measure == measure
                && q.dimensions.get("region").map(String::as_str) == Some(region)
                && q.dimensions.get("year").map(String::as_str) == Some(year)
        })
        .map(|q| &q.quantity)
}

/// The name the data gives a region's entity ("China" for CHN), else the region code.
fn entity_name(q: &LabeledQuantity, region: &str) -> String {
    q.quantity
        .provenance
        .parameters
        .get("entity")
        .cloned()
        .unwrap_or_else(|| region.to_string())
}

/// The national-accounts paragraph: consumption against territorial, and what the difference
/// means.
fn national_text(qs: &[LabeledQuantity]) -> String {
    let mut out = String::new();
    for q in qs.iter().filter(|q| q.measure == "territorial_co2") {
        let region = q.dimensions.get("region").cloned().unwrap_or_default();
        let year = q.dimensions.get("year").cloned().unwrap_or_default();
        let name = entity_name(q, &region);
        let (Some(t), Some(c)) = (
            find(qs, "territorial_co2", &region, &year),
            find(qs, "consumption_co2", &region, &year),
        ) else {
            continue;
        };
        let diff = c.value - t.value;
        let pct = if t.value != 0.0 {
            diff / t.value * 100.0
        } else {
            0.0
        };
        let code = if region != name {
            format!(" ({region})")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{name}{code}, {year}: consumption-based CO2 {}, territorial CO2 {}.\n",
            format_quantity(c.value, &c.unit),
            format_quantity(t.value, &t.unit)
        ));
        let direction = if diff < 0.0 {
            format!(
                "Consumption is {:.1}% below territorial: {name} is a net exporter of embodied CO2 — {} more is \
                 emitted on its territory to make goods consumed abroad than is emitted abroad for its own consumption.",
                -pct,
                format_quantity(-diff, &t.unit)
            )
        } else {
            format!(
                "Consumption is {:.1}% above territorial: {name} is a net importer of embodied CO2 — {} more is \
                 emitted abroad for its consumption than at home for others' consumption.",
                pct,
                format_quantity(diff, &t.unit)
            )
        };
        out.push_str(&direction);
        out.push_str(&format!(" (Source: {}.)\n", t.provenance.dataset));
    }
    out
}

/// How national accounts changed between the years a plan asked for ("since 2005"): for each
/// country, the first against the last year, from the results of separate tasks.
fn national_trend(plan: &Plan, results: &[TaskResult]) -> String {
    struct Point {
        year: i32,
        territorial: f64,
        consumption: f64,
        unit: String,
        name: String,
    }
    let mut by_region: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for task in &plan.tasks {
        if !matches!(task.spec, TaskSpec::Trade(TradeTask::NationalAccounts { .. })) {
            continue;
        }
        let Some(TaskOutcome::Completed(out)) =
            results.iter().find(|r| r.task_id == task.id).map(|r| &r.outcome)
        else {
            continue;
        };
        let qs = &out.quantities;
        for q in qs.iter().filter(|q| q.measure == "territorial_co2") {
            let region = q.dimensions.get("region").cloned().unwrap_or_default();
            let year_text = q.dimensions.get("year").cloned().unwrap_or_default();
            let (Ok(year), Some(c)) = (
                year_text.parse::<i32>(),
                find(qs, "consumption_co2", &region, &year_text),
            ) else {
                continue;
            };
            let name = entity_name(q, &region);
            by_region.entry(region).or_default().push(Point {
                year,
                territorial: q.quantity.value,
                consumption: c.value,
                unit: q.quantity.unit.clone(),
                name,
            });
        }
    }
    let change = |a: f64, b: f64| {
        if a != 0.0 {
            format!("{:+.1}%", (b - a) / a * 100.0)
        } else {
            "n/a".to_string()
        }
    };
    let mut out = String::new();
    for mut points in by_region.into_values() {
        points.sort_by_key(|p| p.year);
        points.dedup_by_key(|p| p.year);
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            continue;
        };
        if first.year == last.year {
            continue;
        }
        out.push_str(&format!(
            "{}, {} to {}: territorial CO2 {} → {} ({}), consumption-based CO2 {} → {} ({}).\n",
            last.name,
            first.year,
            last.year,
            format_quantity(first.territorial, &first.unit),
            format_quantity(last.territorial, &last.unit),
            change(first.territorial, last.territorial),
            format_quantity(first.consumption, &first.unit),
            format_quantity(last.consumption, &last.unit),
            change(first.consumption, last.consumption),
        ));
    }
    out
}

/// A list of the results' largest numbers.
fn listing(qs: &[LabeledQuantity], measure_order: &[&str], limit: usize, by_size: bool) -> String {
    let mut items: Vec<&LabeledQuantity> = qs
        .iter()
        .filter(|q| measure_order.is_empty() || measure_order.contains(&q.measure.as_str()))
        .collect();
    if by_size {
        items.sort_by(|a, b| b.quantity.value.abs().total_cmp(&a.quantity.value.abs()));
    }
    let mut out = String::new();
    for q in items.iter().take(limit) {
        out.push_str(&format!(
            "  {}: {}{}\n",
            q.label,
            format_quantity(q.quantity.value, &q.quantity.unit),
            interval_text(&q.quantity)
        ));
    }
    if items.len() > limit {
        out.push_str(&format!(
            "  … and {} more (see --json or --out)\n",
            items.len() - limit
        ));
    }
    out
}

/// A sink's annual net CO2 in words, with its 95 % interval where known, then the pools.
fn sink_text(qs: &[LabeledQuantity]) -> String {
    let mut out = String::new();
    if let Some(q) = qs.iter().find(|q| q.measure == "net_co2_annual") {
        let v = q.quantity.value;
        let what = if v <= 0.0 { "removes" } else { "emits" };
        out.push_str(&format!(
            "{}: {} {} per year ({}){}.\n",
            q.label,
            what,
            format_quantity(v.abs(), "t CO2"),
            format_quantity(v, &q.quantity.unit),
            interval_text(&q.quantity)
        ));
    }
    out.push_str(&listing(qs, &["net_co2_total", "net_co2_by_pool"], 6, false));
    out
}

/// Assembles the answer from the plan and the results (in plan order).
pub fn compose(run_id: &str, plan: &Plan, results: &[TaskResult]) -> Answer {
    let mut text = String::new();
    let mut table = Vec::new();
    let mut notes = Vec::new();
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut sources = BTreeSet::new();
    for task in &plan.tasks {
        let Some(result) = results.iter().find(|r| r.task_id == task.id) else {
            errors.push(format!("task {} did not run", task.id));
            continue;
        };
        match &result.outcome {
            TaskOutcome::Failed(e) => errors.push(format!("{}: {}", task.id, e.message)),
            TaskOutcome::Completed(out) => {
                table.extend(rows(&task.id.0, &out.quantities));
                // Tasks of one kind (a trend's two years) share their notes: each is said once.
                for note in &out.notes {
                    if !notes.contains(note) {
                        notes.push(note.clone());
                    }
                }
                findings.extend(out.findings.iter().cloned());
                for q in &out.quantities {
                    let p = &q.quantity.provenance;
                    sources.insert(match &p.citation {
                        Some(c) => format!("{} — {}", p.dataset, c),
                        None => format!("{} ({})", p.dataset, p.version),
                    });
                }
                let part = match &task.spec {
                    TaskSpec::Lca(LcaTask::Footprint { .. }) => format!(
                        "{}\nLargest contributions by process:\n{}",
                        listing(&out.quantities, &["footprint"], 1, false).trim_end(),
                        listing(&out.quantities, &["process_contribution"], 5, false)
                    ),
                    TaskSpec::Lca(LcaTask::CbamCost {
                        country,
                        cn_code,
                        tonnes,
                        year,
                        ..
                    }) => format!(
                        "EU CBAM on {tonnes} t of CN {cn_code} from {} in {year}:\n{}",
                        cb_planner::places::Gazetteer::get()
                            .resolve(country)
                            .map_or(country.clone(), |p| p.name),
                        listing(
                            &out.quantities,
                            &["embedded_emissions", "certificates", "cbam_cost", "cbam_saving"],
                            12,
                            false
                        )
                    ),
                    TaskSpec::Sinks(_) => sink_text(&out.quantities),
                    TaskSpec::Uncertainty(cb_protocol::UncertaintyTask::Sobol { .. }) => format!(
                        "Sobol indices (share of the output variance; first order alone, total with \
                         interactions):\n{}",
                        listing(&out.quantities, &["sobol_first_order", "sobol_total"], 12, false)
                    ),
                    TaskSpec::Uncertainty(_) => listing(&out.quantities, &[], 12, false),
                    TaskSpec::Factory(cb_protocol::FactoryTask::Optimize { .. }) => format!(
                        "Operating the plant at least cost (hourly schedule):\n{}",
                        listing(
                            &out.quantities,
                            &["emissions", "cost", "emissions_cut", "cost_saving"],
                            8,
                            false
                        )
                    ),
                    TaskSpec::Factory(cb_protocol::FactoryTask::Macc { .. }) => format!(
                        "Abatement measures, cheapest first (EUR per t CO2 abated):\n{}",
                        listing(
                            &out.quantities,
                            &["abatement_cost", "least_cost_set_cost"],
                            12,
                            false
                        )
                    ),
                    TaskSpec::Trade(params) => match params {
                        TradeTask::NationalAccounts { .. } => national_text(&out.quantities),
                        TradeTask::MrioAccounts { .. } => format!(
                            "Regional accounts (consumption-, production-, import-, export-based):\n{}",
                            listing(
                                &out.quantities,
                                &["D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"],
                                24,
                                false
                            )
                        ),
                        TradeTask::Transfers { .. } => format!(
                            "Largest flows embodied in trade:\n{}Net transfers (imports − exports):\n{}",
                            listing(&out.quantities, &["embodied_in_trade"], 10, true),
                            listing(&out.quantities, &["net_transfer"], 10, true)
                        ),
                        TradeTask::TopSectors { .. } => {
                            format!(
                                "Largest contributions by sector:\n{}",
                                listing(&out.quantities, &[], 50, false)
                            )
                        }
                        TradeTask::SupplyChainPaths { .. } => format!(
                            "{}\nLargest supply-chain paths (final product ← supplier ← …):\n{}",
                            listing(&out.quantities, &["footprint"], 1, false).trim_end(),
                            listing(&out.quantities, &["path"], 50, false)
                        ),
                    },
                };
                text.push_str(&part);
            }
        }
    }
    text.push_str(&national_trend(plan, results));
    if text.is_empty() {
        text = "No result could be computed.".into();
    }
    if !errors.is_empty() {
        text.push_str(&format!("\nNot answered: {}\n", errors.join("; ")));
    }
    Answer {
        run_id: run_id.to_string(),
        question: plan.question.clone(),
        planner: plan.planner.clone(),
        intent: plan.intent.clone(),
        text: text.trim_end().to_string(),
        table,
        notes,
        findings,
        errors,
        sources: sources.into_iter().collect(),
        plan: plan.clone(),
        results: results.to_vec(),
        writer: template_writer(),
        planning: Vec::new(),
    }
}
