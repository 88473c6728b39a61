//! `cbutler cbam compare`: the Commission's default values for a country against the bundled
//! route models run on that country's grid. The binary composes the two agents' library calls
//! (the CBAM engine of `cb-lca`, the steady plant run of `cb-factory`); neither agent knows the
//! other.

use std::io::Write;

use anyhow::{Result, bail};
use cb_lca::cbam::data::CbamTables;
use cb_lca::cbam::{CostQuery, cost, direct_only};
use cb_protocol::{FactoryTask, TaskOutput};
use clap::Args;
use serde::Serialize;

/// Hours the routes run steadily (a week of the hourly shape, as `ask` does).
const HOURS: u32 = 168;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Country of origin: English name or ISO code (IN, IND, India).
    #[arg(long)]
    country: String,
    /// Only the routes making this good's family: steel (72…), cement (2523…) or ammonia
    /// (2814…). The default compares all three on their representative goods (72061000 ingots,
    /// 25232900 grey Portland cement, 28141000 anhydrous ammonia).
    #[arg(long = "cn-code")]
    cn_code: Option<String>,
    /// Year of import (2026 or later): selects the mark-up.
    #[arg(long, default_value_t = 2026, value_parser = clap::value_parser!(i32).range(2026..=2100))]
    year: i32,
    #[arg(long)]
    json: bool,
}

/// One good against one route model.
#[derive(Debug, Serialize)]
pub struct RouteComparison {
    pub cn_code: String,
    pub description: String,
    /// The default value's production-route mark in the Commission's table, e.g. `(C)`.
    pub default_route_mark: String,
    /// What the mark names, where the bundled data names it.
    pub default_route: Option<&'static str>,
    /// The route model is the production route the default value names.
    pub same_route_as_default: bool,
    pub default_with_mark_up_t_per_t: f64,
    pub default_without_mark_up_t_per_t: f64,
    pub mark_up: f64,
    pub plant: String,
    pub modelled_direct_t_per_t: f64,
    pub modelled_indirect_t_per_t: f64,
    /// What CBAM counts for the good: direct only (Annex II goods), or direct and indirect.
    pub basis: &'static str,
    pub modelled_on_basis_t_per_t: f64,
    /// Default with the year's mark-up ÷ the modelled intensity on the same basis (none where the
    /// route emits nothing on that basis).
    pub ratio: Option<f64>,
    /// The same without the mark-up, which is a penalty on default values, not an emission.
    pub ratio_without_mark_up: Option<f64>,
    pub grid: String,
    /// The default is the row for other countries and territories (the country has none).
    pub other_countries_row: bool,
}

/// The defaults of `country` in `year` against every route model of the families asked.
pub fn compare(country: &str, cn_code: Option<&str>, year: i32) -> Result<Vec<RouteComparison>> {
    let families: Vec<(String, &[&str])> = match cn_code {
        Some(cn) => {
            let cn: String = cn.chars().filter(|c| !c.is_whitespace()).collect();
            let plants = cb_planner::rules::route_family(&cn);
            if plants.is_empty() {
                bail!(
                    "no bundled route model makes CN {cn}: routes are modelled for crude steel (7206, 7207), \
                     grey Portland cement (2523 29) and anhydrous ammonia (2814 10)"
                );
            }
            vec![(cn, plants)]
        }
        None => cb_planner::rules::ROUTE_FAMILIES
            .iter()
            .map(|(_, g, p)| (g.to_string(), *p))
            .collect(),
    };
    let tables = CbamTables::bundled();
    let mut rows = Vec::new();
    for (cn, plants) in families {
        let c = cost(
            tables,
            &CostQuery {
                country: country.to_string(),
                cn_code: cn.clone(),
                tonnes: 1.0,
                year,
                ..CostQuery::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let direct_only = direct_only(&c.cn_code);
        for plant in plants {
            let out: TaskOutput = cb_factory::agent::run_factory(&FactoryTask::Intensity {
                plant: plant.to_string(),
                hours: HOURS,
                country: Some(country.to_string()),
            })
            .map_err(|e| anyhow::anyhow!("{plant}: {}", e.message))?;
            let get = |m: &str| {
                out.quantities
                    .iter()
                    .find(|q| q.measure == m)
                    .map(|q| q.quantity.value)
                    .ok_or_else(|| anyhow::anyhow!("{plant}: no {m} in the plant's result"))
            };
            let (direct, indirect) = (
                get("emission_intensity_direct")?,
                get("emission_intensity_indirect")?,
            );
            let on_basis = if direct_only { direct } else { direct + indirect };
            let grid = out
                .quantities
                .iter()
                .find(|q| q.measure == "plant_grid_mean")
                .map(|q| {
                    format!(
                        "{} g CO2e/kWh ({} {})",
                        q.quantity.value, q.quantity.provenance.dataset, q.quantity.provenance.version
                    )
                })
                .unwrap_or_default();
            rows.push(RouteComparison {
                cn_code: c.cn_code.clone(),
                description: c.description.clone(),
                default_route_mark: c.route.clone(),
                default_route: cb_lca::cbam::route_mark_meaning(&c.route),
                same_route_as_default: !c.route.is_empty()
                    && cb_planner::rules::plant_route_mark(plant) == Some(c.route.trim()),
                default_with_mark_up_t_per_t: c.default_value_t_per_t,
                default_without_mark_up_t_per_t: c.default_direct_t_per_t + c.default_indirect_t_per_t,
                mark_up: c.mark_up,
                plant: plant.to_string(),
                modelled_direct_t_per_t: direct,
                modelled_indirect_t_per_t: indirect,
                basis: if direct_only {
                    "direct only (Annex II good)"
                } else {
                    "direct + indirect"
                },
                modelled_on_basis_t_per_t: on_basis,
                ratio: (on_basis > 0.0).then(|| c.default_value_t_per_t / on_basis),
                ratio_without_mark_up: (on_basis > 0.0)
                    .then(|| (c.default_direct_t_per_t + c.default_indirect_t_per_t) / on_basis),
                grid,
                other_countries_row: c.notes.iter().any(|n| n.key == "note_cbam_other_countries"),
            });
        }
    }
    Ok(rows)
}

pub fn run(a: CompareArgs, out: &mut dyn Write) -> Result<()> {
    let rows = compare(&a.country, a.cn_code.as_deref(), a.year)?;
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let grid = rows.first().map(|r| r.grid.as_str()).unwrap_or("");
    writeln!(
        out,
        "CBAM default values for {} in {} against the bundled route models, run steadily for {HOURS} h on the \
         synthetic hourly shape scaled to the country's grid ({grid}). A modelled route is not a verified \
         installation value; each ratio is on the basis CBAM counts for the good.",
        a.country, a.year
    )?;
    writeln!(
        out,
        "{:<9} {:<5} {:>9} {:>5} {:>9}  {:<21} {:>8} {:>8} {:<28} {:>7} {:>8}",
        "CN",
        "mark",
        "default",
        "m-up",
        "no m-up",
        "route model",
        "direct",
        "grid",
        "basis",
        "ratio",
        "no m-up"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:<9} {:<5} {:>9.4} {:>4}% {:>9.4}  {:<21} {:>8.4} {:>8.4} {:<28} {:>7} {:>8}",
            r.cn_code,
            match (r.default_route_mark.as_str(), r.same_route_as_default) {
                ("", _) => "–".to_string(),
                (m, true) => format!("{m}*"),
                (m, false) => m.to_string(),
            },
            r.default_with_mark_up_t_per_t,
            format!("{:.0}", r.mark_up * 100.0),
            r.default_without_mark_up_t_per_t,
            r.plant,
            r.modelled_direct_t_per_t,
            r.modelled_indirect_t_per_t,
            r.basis,
            r.ratio.map_or("–".to_string(), |v| format!("{v:.3}")),
            r.ratio_without_mark_up
                .map_or("–".to_string(), |v| format!("{v:.3}"))
        )?;
    }
    let marks: std::collections::BTreeMap<&str, Option<&str>> = rows
        .iter()
        .filter(|r| !r.default_route_mark.is_empty())
        .map(|r| (r.default_route_mark.as_str(), r.default_route))
        .collect();
    for (mark, meaning) in marks {
        writeln!(
            out,
            "Route mark {mark}: {}; * marks the route model of that route.",
            meaning.unwrap_or("a production route whose definition is not bundled")
        )?;
    }
    if rows.iter().any(|r| r.other_countries_row) {
        writeln!(
            out,
            "The Commission's table has no value of its own for this country for some of these goods: the row for \
             other countries and territories applies (IR 2025/2621 Annex I)."
        )?;
    }
    writeln!(
        out,
        "Defaults: IR (EU) 2025/2621 Annex I with the year's mark-up (m-up); t CO2e per t of good; mark: the \
         production route the default names. Routes: data/factory/plants (factors cited there; capacities and \
         prices illustrative)."
    )?;
    Ok(())
}
