//! `cbutler lca …` and `cbutler cbam …`: footprints on a life-cycle inventory database and the
//! EU CBAM cost of an import. Only argument parsing and printing; the maths is in
//! [`crate::engine`], [`crate::assessment`] and [`crate::cbam`].

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use cb_agent_runtime::cli::{print_findings, spinner};
use cb_protocol::format::format_quantity;
use cb_uncertainty::cli::McArgs;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum CbamCommand {
    /// Embedded emissions, free-allocation adjustment, certificates and cost of an import, on the
    /// Commission's default values and, with --actual-direct, on actual emissions (and the saving).
    Cost(CostArgs),
}

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Country of origin: English name or ISO code (CN, CHN, China).
    #[arg(long)]
    country: String,
    /// CN code of the good (e.g. 7208 or 72082700).
    #[arg(long = "cn-code")]
    cn_code: String,
    /// Which of the goods sharing the code: grey or white, or the route (A) or (B) (cement
    /// clinker 2523 10 00, hydraulic cements 2523 90 00).
    #[arg(long)]
    variant: Option<String>,
    /// Quarter of import (1–4): selects the Commission's published certificate price for 2026.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
    quarter: Option<u8>,
    /// Tonnes imported.
    #[arg(long)]
    tonnes: f64,
    /// Year of import (2026 onwards).
    #[arg(long)]
    year: i32,
    /// Actual (verified) direct specific embedded emissions, t CO2e per t.
    #[arg(long)]
    actual_direct: Option<f64>,
    /// Actual indirect specific embedded emissions, t CO2e per t.
    #[arg(long)]
    actual_indirect: Option<f64>,
    /// CBAM certificate price, EUR per t CO2e; overrides the published price of the quarter.
    #[arg(long)]
    ets_price: Option<f64>,
    /// Carbon price effectively paid in the country of origin, EUR per t CO2e.
    #[arg(long)]
    origin_carbon_price: Option<f64>,
    /// Cross-sectoral correction factor of the year (1 when not given).
    #[arg(long)]
    cscf: Option<f64>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct LcaDb {
    /// A life-cycle inventory database: openLCA JSON-LD (a folder, .zip or .tar.gz) or
    /// EcoSpold2 (a .zip or folder of .spold files).
    #[arg(long)]
    pub db: PathBuf,
    /// How to import processes with several product outputs: refuse (strict), or use their
    /// physical allocation factor where given and put all burdens on the reference product
    /// otherwise (allocate). Every decision is listed in the result.
    #[arg(long, value_enum, default_value_t = MultiOutputArg::Strict)]
    pub multi_output: MultiOutputArg,
    /// Provider for a product with several producers: "PRODUCT=PROCESS" (repeatable).
    #[arg(long = "provider", value_name = "PRODUCT=PROCESS")]
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MultiOutputArg {
    Strict,
    Allocate,
}

#[derive(Debug, Subcommand)]
pub enum LcaCommand {
    /// The carbon footprint of a product: score, contributions, unmatched flows, supply chain and
    /// the ISO 14044 phases.
    Footprint {
        #[command(flatten)]
        db: LcaDb,
        /// A process name or product flow name.
        #[arg(long)]
        product: String,
        /// Amount in the product's reference unit.
        #[arg(long, default_value_t = 1.0)]
        amount: f64,
        /// Impact method (bundled: ipcc-ar6-gwp100, ipcc-ar6-gwp20).
        #[arg(long, default_value = "ipcc-ar6-gwp100")]
        method: String,
        /// Depth of the supply-chain tree.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=20))]
        depth: u32,
        /// Leave out supply-chain branches below this share of the score.
        #[arg(long, default_value_t = 0.01)]
        cutoff: f64,
        /// Assign a process to a life-cycle stage: "PROCESS=raw_materials|manufacturing|transport|use|end_of_life"
        /// (repeatable); other processes get a stage by keyword.
        #[arg(long = "stage", value_name = "PROCESS=STAGE")]
        stages: Vec<String>,
        #[command(flatten)]
        mc: McArgs,
        /// Compare with the EEIO multiplier of the product group: "REGION:SECTOR:PRICE" — a USEEIO
        /// exporting region (APAC, CA, CN, EU, JP, MX, ROW), a BEA detail sector (e.g. 331110) and
        /// the price of one reference unit in USD (2019, basic prices).
        #[arg(long, value_name = "REGION:SECTOR:PRICE")]
        compare_eeio: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List what can be footprinted.
    Processes {
        #[command(flatten)]
        db: LcaDb,
        /// Only processes whose name or product contains this text.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// `--compare-eeio REGION:SECTOR:PRICE`.
fn parse_eeio(text: &str) -> Result<cb_protocol::EeioComparison> {
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    let [region, sector, price] = parts.as_slice() else {
        bail!("--compare-eeio {text:?}: write it as REGION:SECTOR:PRICE, e.g. CN:331110:0.8");
    };
    let price: f64 = price
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite() && *p > 0.0)
        .with_context(|| {
            format!("--compare-eeio {text:?}: the price {price:?} must be a positive number (USD per unit)")
        })?;
    Ok(cb_protocol::EeioComparison {
        region: region.to_string(),
        sector: sector.to_string(),
        price_usd_per_unit: price,
    })
}

fn load_lca(args: &LcaDb) -> Result<crate::assessment::Model> {
    let mut options = crate::data::ImportOptions {
        multi_output: match args.multi_output {
            MultiOutputArg::Strict => crate::data::MultiOutput::Error,
            MultiOutputArg::Allocate => crate::data::MultiOutput::AllocateOrReference,
        },
        ..Default::default()
    };
    for p in &args.providers {
        let (product, process) = p
            .split_once('=')
            .with_context(|| format!("--provider {p:?}: write it as \"PRODUCT=PROCESS\""))?;
        options
            .providers
            .insert(product.trim().to_string(), process.trim().to_string());
    }
    let pb = spinner(&format!("importing {}", args.db.display()));
    let db = crate::data::load(&args.db, &options)
        .with_context(|| format!("cannot import {}", args.db.display()))?;
    pb.set_message("factorising the technosphere");
    let model = crate::assessment::Model::new(db)?;
    pb.finish_and_clear();
    Ok(model)
}

/// Runs `cbutler lca …`, writing results to `out`.
pub fn run(command: LcaCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        LcaCommand::Footprint {
            db,
            product,
            amount,
            method,
            depth,
            cutoff,
            stages,
            mc,
            compare_eeio,
            json,
        } => {
            let eeio = compare_eeio.as_deref().map(parse_eeio).transpose()?;
            let mut assigned = std::collections::HashMap::new();
            for s in &stages {
                let (process, stage) = s
                    .rsplit_once('=')
                    .with_context(|| format!("--stage {s:?}: write it as \"PROCESS=STAGE\""))?;
                let stage = crate::assessment::Stage::parse(stage).with_context(|| {
                    format!("--stage {s:?}: unknown stage {stage:?} (raw_materials, manufacturing, transport, use, end_of_life)")
                })?;
                assigned.insert(process.trim().to_string(), stage);
            }
            let method = crate::method::ImpactMethod::by_id(&method).with_context(|| {
                format!(
                    "unknown impact method {method:?}; bundled: {}",
                    crate::method::ImpactMethod::IDS.join(", ")
                )
            })?;
            if !amount.is_finite() {
                bail!("--amount must be a finite number, got {amount}");
            }
            if !(0.0..=1.0).contains(&cutoff) {
                bail!("--cutoff must be between 0 and 1, got {cutoff}");
            }
            let model = load_lca(&db)?;
            let j = model.find(&product)?;
            let fp = model.footprint(j, amount, method, depth as usize, cutoff)?;
            let mut report = crate::report::footprint_json(&model, &fp, depth as usize, cutoff, &assigned);
            let monte_carlo = match mc.mc {
                Some(n) => {
                    if !(2..=1_000_000).contains(&n) {
                        bail!("--mc must be between 2 and 1000000, got {n}");
                    }
                    let (gsd, rule) = mc.gsd()?;
                    let r = model.monte_carlo(j, amount, method, gsd, mc.draws(n)?, mc.seed)?;
                    let doc = json!({
                        "iterations": r.iterations, "converged": r.converged, "precision": mc.precision,
                        "seed": r.seed, "gsd": r.gsd, "uncertainty_rule": rule,
                        "mean": r.summary.mean, "sd": r.summary.sd, "standard_error": r.summary.standard_error,
                        "p2_5": r.summary.p2_5, "p50": r.summary.p50, "p97_5": r.summary.p97_5,
                        "refactorised": r.refactorised,
                        "method": "lognormal multipliers (geometric mean 1) on every technosphere input and biosphere exchange; \
                                   perturbed system solved by iteration preconditioned with the base LU, refactorised where it does not converge",
                    });
                    if let Some(map) = report.as_object_mut() {
                        map.insert("monte_carlo".into(), doc.clone());
                    }
                    Some(doc)
                }
                None => None,
            };
            let findings = match &eeio {
                Some(c) => vec![crate::agent::eeio_finding(fp.score / amount, method, c)?],
                None => Vec::new(),
            };
            if let Some(map) = report.as_object_mut() {
                map.insert("findings".into(), serde_json::to_value(&findings)?);
            }
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
                return Ok(());
            }
            if let Some(m) = &monte_carlo {
                writeln!(
                    out,
                    "Monte Carlo ({} iterations, GSD {:.3}): mean {:.6}, sd {:.6}, 95 % interval {:.6} – {:.6} {}",
                    m["iterations"],
                    m["gsd"].as_f64().unwrap_or(f64::NAN),
                    m["mean"].as_f64().unwrap_or(f64::NAN),
                    m["sd"].as_f64().unwrap_or(f64::NAN),
                    m["p2_5"].as_f64().unwrap_or(f64::NAN),
                    m["p97_5"].as_f64().unwrap_or(f64::NAN),
                    fp.unit
                )?;
            }
            let a = &model.db.activities[j];
            writeln!(
                out,
                "{} {} of {} ({}): {} ({})",
                amount,
                a.unit,
                a.product_name,
                a.name,
                format_quantity(fp.score, &fp.unit),
                method.name
            )?;
            writeln!(out, "\nLargest contributions by process:")?;
            for (k, v) in fp.by_process.iter().take(10) {
                let share = if fp.score != 0.0 {
                    v / fp.score * 100.0
                } else {
                    0.0
                };
                writeln!(
                    out,
                    "  {:>6.1}%  {}  {}",
                    share,
                    format_quantity(*v, &fp.unit),
                    model.db.activities[*k].name
                )?;
            }
            writeln!(out, "\nBy life-cycle stage:")?;
            for s in report["contributions"]["stages"].as_array().into_iter().flatten() {
                writeln!(
                    out,
                    "  {:>6.1}%  {}",
                    s["share"].as_f64().unwrap_or(0.0) * 100.0,
                    s["stage"].as_str().unwrap_or_default()
                )?;
            }
            writeln!(out, "\nBy elementary flow:")?;
            for c in fp.by_flow.iter().take(10) {
                writeln!(
                    out,
                    "  {}  {} [{}]",
                    format_quantity(c.impact, &fp.unit),
                    c.name,
                    c.category
                )?;
            }
            writeln!(
                out,
                "\n{} flows of the inventory have no factor in {} (see --json: unmatched_flows).",
                fp.unmatched.len(),
                method.name
            )?;
            for q in report["iso14044"]["interpretation"]["data_quality"]
                .as_array()
                .into_iter()
                .flatten()
                .take(8)
            {
                writeln!(out, "  - {}", q.as_str().unwrap_or_default())?;
            }
            print_findings(&findings, out)?;
            Ok(())
        }
        LcaCommand::Processes { db, search, json } => {
            let model = load_lca(&db)?;
            let needle = search.as_deref().map(str::to_lowercase);
            let list: Vec<&crate::data::Activity> = model
                .db
                .activities
                .iter()
                .filter(|a| {
                    needle.as_ref().is_none_or(|n| {
                        a.name.to_lowercase().contains(n) || a.product_name.to_lowercase().contains(n)
                    })
                })
                .collect();
            if json {
                let v: Vec<Value> = list
                    .iter()
                    .map(|a| json!({"process": a.name, "product": a.product_name, "unit": a.unit, "location": a.location, "id": a.id}))
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                for a in &list {
                    writeln!(out, "{}  [{} of {}]", a.name, a.unit, a.product_name)?;
                }
                writeln!(out, "\n{} of {} processes", list.len(), model.db.activities.len())?;
            }
            Ok(())
        }
    }
}

/// Runs `cbutler cbam …`, writing results to `out`.
pub fn run_cbam(command: CbamCommand, out: &mut dyn Write) -> Result<()> {
    let CbamCommand::Cost(args) = command;
    let json = args.json;
    let c = crate::cbam::cost(
        crate::cbam::data::CbamTables::bundled(),
        &crate::cbam::CostQuery {
            country: args.country,
            cn_code: args.cn_code,
            variant: args.variant,
            tonnes: args.tonnes,
            year: args.year,
            quarter: args.quarter,
            actual_direct: args.actual_direct,
            actual_indirect: args.actual_indirect,
            ets_price: args.ets_price,
            origin_carbon_price: args.origin_carbon_price,
            cscf: args.cscf,
        },
    )?;
    let used = c.actual_case.as_ref().unwrap_or(&c.default_case);
    if json {
        let mut doc = serde_json::to_value(&c)?;
        let top = [
            ("basis", json!(used.basis)),
            ("embedded_emissions_t", json!(used.embedded_emissions_t)),
            (
                "free_allocation_adjustment_t",
                json!(used.free_allocation_adjustment_t),
            ),
            ("certificates", json!(used.certificates)),
            ("certificates_whole", json!(used.certificates_whole)),
            ("cost_eur", json!(used.cost_eur)),
        ];
        if let Some(map) = doc.as_object_mut() {
            for (k, v) in top {
                map.insert(k.to_string(), v);
            }
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} t of {} (CN {}) from {}, imported in {}:",
        c.tonnes, c.description, c.cn_code, c.country, c.year
    )?;
    let show = |case: &crate::cbam::CostCase, out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(
            out,
            "  {}: {:.5} t CO2e/t → embedded {}, free-allocation adjustment {}, certificates {:.3} ({} to surrender){}",
            case.basis,
            case.specific_embedded_emissions_t_per_t,
            format_quantity(case.embedded_emissions_t, "t CO2e"),
            format_quantity(case.free_allocation_adjustment_t, "t CO2e"),
            case.certificates,
            case.certificates_whole,
            case.cost_eur
                .map(|e| format!(", cost {e:.0} EUR"))
                .unwrap_or_default()
        )
    };
    show(&c.default_case, out)?;
    if let Some(a) = &c.actual_case {
        show(a, out)?;
    }
    if let Some(s) = c.saving_eur {
        writeln!(out, "  Saving with actual emissions: {s:.0} EUR")?;
    }
    writeln!(
        out,
        "  (benchmark {} t/t, route {}, CBAM factor {}, CSCF {})",
        c.benchmark_t_per_t, c.route, c.cbam_factor, c.cscf
    )?;
    for n in &c.notes {
        writeln!(out, "  - {}", n.english())?;
    }
    Ok(())
}
