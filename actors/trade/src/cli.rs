//! `cbutler mrio …`: multi-regional input-output analysis on an MRIO file — regional accounts,
//! bilateral transfers, structural paths. Only argument parsing and printing; the maths is in
//! [`crate::engine`] through [`crate::analysis`].

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cb_agent_runtime::cli::{print_findings, spinner};
use cb_protocol::format::format_quantity;
use cb_uncertainty::cli::McArgs;
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::analysis::MrioAnalysis;
use crate::engine::PathSearch;

#[derive(Debug, Args)]
pub struct MrioArg {
    /// The MRIO: a pymrio save (folder or zip), an EXIOBASE 3 zip, or a WIOD-style folder.
    #[arg(long)]
    pub mrio: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum MrioCommand {
    /// Consumption-, production-, import- and export-based accounts of every region
    /// (D_cba_reg, D_pba_reg, D_imp_reg, D_exp_reg) for every stressor.
    Accounts {
        #[command(flatten)]
        mrio: MrioArg,
        /// Only this stressor (first level of the extension row label).
        #[arg(long)]
        stressor: Option<String>,
        /// Year the MRIO describes, for the comparison with the Global Carbon Budget (read from
        /// the MRIO's name or version when absent).
        #[arg(long, value_parser = clap::value_parser!(i32).range(1950..=2100))]
        year: Option<i32>,
        #[command(flatten)]
        mc: McArgs,
        #[arg(long)]
        json: bool,
    },
    /// Emissions embodied in bilateral trade (producing × consuming region) and net transfers.
    Transfers {
        #[command(flatten)]
        mrio: MrioArg,
        #[arg(long)]
        stressor: String,
        #[arg(long)]
        json: bool,
    },
    /// Structural path analysis: the largest supply-chain paths behind a region's final demand
    /// for one sector's products.
    Paths {
        #[command(flatten)]
        mrio: MrioArg,
        #[arg(long)]
        stressor: String,
        /// Consuming region.
        #[arg(long)]
        region: String,
        /// Product (sector) of final demand.
        #[arg(long)]
        sector: String,
        /// Longest path in supply steps.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=12))]
        depth: u32,
        /// How many paths to show.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
        top: u32,
        /// Prune subtrees below this share of the total.
        #[arg(long, default_value_t = 1e-4)]
        threshold: f64,
        #[arg(long)]
        json: bool,
    },
}

fn load_analysis(path: &Path) -> Result<MrioAnalysis> {
    let pb = spinner(&format!("loading {}", path.display()));
    let mrio =
        crate::data::load_mrio(path).with_context(|| format!("cannot load the MRIO {}", path.display()))?;
    let analysis = MrioAnalysis::new(mrio, &mut |step| pb.set_message(step.to_string()))?;
    pb.finish_and_clear();
    Ok(analysis)
}

fn region_map(regions: &[String], m: &faer::Mat<f64>, k: usize) -> Value {
    let mut map = Map::new();
    for (r, name) in regions.iter().enumerate() {
        map.insert(name.clone(), json!(m[(k, r)]));
    }
    Value::Object(map)
}

/// Runs `cbutler mrio …`, writing results to `out`.
pub fn run(command: MrioCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        MrioCommand::Accounts {
            mrio,
            stressor,
            year,
            mc,
            json,
        } => {
            let a = load_analysis(&mrio.mrio)?;
            let pb = spinner("computing accounts");
            let acc = a.regional_accounts()?;
            let checked = crate::agent::mrio_accounts(&a, stressor.as_deref(), &[])?;
            pb.finish_and_clear();
            let ks: Vec<usize> = match &stressor {
                Some(s) => vec![a.stressor_index(s)?],
                None => (0..a.stressors.len()).collect(),
            };
            let mut checked = checked;
            crate::agent::gcb_consumption_check(
                &a,
                &acc,
                &ks,
                year,
                crate::data::gcb::Gcb::bundled(),
                &mut checked,
            );
            let uncertainty = match mc.mc {
                Some(n) => {
                    if !(2..=100_000).contains(&n) {
                        bail!("--mc must be between 2 and 100000, got {n}");
                    }
                    let (gsd, rule) = mc.gsd()?;
                    let raw = crate::data::load_mrio(&mrio.mrio)
                        .with_context(|| format!("cannot load the MRIO {}", mrio.mrio.display()))?;
                    let pb = spinner(&format!("Monte Carlo: {n} perturbed MRIOs"));
                    let draws =
                        crate::uncertainty::monte_carlo_regional_accounts(&raw, gsd, mc.draws(n)?, mc.seed)?;
                    pb.finish_and_clear();
                    let mut by_stressor = Map::new();
                    for &k in &ks {
                        let mut accounts = Map::new();
                        for (name, pick) in [
                            ("D_cba_reg", 0usize),
                            ("D_pba_reg", 1),
                            ("D_imp_reg", 2),
                            ("D_exp_reg", 3),
                        ] {
                            let mut regions = Map::new();
                            for (r, region) in a.meta.regions.iter().enumerate() {
                                let vals: Vec<f64> = draws
                                    .iter()
                                    .map(|d| {
                                        [&d.d_cba_reg, &d.d_pba_reg, &d.d_imp_reg, &d.d_exp_reg][pick][(k, r)]
                                    })
                                    .collect();
                                let s = cb_uncertainty::engine::stats::summary(&vals);
                                regions.insert(
                                    region.clone(),
                                    json!({"mean": s.mean, "sd": s.sd, "p2_5": s.p2_5, "p50": s.p50, "p97_5": s.p97_5}),
                                );
                            }
                            accounts.insert(name.into(), Value::Object(regions));
                        }
                        by_stressor.insert(a.stressors[k].name.clone(), Value::Object(accounts));
                    }
                    Some(json!({
                        "iterations": draws.len(), "max_iterations": n, "precision": mc.precision, "seed": mc.seed, "gsd": gsd, "uncertainty_rule": rule,
                        "method": "lognormal multipliers (geometric mean 1) on every nonzero entry of Z (or A), Y, F and F_Y; \
                                   x recomputed; accounts recomputed per draw",
                        "accounts": by_stressor,
                    }))
                }
                None => None,
            };
            if json {
                let mut accounts = Map::new();
                for &k in &ks {
                    let r = &a.meta.regions;
                    accounts.insert(
                        a.stressors[k].name.clone(),
                        json!({
                            "D_cba_reg": region_map(r, &acc.d_cba_reg, k),
                            "D_pba_reg": region_map(r, &acc.d_pba_reg, k),
                            "D_imp_reg": region_map(r, &acc.d_imp_reg, k),
                            "D_exp_reg": region_map(r, &acc.d_exp_reg, k),
                            "unit": a.stressors[k].unit,
                            "label": a.stressors[k].label,
                            "extension": a.stressors[k].extension,
                        }),
                    );
                }
                let mut doc = json!({
                    "mrio": {"name": a.meta.name, "version": a.meta.version, "source": a.meta.source},
                    "accounts": accounts,
                    "findings": checked.findings,
                    "notes": checked.notes,
                });
                if let (Some(u), Some(map)) = (uncertainty, doc.as_object_mut()) {
                    map.insert("monte_carlo".into(), u);
                }
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                if let Some(u) = &uncertainty {
                    writeln!(
                        out,
                        "Monte Carlo: {} perturbed MRIOs (GSD {}); mean, sd and 2.5/50/97.5 percentiles of every account are in --json",
                        u["iterations"], u["gsd"]
                    )?;
                }
                writeln!(out, "{} ({}): regional accounts", a.meta.name, a.meta.version)?;
                for &k in &ks {
                    let st = &a.stressors[k];
                    writeln!(out, "\n{} [{}]", st.label, st.unit)?;
                    writeln!(
                        out,
                        "{:<16} {:>16} {:>16} {:>16} {:>16}",
                        "region", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"
                    )?;
                    for (r, name) in a.meta.regions.iter().enumerate() {
                        writeln!(
                            out,
                            "{:<16} {:>16.6e} {:>16.6e} {:>16.6e} {:>16.6e}",
                            name,
                            acc.d_cba_reg[(k, r)],
                            acc.d_pba_reg[(k, r)],
                            acc.d_imp_reg[(k, r)],
                            acc.d_exp_reg[(k, r)]
                        )?;
                    }
                }
                for n in &checked.notes {
                    writeln!(out, "\n{n}")?;
                }
                print_findings(&checked.findings, out)?;
            }
            Ok(())
        }
        MrioCommand::Transfers { mrio, stressor, json } => {
            let a = load_analysis(&mrio.mrio)?;
            let k = a.stressor_index(&stressor)?;
            let e = a.embodied_trade(k);
            let net = crate::engine::calc_net_transfers(e.as_ref());
            let regions = &a.meta.regions;
            let unit = &a.stressors[k].unit;
            if json {
                let mut matrix = Map::new();
                for (p, from) in regions.iter().enumerate() {
                    let mut row = Map::new();
                    for (r, to) in regions.iter().enumerate() {
                        row.insert(to.clone(), json!(e[(p, r)]));
                    }
                    matrix.insert(from.clone(), Value::Object(row));
                }
                let net_map: Map<String, Value> = regions
                    .iter()
                    .cloned()
                    .zip(net.iter().map(|v| json!(v)))
                    .collect();
                let doc = json!({
                    "stressor": a.stressors[k].name,
                    "unit": unit,
                    "embodied_in_trade": matrix,
                    "embodied_in_trade_description": "rows: producing region, columns: consuming region; the diagonal is domestic",
                    "net_transfers": net_map,
                    "net_transfers_description": "imports − exports of embodied emissions; positive: net importer",
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                writeln!(
                    out,
                    "{} embodied in trade [{unit}] (rows produce, columns consume)",
                    a.stressors[k].label
                )?;
                write!(out, "{:<12}", "")?;
                for r in regions {
                    write!(out, " {r:>12}")?;
                }
                writeln!(out)?;
                for (p, from) in regions.iter().enumerate() {
                    write!(out, "{from:<12}")?;
                    for r in 0..regions.len() {
                        write!(out, " {:>12.4e}", e[(p, r)])?;
                    }
                    writeln!(out)?;
                }
                writeln!(
                    out,
                    "\nNet transfers (imports − exports; positive = net importer):"
                )?;
                for (r, name) in regions.iter().enumerate() {
                    writeln!(out, "  {name:<12} {}", format_quantity(net[r], unit))?;
                }
            }
            Ok(())
        }
        MrioCommand::Paths {
            mrio,
            stressor,
            region,
            sector,
            depth,
            top,
            threshold,
            json,
        } => {
            if !(0.0..=1.0).contains(&threshold) {
                bail!("--threshold must be between 0 and 1, got {threshold}");
            }
            let a = load_analysis(&mrio.mrio)?;
            let output = crate::agent::supply_chain_paths(
                &a,
                &stressor,
                &region,
                &sector,
                PathSearch {
                    depth: depth as usize,
                    top: top as usize,
                    threshold,
                    max_visits: 2_000_000,
                },
            )?;
            if json {
                let paths: Vec<Value> = output
                    .quantities
                    .iter()
                    .filter(|q| q.measure == "path")
                    .map(|q| {
                        json!({
                            "rank": q.dimensions.get("rank").and_then(|r| r.parse::<u32>().ok()),
                            "depth": q.dimensions.get("depth").and_then(|r| r.parse::<u32>().ok()),
                            "path": q.quantity.provenance.parameters.get("path"),
                            "value": q.quantity.value,
                            "unit": q.quantity.unit,
                        })
                    })
                    .collect();
                let total = output
                    .quantities
                    .iter()
                    .find(|q| q.measure == "footprint")
                    .map(|q| q.quantity.value);
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"total": total, "paths": paths, "notes": output.notes})
                    )?
                )?;
            } else {
                for q in &output.quantities {
                    writeln!(
                        out,
                        "{}: {}",
                        q.label,
                        format_quantity(q.quantity.value, &q.quantity.unit)
                    )?;
                }
                for n in &output.notes {
                    writeln!(out, "{n}")?;
                }
            }
            Ok(())
        }
    }
}

/// `cbutler avoided`: what exported solar and wind equipment avoids over its lifetime where it is
/// installed, against what making, shipping and running it emits.
#[derive(Debug, Args)]
pub struct AvoidedArgs {
    /// The exporting country (its grid's average intensity is charged on the manufacturing
    /// electricity).
    #[arg(long)]
    pub exporter: String,
    /// The technologies' parameters (TOML, `[technology.solar-pv]` etc., each with its `source`);
    /// the file gives every number (the defaults of data/avoided/defaults.toml serve `ask` only).
    #[arg(long)]
    pub parameters: PathBuf,
    /// Exports by destination: CSV `destination,technology,mw`. Or one shipment with
    /// --destination, --technology and --mw.
    #[arg(long, conflicts_with_all = ["destination", "technology", "mw"])]
    pub exports: Option<PathBuf>,
    #[arg(long, requires_all = ["technology", "mw"])]
    pub destination: Option<String>,
    /// solar-pv, wind-onshore or wind-offshore.
    #[arg(long)]
    pub technology: Option<String>,
    #[arg(long)]
    pub mw: Option<f64>,
    /// The destination's margin: combined-margin-intermittent (the IFI factor for solar and wind,
    /// the default) or operating-margin.
    #[arg(long, default_value = "combined-margin-intermittent")]
    pub margin: String,
    /// Relative uncertainty of the destination's margin (0.2 = ±20 %, triangular), for the
    /// interval with the parameters' ranges.
    #[arg(long)]
    pub margin_uncertainty: Option<f64>,
    /// Draws for the interval (Latin hypercube), where anything is uncertain.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(100..=100_000))]
    pub draws: u32,
    #[arg(long)]
    pub json: bool,
}

/// At most this many bytes of a parameters or exports file.
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

fn read_bounded(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_INPUT_BYTES {
        bail!(
            "{} is larger than {} MiB",
            path.display(),
            MAX_INPUT_BYTES / 1024 / 1024
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn run_avoided(a: AvoidedArgs, out: &mut dyn Write) -> Result<()> {
    use crate::avoided::{Export, account, parse_exports, parse_parameters};
    let margin = match a.margin.as_str() {
        "combined-margin-intermittent" => cb_grid::GridFactor::CombinedMarginIntermittent,
        "operating-margin" => cb_grid::GridFactor::OperatingMargin,
        other => bail!("--margin {other:?}: use combined-margin-intermittent or operating-margin"),
    };
    let parameters = parse_parameters(&read_bounded(&a.parameters)?, &a.parameters.display().to_string())?;
    let exports = match (&a.exports, &a.destination, &a.technology, a.mw) {
        (Some(path), _, _, _) => parse_exports(&read_bounded(path)?, &path.display().to_string())?,
        (None, Some(d), Some(t), Some(mw)) => {
            let csv = format!(
                "destination,technology,mw\n\"{}\",\"{}\",{mw}\n",
                d.replace('"', ""),
                t.replace('"', "")
            );
            let e: Vec<Export> = parse_exports(&csv, "the command line")?;
            e
        }
        _ => bail!("give --exports FILE, or --destination, --technology and --mw"),
    };
    let rows = account(&a.exporter, &exports, &parameters, margin)?;
    let spread = crate::avoided::interval(&rows, &parameters, a.margin_uncertainty, a.draws as usize, 1)?;
    if a.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({
                "method": "avoided = lifetime generation (MW × capacity factor × 8,760 h × (1 − degradation)^year, summed) × the destination's IFI margin; life-cycle = MW × (manufacturing MWh × the exporter's grid average + other embodied + transport) + generation × operation",
                "rows": rows,
                "total_avoided_t": rows.iter().map(|r| r.avoided_t).sum::<f64>(),
                "total_life_cycle_t": rows.iter().map(|r| r.life_cycle_t).sum::<f64>(),
                "interval": spread,
            }))?
        )?;
        return Ok(());
    }
    for r in &rows {
        writeln!(
            out,
            "{} MW of {} from {} to {}: {} generated over the lifetime; avoided {} at the {} ({} g CO2/kWh, {} {}); life-cycle {} (manufacturing electricity at {} g CO2e/kWh, {} {}); avoided ÷ life-cycle {}",
            r.mw,
            r.technology,
            r.exporter_grid.area,
            r.destination,
            format_quantity(r.lifetime_generation_mwh, "MWh"),
            format_quantity(r.avoided_t, "t CO2"),
            cb_grid::factor_name(r.margin.factor),
            r.margin.g_per_kwh,
            cb_grid::source_name(r.margin.source),
            r.margin.year,
            format_quantity(r.life_cycle_t, "t CO2e"),
            r.exporter_grid.g_per_kwh,
            cb_grid::source_name(r.exporter_grid.source),
            r.exporter_grid.year,
            r.ratio.map_or("–".to_string(), |v| format!("{v:.1}"))
        )?;
    }
    let (avoided, life): (f64, f64) = rows
        .iter()
        .fold((0.0, 0.0), |(a, l), r| (a + r.avoided_t, l + r.life_cycle_t));
    writeln!(
        out,
        "Total: avoided {}, life-cycle {}, ratio {:.1}. Method: the IFI harmonised approach (generation × the grid's margin) set against the equipment's own footprint, as WBCSD's avoided-emissions guidance asks; the technology parameters are yours: {}.",
        format_quantity(avoided, "t CO2"),
        format_quantity(life, "t CO2e"),
        if life > 0.0 { avoided / life } else { f64::INFINITY },
        rows.iter()
            .map(|r| format!("{}: {}", r.technology, r.parameters_source))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join("; ")
    )?;
    match &spread {
        Some(i) => writeln!(
            out,
            "95 % interval ({} draws over {}): avoided {} to {}, life-cycle {} to {}, ratio {:.1} to {:.1}.",
            i.iterations,
            i.inputs.join(", "),
            format_quantity(i.avoided_t.p2_5, "t CO2"),
            format_quantity(i.avoided_t.p97_5, "t CO2"),
            format_quantity(i.life_cycle_t.p2_5, "t CO2e"),
            format_quantity(i.life_cycle_t.p97_5, "t CO2e"),
            i.ratio.p2_5,
            i.ratio.p97_5
        )?,
        None => writeln!(
            out,
            "No interval: the parameters carry no ranges (capacity_factor_range, lifetime_years_range, \
             degradation_range) and --margin-uncertainty is not given."
        )?,
    }
    Ok(())
}
