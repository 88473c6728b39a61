//! `cbutler factory …`: plant simulation, optimal operation and abatement cost curves (the
//! factory agent's engines, called directly).

use std::io::Write;
use std::path::PathBuf;

use crate::bundled;
use crate::engine::macc;
use crate::engine::optimize::{Objective, optimize_against_baseline};
use crate::engine::simulate::{baseline_schedule, simulate};
use crate::profile::Profile;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use cb_protocol::format::format_quantity;

#[derive(Debug, Subcommand)]
pub enum FactoryCommand {
    /// Simulate the plant's steady baseline hour by hour: production, energy, direct and indirect
    /// emissions and cost, with the balances checked every hour.
    Simulate(SimArgs),
    /// The least-cost schedule (HiGHS LP/MILP) against the baseline, and the binding constraints.
    Optimize(OptArgs),
    /// The marginal abatement cost curve of a set of measures, and the least-cost set for a target.
    Macc(MaccArgs),
    /// List the bundled plants.
    Plants,
}

/// `cbutler grid`: the carbon intensity of a place's electricity from the bundled grid data.
#[derive(Debug, Args)]
pub struct GridArgs {
    /// A country (English name or ISO code: CN, CHN), an Ember region (EU, World) or an
    /// Electricity Maps zone (US-CAL-CISO).
    #[arg(long, alias = "country")]
    pub place: String,
    /// average (what consuming a kWh emits), operating-margin, combined-margin-intermittent or
    /// combined-margin-firm (the IFI harmonised factors for avoided emissions).
    #[arg(long, value_enum, default_value = "average")]
    pub factor: GridFactorArg,
    /// Data year (default: the latest the source has).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1990..=2100))]
    pub year: Option<i32>,
    /// ember, electricity-maps or ifi (default: Ember for a country's average, Electricity Maps
    /// for a zone or a year Ember lacks, IFI for margins).
    #[arg(long, value_enum)]
    pub source: Option<GridSourceArg>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GridFactorArg {
    Average,
    OperatingMargin,
    CombinedMarginIntermittent,
    CombinedMarginFirm,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GridSourceArg {
    Ember,
    ElectricityMaps,
    Ifi,
}

/// Runs `cbutler grid`: the factor asked with its year, source and basis, then every other factor
/// the bundled data has for the place.
pub fn run_grid(a: GridArgs, out: &mut dyn Write) -> Result<()> {
    use cb_grid::{GridFactor, GridSource};
    let factor = match a.factor {
        GridFactorArg::Average => GridFactor::Average,
        GridFactorArg::OperatingMargin => GridFactor::OperatingMargin,
        GridFactorArg::CombinedMarginIntermittent => GridFactor::CombinedMarginIntermittent,
        GridFactorArg::CombinedMarginFirm => GridFactor::CombinedMarginFirm,
    };
    let source = a.source.map(|s| match s {
        GridSourceArg::Ember => GridSource::Ember,
        GridSourceArg::ElectricityMaps => GridSource::ElectricityMaps,
        GridSourceArg::Ifi => GridSource::Ifi,
    });
    let output = crate::agent::grid_intensity(&a.place, factor, a.year, source)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&output)?)?;
        return Ok(());
    }
    for (i, q) in output.quantities.iter().enumerate() {
        if i == 1 {
            writeln!(out, "Other factors bundled for the same place:")?;
        }
        let indent = if i == 0 { "" } else { "  " };
        writeln!(
            out,
            "{indent}{}: {} {}",
            q.label, q.quantity.value, q.quantity.unit
        )?;
        if i == 0
            && let Some(c) = &q.quantity.provenance.citation
        {
            writeln!(out, "  source: {c}")?;
        }
    }
    for n in &output.notes {
        writeln!(out, "{n}")?;
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct PlantArgs {
    /// A bundled plant id (see `cbutler factory plants`) or a plant TOML file.
    #[arg(long)]
    pub plant: String,
    /// Hourly profile: a bundled one (`synthetic`, the default, price and grid intensity
    /// correlated at 0.98; `synthetic-decoupled`, 0.60; both SYNTHETIC) or a CSV file
    /// (hour,price_eur_per_mwh,grid_co2_t_per_mwh).
    #[arg(long)]
    pub profile: Option<String>,
    /// Hours to run (default: the whole profile; the bundled one has 8,760). A shorter profile
    /// repeats.
    #[arg(long)]
    pub hours: Option<usize>,
    /// The plant's country (name or ISO code): the profile's hourly grid intensity is scaled to
    /// the country's annual mean (Ember, lifecycle average; `cbutler grid --place`), its shape and
    /// prices kept. Without it the profile's own grid runs, and the output says so.
    #[arg(long)]
    pub country: Option<String>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    #[command(flatten)]
    pub plant: PlantArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OptArgs {
    #[command(flatten)]
    pub plant: PlantArgs,
    /// Carbon price, EUR per t CO2.
    #[arg(long, default_value_t = 0.0)]
    pub carbon_price: f64,
    /// Price only direct emissions, not the grid's: where the power price already carries the
    /// carbon cost (EU ETS pass-through), so it is not counted twice.
    #[arg(long)]
    pub direct_only: bool,
    /// Minimise emissions instead, with the operating cost at most this (EUR).
    #[arg(long)]
    pub cost_cap: Option<f64>,
    /// Monte Carlo draws of uncertain factors and prices through both schedules (held fixed):
    /// adds mean, sd and 2.5/50/97.5 percentiles of emissions, cost and the cut, and the drivers.
    #[arg(long, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub mc: Option<u32>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Lognormal GSD of every emission factor (fuels, process CO2, grid intensity); 1 holds them fixed.
    #[arg(long, default_value_t = 1.0)]
    pub factor_gsd: f64,
    /// Lognormal GSD of every price (fuels, purchases, electricity); 1 holds them fixed.
    #[arg(long, default_value_t = 1.0)]
    pub price_gsd: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MaccArgs {
    /// A bundled plant id with bundled measures, or use --measures.
    #[arg(long)]
    pub plant: Option<String>,
    /// Measures TOML file.
    #[arg(long)]
    pub measures: Option<String>,
    /// Reduction target, t CO2 per year.
    #[arg(long)]
    pub target_t: Option<f64>,
    /// Write the curve as SVG here.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// The plant, its profile over the hours asked (scaled to `--country`'s annual mean where one is
/// given) and a sentence saying which grid that is.
fn load_with_grid(args: &PlantArgs) -> Result<(crate::model::Plant, Profile, String)> {
    let plant = bundled::plant(&args.plant)?;
    let name = args.profile.as_deref().unwrap_or("synthetic");
    let profile = bundled::profile_named(name)?;
    let hours = args.hours.unwrap_or(profile.hours());
    if hours == 0 || hours > 100_000 {
        bail!("--hours must be between 1 and 100000, got {hours}");
    }
    let profile = profile.horizon(hours);
    let (profile, grid) = match &args.country {
        Some(c) => {
            let g = cb_grid::GridTables::bundled()
                .intensity(c, cb_grid::GridFactor::Average, None, None)
                .map_err(|e| anyhow::anyhow!("--country: {e}"))?;
            // The hours run average to the country's annual mean, their shape kept.
            let scaled = profile.scaled_to_mean(g.t_per_mwh())?;
            (
                scaled,
                format!(
                    "grid: the hourly shape of {name} with its intensity scaled to {}'s annual mean, {} g CO2e/kWh ({} {}, lifecycle average); prices are the profile's",
                    g.area,
                    g.g_per_kwh,
                    cb_grid::source_name(g.source),
                    g.year
                ),
            )
        }
        None => {
            let mean = profile.mean_grid_intensity() * 1000.0;
            let grid = format!(
                "grid: the profile {name} as it is (mean {mean:.0} g CO2/kWh over the hours run), no country's grid; --country scales it to a country's annual mean"
            );
            (profile, grid)
        }
    };
    Ok((plant, profile, grid))
}

fn progress_bar(hours: usize) -> Option<indicatif::ProgressBar> {
    (hours >= 2000).then(|| {
        let pb = indicatif::ProgressBar::new(hours as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} h")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        pb.set_message("simulating");
        pb
    })
}

pub fn run(command: FactoryCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        FactoryCommand::Plants => {
            for (id, _) in bundled::PLANTS {
                let p = bundled::plant(id)?;
                writeln!(
                    out,
                    "{id:22} {} ({} t/day of {})",
                    p.name, p.demand.t_per_day, p.demand.product
                )?;
            }
            Ok(())
        }
        FactoryCommand::Simulate(a) => {
            let (plant, profile, grid) = load_with_grid(&a.plant)?;
            let n = profile.hours();
            let pb = progress_bar(n);
            let run = simulate(&plant, &profile, &baseline_schedule(&plant, n), |done, _| {
                if let Some(pb) = &pb
                    && done % 500 == 0
                {
                    pb.set_position(done as u64);
                }
            })?;
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            if a.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "plant": plant.name, "hours": n, "grid": grid, "totals": run.totals,
                        "balances": "mass closed every hour; each store over the run against what was made, used and delivered", "series": run.hours,
                    }))?
                )?;
                return Ok(());
            }
            let t = &run.totals;
            writeln!(
                out,
                "{} over {n} h (steady baseline; mass balances checked every hour):",
                plant.name
            )?;
            writeln!(out, "  {grid}")?;
            writeln!(
                out,
                "  delivered {}",
                format_quantity(t.delivered_t, &format!("t {}", plant.demand.product))
            )?;
            writeln!(
                out,
                "  electricity {}, fuels {}",
                format_quantity(t.electricity_mwh, "MWh"),
                format_quantity(t.fuels_mwh, "MWh")
            )?;
            writeln!(
                out,
                "  emissions {} direct + {} indirect (grid){}",
                format_quantity(t.direct_co2_t, "t CO2"),
                format_quantity(t.indirect_co2_t, "t CO2"),
                if t.captured_co2_t > 0.0 {
                    format!(", {} captured", format_quantity(t.captured_co2_t, "t CO2"))
                } else {
                    String::new()
                }
            )?;
            writeln!(out, "  operating cost {}", format_quantity(t.cost_eur, "EUR"))?;
            Ok(())
        }
        FactoryCommand::Optimize(a) => {
            let (plant, profile, grid) = load_with_grid(&a.plant)?;
            let objective = match a.cost_cap {
                Some(cap) => Objective::MinEmissions { cost_cap_eur: cap },
                None => Objective::MinCost {
                    carbon_price: a.carbon_price,
                    price_indirect: !a.direct_only,
                },
            };
            let started = std::time::Instant::now();
            let (baseline, opt, kept) = optimize_against_baseline(&plant, &profile, objective)?;
            let solve_s = started.elapsed().as_secs_f64();
            let base = simulate(&plant, &profile, &baseline, |_, _| {})?;
            let best = simulate(&plant, &profile, &opt.schedule, |_, _| {})?;
            // The objective as the optimiser costed it: the carbon price on grid emissions only
            // where it is not already in the power price (`--direct-only`).
            let value = |run: &crate::engine::simulate::Run| match objective {
                Objective::MinCost {
                    carbon_price,
                    price_indirect,
                } => crate::agent::carbon_cost(run, carbon_price, price_indirect),
                Objective::MinEmissions { .. } => run.totals.emissions_t,
            };

            let uncertainty = match a.mc {
                Some(iterations) => {
                    if a.factor_gsd == 1.0 && a.price_gsd == 1.0 {
                        bail!(
                            "--mc needs an uncertainty: the plant's factors and prices carry no ranges. Give \
                             --factor-gsd G and/or --price-gsd G (lognormal GSDs > 1)"
                        );
                    }
                    let mc = cb_protocol::PlantMonteCarlo {
                        iterations,
                        seed: a.seed,
                        factor_gsd: a.factor_gsd,
                        price_gsd: a.price_gsd,
                    };
                    let c = crate::uncertainty::compare_schedules(
                        &plant,
                        &profile,
                        &baseline,
                        &opt.schedule,
                        &mc,
                    )?;
                    let pick = |s: &cb_uncertainty::engine::stats::Summary| json!({"mean": s.mean, "sd": s.sd, "p2_5": s.p2_5, "p50": s.p50, "p97_5": s.p97_5});
                    Some(json!({
                        "iterations": iterations, "seed": a.seed,
                        "factor_gsd": a.factor_gsd, "price_gsd": a.price_gsd,
                        "method": "lognormal multipliers (geometric mean 1) on every emission factor and price, \
                                   Latin hypercube; both schedules held fixed and simulated on the same draws",
                        "baseline": {"emissions_t": pick(&c.baseline.summaries[0]), "cost_eur": pick(&c.baseline.summaries[1])},
                        "optimized": {"emissions_t": pick(&c.optimized.summaries[0]), "cost_eur": pick(&c.optimized.summaries[1])},
                        "emissions_cut_t": pick(&c.emissions_cut),
                        "drivers": c.emission_drivers.iter().map(|(n, r)| json!({"input": n, "spearman": r})).collect::<Vec<_>>(),
                    }))
                }
                None => None,
            };
            if a.json {
                let schedule: serde_json::Map<String, serde_json::Value> = plant
                    .units
                    .iter()
                    .zip(&opt.schedule)
                    .map(|(u, s)| (u.name.clone(), json!(s)))
                    .collect();
                let doc = json!({
                    "plant": plant.name,
                    "hours": profile.hours(),
                    "grid": grid,
                    "objective": objective,
                    "baseline": {"emissions_t": base.totals.emissions_t, "cost_eur": base.totals.cost_eur,
                                  "direct_co2_t": base.totals.direct_co2_t, "indirect_co2_t": base.totals.indirect_co2_t,
                                  "objective": value(&base)},
                    "optimized": {"emissions_t": best.totals.emissions_t, "cost_eur": best.totals.cost_eur,
                                   "direct_co2_t": best.totals.direct_co2_t, "indirect_co2_t": best.totals.indirect_co2_t,
                                   "objective": value(&best)},
                    "schedule": schedule,
                    "binding_constraints": opt.binding,
                    "solver": opt.solver,
                    "solve_seconds": solve_s,
                    "baseline_kept": kept,
                    "monte_carlo": uncertainty,
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
                return Ok(());
            }
            writeln!(out, "{} over {} h, {:?}:", plant.name, profile.hours(), objective)?;
            writeln!(out, "  {grid}")?;
            for (case, r) in [("baseline ", &base), ("optimized", &best)] {
                writeln!(
                    out,
                    "  {case}: emissions {}, operating cost {}",
                    format_quantity(r.totals.emissions_t, "t CO2"),
                    format_quantity(r.totals.cost_eur, "EUR")
                )?;
            }
            writeln!(
                out,
                "  solver: HiGHS, {} columns ({} integer), {} rows, {:.2} s",
                opt.solver.columns, opt.solver.integer_columns, opt.solver.rows, solve_s
            )?;
            for b in &opt.binding {
                writeln!(
                    out,
                    "  binding: {} of {} in {} h",
                    b.constraint, b.subject, b.hours
                )?;
            }
            if kept {
                writeln!(
                    out,
                    "  (the solver's schedule was no better than the baseline: the baseline is kept)"
                )?;
            }
            if let Some(u) = &uncertainty {
                let interval = |v: &serde_json::Value, unit: &str| {
                    format!(
                        "{} to {}",
                        format_quantity(v["p2_5"].as_f64().unwrap_or(f64::NAN), unit),
                        format_quantity(v["p97_5"].as_f64().unwrap_or(f64::NAN), unit)
                    )
                };
                writeln!(
                    out,
                    "  Monte Carlo ({} draws; factors GSD {}, prices GSD {}), 95 % intervals:",
                    u["iterations"], u["factor_gsd"], u["price_gsd"]
                )?;
                for case in ["baseline", "optimized"] {
                    writeln!(
                        out,
                        "    {case}: emissions {}, cost {}",
                        interval(&u[case]["emissions_t"], "t CO2"),
                        interval(&u[case]["cost_eur"], "EUR")
                    )?;
                }
                writeln!(
                    out,
                    "    emissions cut: {}",
                    interval(&u["emissions_cut_t"], "t CO2")
                )?;
                let drivers: Vec<String> = u["drivers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(5)
                    .map(|d| {
                        format!(
                            "{} ({:+.2})",
                            d["input"].as_str().unwrap_or(""),
                            d["spearman"].as_f64().unwrap_or(0.0)
                        )
                    })
                    .collect();
                writeln!(
                    out,
                    "    drivers of the optimised emissions (Spearman): {}",
                    drivers.join(", ")
                )?;
            }
            Ok(())
        }
        FactoryCommand::Macc(a) => {
            let source = match (&a.measures, &a.plant) {
                (Some(m), _) => m.clone(),
                (None, Some(p)) => p.clone(),
                (None, None) => bail!("give --plant (with bundled measures) or --measures FILE"),
            };
            let m = bundled::measures(&source)?;
            let curve = m.curve();
            let selection = a.target_t.map(|t| m.least_cost_set(t)).transpose()?;
            let svg = macc::curve_svg(&curve, "Marginal abatement cost curve")?;
            if let Some(path) = &a.svg {
                let tmp = path.with_extension("svg.tmp");
                std::fs::write(&tmp, &svg).with_context(|| format!("cannot write {}", tmp.display()))?;
                std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
            }
            if a.json {
                let doc = json!({
                    "discount_rate": m.discount_rate,
                    "curve": curve,
                    "series": {"x_from_t": curve.iter().map(|p| p.from_t).collect::<Vec<_>>(),
                               "x_to_t": curve.iter().map(|p| p.to_t).collect::<Vec<_>>(),
                               "cost_eur_per_t": curve.iter().map(|p| p.cost_eur_per_t).collect::<Vec<_>>()},
                    "selection": selection,
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
                return Ok(());
            }
            writeln!(
                out,
                "Marginal abatement cost curve (discount rate {}):",
                m.discount_rate
            )?;
            for p in &curve {
                writeln!(
                    out,
                    "  {:28} {:>10.1} EUR/t  {:>10.0} t/yr  (cumulative {:.0})",
                    p.name, p.cost_eur_per_t, p.abatement_t_per_yr, p.to_t
                )?;
            }
            if let Some(s) = selection {
                writeln!(
                    out,
                    "Least-cost set for {:.0} t/yr: {} — {:.0} t/yr for {}/yr",
                    s.target_t_per_yr,
                    s.chosen.join(", "),
                    s.abatement_t_per_yr,
                    format_quantity(s.annualised_cost_eur_per_yr, "EUR")
                )?;
            }
            Ok(())
        }
    }
}
