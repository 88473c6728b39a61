//! Turning a run's results into an answer: short text, a table of every number with its unit,
//! uncertainty and source, the notes, and any task that failed. Only formatting happens here; the
//! numbers come from the agents untouched.

use std::collections::{BTreeMap, BTreeSet};

use cb_planner::mentions::Lang;
use cb_protocol::format::format_quantity;

use cb_planner::templates::{number, place, say};
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

/// A value an agent put in a sentence, as `lang` writes it: a word of the data the agents'
/// text file translates, a place by its name in `lang`, a number with the language's decimal
/// mark; anything else as the agent wrote it.
fn value_in(lang: Lang, v: &str) -> String {
    if let Some(t) = cb_protocol::text::term(lang.code(), v) {
        return t;
    }
    if lang != Lang::En
        && let Some(p) = cb_planner::places::Gazetteer::get().resolve(v)
        && p.name == v
    {
        return place(lang, &p.key, &p.name);
    }
    number(lang, v)
}

/// A quantity's uncertainty in `lang`, as " (95 % interval a to b)"; empty when not assessed.
fn interval_in(lang: Lang, q: &Quantity) -> String {
    cb_protocol::format::uncertainty_sentence(q.value, &q.unit, &q.uncertainty)
        .map(|t| {
            say(
                lang,
                "in_brackets",
                &[("text", &t.render(lang.code(), &|v| number(lang, v)))],
            )
        })
        .unwrap_or_default()
}

/// A quantity's label in `lang`.
fn label_in(q: &LabeledQuantity, lang: Lang) -> String {
    q.label_in(lang.code(), &|v| value_in(lang, v))
}

/// What a sink's quantities are about ("1000 ha of tropical rainforest"), in `lang`.
fn sink_in(q: &LabeledQuantity, lang: Lang) -> String {
    q.label_text
        .as_ref()
        .and_then(|t| t.lists.get("sink"))
        .and_then(|s| s.first())
        .map(|t| t.render(lang.code(), &|v| value_in(lang, v)))
        .or_else(|| q.dimensions.get("sink").cloned())
        .unwrap_or_else(|| q.label.clone())
}

fn rows(task: &str, quantities: &[LabeledQuantity], lang: Lang) -> Vec<AnswerRow> {
    quantities
        .iter()
        .map(|q| AnswerRow {
            task: task.to_string(),
            measure: q.measure.clone(),
            label: label_in(q, lang),
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
fn national_text(qs: &[LabeledQuantity], lang: Lang) -> String {
    let fq = |v: f64, unit: &str| number(lang, &format_quantity(v, unit));
    let mut out = String::new();
    for q in qs.iter().filter(|q| q.measure == "territorial_co2") {
        let region = q.dimensions.get("region").cloned().unwrap_or_default();
        let year = q.dimensions.get("year").cloned().unwrap_or_default();
        let name = place(lang, &region, &entity_name(q, &region));
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
        out.push_str(&say(
            lang,
            "national",
            &[
                ("name", &name),
                ("code", &code),
                ("year", &year),
                ("consumption", &fq(c.value, &c.unit)),
                ("territorial", &fq(t.value, &t.unit)),
            ],
        ));
        out.push('\n');
        let (key, pct, diff) = if diff < 0.0 {
            ("net_exporter", -pct, -diff)
        } else {
            ("net_importer", pct, diff)
        };
        out.push_str(&say(
            lang,
            key,
            &[
                ("pct", &number(lang, &format!("{pct:.1}"))),
                ("name", &name),
                ("diff", &fq(diff, &t.unit)),
            ],
        ));
        out.push_str(&say(lang, "source", &[("dataset", &t.provenance.dataset)]));
        out.push('\n');
    }
    out
}

/// A CBAM default value set against a modelled route's intensity, from the results of the two
/// tasks (the CBAM cost and the plant's intensity), with their ratio.
/// The first task of the plan that `pick` chooses and that completed, with its output.
fn completed<'a>(
    plan: &'a Plan,
    results: &'a [TaskResult],
    pick: &dyn Fn(&TaskSpec) -> bool,
) -> Option<(&'a cb_protocol::Task, &'a cb_protocol::TaskOutput)> {
    plan.tasks.iter().filter(|t| pick(&t.spec)).find_map(|t| {
        results
            .iter()
            .find(|r| r.task_id == t.id)
            .and_then(|r| match &r.outcome {
                TaskOutcome::Completed(out) => Some((t, out)),
                TaskOutcome::Failed(_) => None,
            })
    })
}

/// The quantity of measure `m` in `out`.
fn value<'a>(out: &'a cb_protocol::TaskOutput, m: &str) -> Option<&'a Quantity> {
    out.quantities
        .iter()
        .find(|q| q.measure == m)
        .map(|q| &q.quantity)
}

/// An MRIO's footprint of a product against its life-cycle footprint, both per kg: the
/// sector's multiplier times the product's price against the LCA footprint of the amount
/// asked, and their ratio.
fn mrio_against_lca(plan: &Plan, results: &[TaskResult], lang: Lang) -> String {
    let (Some((mrio, mrio_out)), Some((lca, lca_out))) = (
        completed(plan, results, &|s| {
            matches!(s, TaskSpec::Trade(TradeTask::Multiplier { .. }))
        }),
        completed(plan, results, &|s| {
            matches!(s, TaskSpec::Lca(LcaTask::Footprint { .. }))
        }),
    ) else {
        return String::new();
    };
    let (
        TaskSpec::Trade(TradeTask::Multiplier { region, sector, .. }),
        TaskSpec::Lca(LcaTask::Footprint {
            product,
            amount,
            unit,
            ..
        }),
    ) = (&mrio.spec, &lca.spec)
    else {
        return String::new();
    };
    let (Some(per_kg), Some(footprint)) = (value(mrio_out, "multiplier_per_kg"), value(lca_out, "footprint"))
    else {
        return String::new();
    };
    // The life-cycle footprint is for the amount asked, in kg (the planner asks tonnes in kg).
    if unit.as_deref().is_some_and(|u| u != "kg") || *amount <= 0.0 || footprint.value == 0.0 {
        return String::new();
    }
    let lca_unit = format!("{}/kg", footprint.unit);
    let lca_per_kg = footprint.value / amount;
    format!(
        "{}\n",
        say(
            lang,
            "mrio_vs_lca",
            &[
                (
                    "mrio",
                    &number(lang, &format_quantity(per_kg.value, &per_kg.unit))
                ),
                ("region", region),
                ("sector", sector),
                ("lca", &number(lang, &format_quantity(lca_per_kg, &lca_unit))),
                ("product", product),
                (
                    "ratio",
                    &number(
                        lang,
                        &cb_protocol::format::significant(per_kg.value / lca_per_kg, 3)
                    )
                ),
            ],
        )
    )
}

fn default_against_route(plan: &Plan, results: &[TaskResult], lang: Lang) -> String {
    // Only where a route is set against the default (not on every CBAM answer).
    let routes_modelled = plan.tasks.iter().any(|t| {
        matches!(
            t.spec,
            TaskSpec::Factory(cb_protocol::FactoryTask::Intensity { .. })
        )
    });
    if !routes_modelled {
        return String::new();
    }
    let Some((cbam, cbam_out)) = completed(plan, results, &|s| {
        matches!(s, TaskSpec::Lca(LcaTask::CbamCost { .. }))
    }) else {
        return String::new();
    };
    let (Some(default), Some(direct), Some(indirect)) = (
        value(cbam_out, "default_value"),
        value(cbam_out, "default_value_direct"),
        value(cbam_out, "default_value_indirect"),
    ) else {
        return String::new();
    };
    let TaskSpec::Lca(LcaTask::CbamCost {
        country,
        cn_code,
        year,
        ..
    }) = &cbam.spec
    else {
        return String::new();
    };
    let origin = cb_planner::places::Gazetteer::get().resolve(country);
    let country_name = origin.map_or(country.clone(), |p| place(lang, &p.key, &p.name));
    let fq = |q: &Quantity| number(lang, &format_quantity(q.value, &q.unit));
    let plain = Quantity::new(
        direct.value + indirect.value,
        &default.unit,
        default.provenance.clone(),
    );
    // Which production route the default value is the one of, where the table marks one.
    let mark = default
        .provenance
        .parameters
        .get("route")
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());
    let mut text = String::new();
    if let Some(mark) = &mark {
        match cb_lca::cbam::route_mark_meaning(mark) {
            Some(meaning) => text.push_str(&say(
                lang,
                "cbam_default_route",
                &[("mark", mark), ("meaning", &value_in(lang, meaning))],
            )),
            None => text.push_str(&say(lang, "cbam_default_route_unnamed", &[("mark", mark)])),
        }
        text.push('\n');
    }
    // One sentence per route modelled (a route named, or every route of the good's family).
    for task in &plan.tasks {
        let TaskSpec::Factory(cb_protocol::FactoryTask::Intensity { plant: plant_id, .. }) = &task.spec
        else {
            continue;
        };
        let Some(TaskOutcome::Completed(plant_out)) =
            results.iter().find(|r| r.task_id == task.id).map(|r| &r.outcome)
        else {
            continue;
        };
        // On the basis CBAM counts for the good: direct only for Annex II goods (iron and steel,
        // aluminium, hydrogen), whose default values carry no indirect part.
        let direct_only = cb_lca::cbam::direct_only(cn_code);
        let measure = if direct_only {
            "emission_intensity_direct"
        } else {
            "emission_intensity"
        };
        let Some(modelled) = value(plant_out, measure) else {
            continue;
        };
        let basis = say(
            lang,
            if direct_only {
                "cbam_basis_direct"
            } else {
                "cbam_basis_total"
            },
            &[],
        );
        if modelled.value <= 0.0 {
            continue;
        }
        text.push_str(&say(
            lang,
            "cbam_vs_route",
            &[
                ("good", &format!("CN {cn_code}")),
                ("country", &country_name),
                ("year", &year.to_string()),
                ("default", &fq(default)),
                ("plain", &fq(&plain)),
                ("modelled", &fq(modelled)),
                ("plant", plant_id),
                ("basis", &basis),
                (
                    "ratio",
                    &number(
                        lang,
                        &cb_protocol::format::significant(default.value / modelled.value, 4),
                    ),
                ),
            ],
        ));
        if mark
            .as_deref()
            .is_some_and(|m| cb_planner::rules::plant_route_mark(plant_id) == Some(m))
        {
            text.push(' ');
            text.push_str(&say(lang, "cbam_same_route", &[("plant", plant_id)]));
        }
        text.push('\n');
    }
    text
}

/// How national accounts changed between the years a plan asked for ("since 2005"): for each
/// country, the first against the last year, from the results of separate tasks.
fn national_trend(plan: &Plan, results: &[TaskResult], lang: Lang) -> String {
    let fq = |v: f64, unit: &str| number(lang, &format_quantity(v, unit));
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
            let name = place(lang, &region, &entity_name(q, &region));
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
            number(lang, &format!("{:+.1}%", (b - a) / a * 100.0))
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
        out.push_str(&say(
            lang,
            "trend",
            &[
                ("name", &last.name),
                ("from", &first.year.to_string()),
                ("to", &last.year.to_string()),
                ("t_from", &fq(first.territorial, &first.unit)),
                ("t_to", &fq(last.territorial, &last.unit)),
                ("t_change", &change(first.territorial, last.territorial)),
                ("c_from", &fq(first.consumption, &first.unit)),
                ("c_to", &fq(last.consumption, &last.unit)),
                ("c_change", &change(first.consumption, last.consumption)),
            ],
        ));
        out.push('\n');
    }
    out
}

/// A list of the results' largest numbers.
fn listing(
    qs: &[LabeledQuantity],
    measure_order: &[&str],
    limit: usize,
    by_size: bool,
    lang: Lang,
) -> String {
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
            label_in(q, lang),
            number(lang, &format_quantity(q.quantity.value, &q.quantity.unit)),
            interval_in(lang, &q.quantity)
        ));
    }
    if items.len() > limit {
        out.push_str(&format!(
            "  {}\n",
            say(lang, "and_more", &[("more", &(items.len() - limit).to_string())])
        ));
    }
    out
}

/// A sink's annual net CO2 in words, with its 95 % interval where known, then the pools.
fn sink_text(qs: &[LabeledQuantity], lang: Lang) -> String {
    let mut out = String::new();
    // Carbon still held in wood products after some years.
    if let (Some(c), Some(co2)) = (
        qs.iter().find(|q| q.measure == "hwp_stock"),
        qs.iter().find(|q| q.measure == "hwp_stock_co2"),
    ) {
        let dim = |k: &str| c.dimensions.get(k).cloned().unwrap_or_default();
        out.push_str(&say(
            lang,
            "hwp_stored",
            &[
                ("label", &sink_in(c, lang)),
                (
                    "stock",
                    &number(lang, &format_quantity(c.quantity.value, &c.quantity.unit)),
                ),
                ("years", &dim("years")),
                (
                    "co2",
                    &number(lang, &format_quantity(co2.quantity.value, &co2.quantity.unit)),
                ),
            ],
        ));
        out.push('\n');
        return out;
    }
    // A yearly rate, or a conversion's one-off change in its first year.
    let (q, removes, emits) = match qs.iter().find(|q| q.measure == "net_co2_annual") {
        Some(q) => (Some(q), "sink_removes", "sink_emits"),
        None => (
            qs.iter().find(|q| q.measure == "net_co2_first_year"),
            "conversion_removes",
            "conversion_emits",
        ),
    };
    if let Some(q) = q {
        let v = q.quantity.value;
        out.push_str(&say(
            lang,
            if v <= 0.0 { removes } else { emits },
            &[
                // A conversion's label names the land; the sentence says "in the year of conversion".
                (
                    "label",
                    &match q.measure.as_str() {
                        "net_co2_first_year" => sink_in(q, lang),
                        _ => label_in(q, lang),
                    },
                ),
                ("amount", &number(lang, &format_quantity(v.abs(), "t CO2"))),
                ("value", &number(lang, &format_quantity(v, &q.quantity.unit))),
                ("interval", &interval_in(lang, &q.quantity)),
            ],
        ));
        out.push('\n');
    }
    // Pools that do not change (a soil account has only soil) are left out of the listing.
    let changing: Vec<LabeledQuantity> = qs
        .iter()
        .filter(|q| q.measure != "net_co2_by_pool" || q.quantity.value.abs() > 1e-9)
        .cloned()
        .collect();
    out.push_str(&listing(
        &changing,
        &["net_co2_total", "net_co2_by_pool"],
        6,
        false,
        lang,
    ));
    out
}

/// Assembles the answer from the plan and the results (in plan order).
pub fn compose(run_id: &str, plan: &Plan, results: &[TaskResult]) -> Answer {
    // The answer's sentences follow the question's language.
    let lang = cb_planner::mentions::read(&plan.question).lang;
    let list = |qs: &[LabeledQuantity], measures: &[&str], limit: usize, by_size: bool| {
        listing(qs, measures, limit, by_size, lang)
    };
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
                table.extend(rows(&task.id.0, &out.quantities, lang));
                // Tasks of one kind (a trend's two years) share their notes: each is said once.
                for note in out.notes_in(lang.code(), &|v| value_in(lang, v)) {
                    if !notes.contains(&note) {
                        notes.push(note);
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
                let qs = &out.quantities;
                let part = match &task.spec {
                    TaskSpec::Lca(LcaTask::Footprint { .. }) => format!(
                        "{}\n{}\n{}",
                        list(qs, &["footprint"], 1, false).trim_end(),
                        say(lang, "footprint_processes", &[]),
                        list(qs, &["process_contribution"], 5, false)
                    ),
                    TaskSpec::Lca(LcaTask::CbamCost {
                        country,
                        cn_code,
                        tonnes,
                        year,
                        ..
                    }) => {
                        let origin = cb_planner::places::Gazetteer::get().resolve(country);
                        let country_name = origin.map_or(country.clone(), |p| place(lang, &p.key, &p.name));
                        format!(
                            "{}\n{}",
                            say(
                                lang,
                                "cbam",
                                &[
                                    ("tonnes", &number(lang, &tonnes.to_string())),
                                    ("cn_code", cn_code),
                                    ("country", &country_name),
                                    ("year", &year.to_string()),
                                ],
                            ),
                            list(
                                qs,
                                &[
                                    "embedded_emissions",
                                    "certificates",
                                    "certificates_to_surrender",
                                    "cbam_cost",
                                    "cbam_saving"
                                ],
                                12,
                                false
                            )
                        )
                    }
                    TaskSpec::Sinks(_) => sink_text(qs, lang),
                    TaskSpec::Uncertainty(cb_protocol::UncertaintyTask::Sobol { .. }) => format!(
                        "{}\n{}",
                        say(lang, "sobol", &[]),
                        list(qs, &["sobol_first_order", "sobol_total"], 12, false)
                    ),
                    TaskSpec::Uncertainty(_) => list(qs, &[], 12, false),
                    TaskSpec::Factory(cb_protocol::FactoryTask::Optimize { .. }) => format!(
                        "{}\n{}",
                        say(lang, "plant_schedule", &[]),
                        list(
                            qs,
                            &[
                                "emissions",
                                "cost",
                                "emissions_cut",
                                "cost_saving",
                                "plant_grid_mean"
                            ],
                            9,
                            false
                        )
                    ),
                    TaskSpec::Factory(cb_protocol::FactoryTask::Intensity { .. }) => format!(
                        "{}\n{}",
                        say(lang, "plant_intensity", &[]),
                        list(
                            qs,
                            &[
                                "emission_intensity",
                                "emission_intensity_direct",
                                "emission_intensity_indirect",
                                "plant_grid_mean"
                            ],
                            4,
                            false
                        )
                    ),
                    TaskSpec::Factory(cb_protocol::FactoryTask::GridIntensity { .. }) => format!(
                        "{}\n{}",
                        say(lang, "grid_intensity", &[]),
                        list(qs, &["grid_intensity", "grid_intensity_other"], 12, false)
                    ),
                    TaskSpec::Factory(cb_protocol::FactoryTask::Macc { .. }) => format!(
                        "{}\n{}",
                        say(lang, "plant_measures", &[]),
                        list(qs, &["abatement_cost", "least_cost_set_cost"], 12, false)
                    ),
                    TaskSpec::Trade(params) => match params {
                        TradeTask::NationalAccounts { .. } => national_text(qs, lang),
                        TradeTask::MrioAccounts { .. } => format!(
                            "{}\n{}",
                            say(lang, "mrio_accounts", &[]),
                            list(
                                qs,
                                &["D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"],
                                24,
                                false
                            )
                        ),
                        TradeTask::Transfers { .. } => format!(
                            "{}\n{}{}\n{}",
                            say(lang, "transfers", &[]),
                            list(qs, &["embodied_in_trade"], 10, true),
                            say(lang, "net_transfers", &[]),
                            list(qs, &["net_transfer"], 10, true)
                        ),
                        TradeTask::TopSectors { .. } => {
                            format!("{}\n{}", say(lang, "top_sectors", &[]), list(qs, &[], 50, false))
                        }
                        TradeTask::Multiplier { .. } => format!(
                            "{}\n{}",
                            say(lang, "multiplier", &[]),
                            list(qs, &["multiplier", "multiplier_per_kg"], 2, false)
                        ),
                        TradeTask::SupplyChainPaths { .. } => format!(
                            "{}\n{}\n{}",
                            list(qs, &["footprint"], 1, false).trim_end(),
                            say(lang, "paths", &[]),
                            list(qs, &["path"], 50, false)
                        ),
                        TradeTask::AvoidedEmissions { .. } => format!(
                            "{}\n{}",
                            say(lang, "avoided", &[]),
                            list(
                                qs,
                                &[
                                    "avoided_emissions",
                                    "life_cycle_emissions",
                                    "avoided_to_life_cycle",
                                    "lifetime_generation",
                                    "destination_margin",
                                    "exporter_grid"
                                ],
                                6,
                                false
                            )
                        ),
                    },
                };
                text.push_str(&part);
            }
        }
    }
    text.push_str(&national_trend(plan, results, lang));
    text.push_str(&default_against_route(plan, results, lang));
    text.push_str(&mrio_against_lca(plan, results, lang));
    if text.is_empty() {
        text = say(lang, "no_result", &[]);
    }
    if !errors.is_empty() {
        text.push('\n');
        text.push_str(&say(lang, "not_answered", &[("errors", &errors.join("; "))]));
        text.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;
    use cb_protocol::{AgentKind, Task};

    /// Every number written in a text, whichever decimal mark the language uses.
    fn numbers(text: &str) -> Vec<f64> {
        // "CO2" is a name, not a number, and the languages say it a different number of times.
        let text = text.replace("CO2", "");
        let mut out = Vec::new();
        let mut cur = String::new();
        for c in text.chars().chain([' ']) {
            if c.is_ascii_digit() || ((c == '.' || c == ',') && !cur.is_empty()) {
                cur.push(if c == ',' { '.' } else { c });
            } else if !cur.is_empty() {
                if let Ok(v) = cur.trim_end_matches('.').parse() {
                    out.push(v);
                }
                cur.clear();
            }
        }
        out
    }

    /// The same results asked in five languages: the sentences follow the question, and every
    /// number, unit, table row and source stays the same.
    #[test]
    fn the_answer_speaks_the_questions_language_with_the_same_numbers() {
        let questions = [
            (
                "en",
                "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
                "China",
            ),
            ("zh", "中国2022年的消费排放与领土排放相比如何？", "中国"),
            (
                "fr",
                "Comment la consommation de la Chine en 2022 se compare-t-elle aux émissions territoriales ?",
                "Chine",
            ),
            (
                "de",
                "Wie hoch waren die konsumbasierten Emissionen Chinas im Vergleich zu den territorialen im Jahr 2022?",
                "China",
            ),
            (
                "es",
                "¿Cómo se comparan las emisiones basadas en el consumo de China con sus emisiones territoriales en 2022?",
                "China",
            ),
        ];
        let output = cb_trade::agent::national_accounts(
            cb_trade::data::gcb::Gcb::bundled(),
            &["CHN".into()],
            Some(2022),
        )
        .unwrap();
        let mut english: Option<Answer> = None;
        for (lang, q, name) in questions {
            assert_eq!(cb_planner::mentions::read(q).lang.code(), lang, "{q}");
            let plan = Plan {
                question: q.into(),
                planner: "rules".into(),
                intent: String::new(),
                tasks: vec![Task::new(
                    "national-accounts",
                    TaskSpec::Trade(TradeTask::NationalAccounts {
                        countries: vec!["CHN".into()],
                        year: Some(2022),
                    }),
                )],
            };
            let results = vec![TaskResult {
                task_id: plan.tasks[0].id.clone(),
                agent: AgentKind::Trade,
                outcome: TaskOutcome::Completed(output.clone()),
            }];
            let a = compose("run", &plan, &results);
            assert!(a.text.contains(name), "{lang}: {}", a.text);
            match &english {
                None => english = Some(a),
                Some(en) => {
                    assert_ne!(a.text, en.text, "{lang} is not translated");
                    assert_eq!(numbers(&a.text), numbers(&en.text), "{lang}: {}", a.text);
                    // Every number, unit and source is the same; the labels and notes are the
                    // agents' sentences said again in the question's language.
                    let numbers_only = |t: &[AnswerRow]| {
                        t.iter()
                            .map(|r| AnswerRow {
                                label: String::new(),
                                ..r.clone()
                            })
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(numbers_only(&a.table), numbers_only(&en.table), "{lang}");
                    for (row, en_row) in a.table.iter().zip(&en.table) {
                        assert_ne!(row.label, en_row.label, "{lang}: label not translated");
                        assert!(row.label.contains(name), "{lang}: {}", row.label);
                    }
                    assert_eq!(a.notes.len(), en.notes.len(), "{lang}");
                    for (note, en_note) in a.notes.iter().zip(&en.notes) {
                        assert_ne!(note, en_note, "{lang}: note not translated");
                    }
                    assert_eq!(a.sources, en.sources, "{lang}");
                    if matches!(lang, "fr" | "de" | "es") {
                        assert!(a.text.contains("10,31 Gt CO2"), "{lang}: {}", a.text);
                    }
                }
            }
        }
    }
}
