//! The `cbutler` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cb_trade::analysis::{MrioAnalysis, MrioLabels};
use cb_trade::engine::PathSearch;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};

use crate::answer::{Answer, format_quantity};
use crate::journal::{self, Journal};
use crate::orchestrator::{Embedded, OrchestratorArgs, RunOutcome};
use crate::planner::{MrioVocabulary, PlanContext};

/// Carbon Butler: carbon-accounting questions answered with numbers, units, uncertainty and
/// sources.
#[derive(Debug, Parser)]
#[command(name = "cbutler", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask a question in plain language.
    Ask(AskArgs),
    /// Serve the HTTP API (embedded agents, or a cluster of workers with --redis).
    Serve(crate::cluster_cli::ServeArgs),
    /// Run agents for a cluster: take tasks from Redis Streams and answer them.
    Worker(crate::cluster_cli::WorkerArgs),
    /// Exit 0 if an HTTP endpoint answers 2xx (a container health check without curl), e.g.
    /// `cbutler probe http://127.0.0.1:8080/health`.
    Probe {
        #[arg(env = "CBUTLER_PROBE_URL")]
        url: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=300))]
        timeout: u64,
    },
    /// Bearer tokens for `serve --auth`.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Decision logs: list, show, verify, export, replay.
    Audit {
        #[command(subcommand)]
        command: crate::audit_cli::AuditCommand,
    },
    /// Print a JSON Schema of the protocol.
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Multi-regional input-output analysis on an MRIO file.
    Mrio {
        #[command(subcommand)]
        command: MrioCommand,
    },
    /// Life-cycle assessment on a life-cycle inventory database.
    Lca {
        #[command(subcommand)]
        command: LcaCommand,
    },
    /// The EU Carbon Border Adjustment Mechanism.
    Cbam {
        #[command(subcommand)]
        command: CbamCommand,
    },
    /// Industrial plants: hourly simulation, least-cost operation (HiGHS), abatement cost curves.
    Factory {
        #[command(subcommand)]
        command: crate::factory_cli::FactoryCommand,
    },
    /// Uncertainty: Sobol sensitivity on test functions, the pedigree matrix.
    Uncertainty {
        #[command(subcommand)]
        command: crate::uncertainty_cli::UncertaintyCommand,
    },
    /// Natural sinks: IPCC AFOLU accounts for forests, soils, land-use change and harvested wood.
    Sinks {
        #[command(subcommand)]
        command: crate::sinks_cli::SinksCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// A new random token and the [[token]] entry (its SHA-256) for the --auth file.
    New {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: crate::auth::Role,
    },
}

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
    /// CBAM certificate price, EUR per t CO2e (no price is bundled).
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

/// Monte Carlo options of `lca footprint`.
#[derive(Debug, Args)]
pub struct McArgs {
    /// Monte Carlo iterations: adds mean, standard deviation and 2.5/50/97.5 percentiles.
    #[arg(long)]
    pub mc: Option<usize>,
    /// Stop before --mc draws once every mean's standard error is below this share of the mean
    /// (e.g. 0.005), checked every 100 draws after the first 200.
    #[arg(long)]
    pub precision: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Lognormal GSD applied to every technosphere input and biosphere exchange.
    #[arg(long, conflicts_with = "pedigree")]
    pub gsd: Option<f64>,
    /// Or pedigree scores "R,C,T,G,F" (1–5 each; ecoinvent v3) giving the GSD, with
    /// --basic-variance (of ln x, default 0).
    #[arg(long)]
    pub pedigree: Option<String>,
    #[arg(long, default_value_t = 0.0)]
    pub basic_variance: f64,
}

impl McArgs {
    /// At most `n` draws, fewer at the requested precision.
    fn draws(&self, n: usize) -> Result<cb_uncertainty::engine::propagate::Draws> {
        if let Some(p) = self.precision
            && !(p.is_finite() && p > 0.0 && p < 1.0)
        {
            bail!("--precision must be between 0 and 1 (a share of the mean), got {p}");
        }
        Ok(cb_uncertainty::engine::propagate::Draws {
            max: n,
            precision: self.precision,
        })
    }

    /// The GSD and how it was chosen, or an error saying what to pass.
    fn gsd(&self) -> Result<(f64, serde_json::Value)> {
        match (&self.gsd, &self.pedigree) {
            (Some(g), _) => Ok((*g, json!({"gsd": g, "rule": "given with --gsd"}))),
            (None, Some(p)) => {
                let scores = cb_uncertainty::engine::pedigree::parse_scores(p)?;
                let ped = cb_uncertainty::engine::pedigree::pedigree(scores, self.basic_variance)?;
                Ok((ped.gsd, serde_json::to_value(&ped)?))
            }
            (None, None) => bail!(
                "--mc needs an uncertainty for the exchanges: the database carries none that is read. Give --gsd G \
                 (a lognormal GSD for every exchange) or --pedigree \"R,C,T,G,F\" (ecoinvent pedigree scores)"
            ),
        }
    }
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

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// The Plan: a DAG of typed tasks.
    Plan,
    /// A task's result.
    TaskResult,
    /// A factory plant file (TOML, described as JSON Schema).
    Plant,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question, e.g. "How do China's consumption-based CO2 emissions in 2022 compare with
    /// its territorial emissions?"
    pub question: String,
    /// An MRIO to answer from: a pymrio save (folder or zip), an EXIOBASE 3 zip, or a WIOD-style
    /// folder.
    #[arg(long)]
    pub mrio: Option<PathBuf>,
    /// A life-cycle inventory database for product questions (openLCA JSON-LD or EcoSpold2);
    /// the bundled USLCI when absent.
    #[arg(long)]
    pub lci: Option<PathBuf>,
    /// Print the whole answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write answer.json, graph.json, graph.dot and graph.graphml into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub llm: crate::cluster_cli::LlmArgs,
}

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

/// A spinner on stderr for steps that can take more than a second (hidden when stderr is not a
/// terminal).
fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn load_analysis(path: &Path) -> Result<MrioAnalysis> {
    let pb = spinner(&format!("loading {}", path.display()));
    let mrio = cb_trade::data::load_mrio(path)
        .with_context(|| format!("cannot load the MRIO {}", path.display()))?;
    let analysis = MrioAnalysis::new(mrio, &mut |step| pb.set_message(step.to_string()))?;
    pb.finish_and_clear();
    Ok(analysis)
}

/// Runs a parsed command line, writing results to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Ask(args) => {
            let _telemetry = cb_telemetry::init("cbutler");
            ask(args, out)
        }
        Command::Serve(args) => {
            let _telemetry = cb_telemetry::init("cbutler-serve");
            crate::cluster_cli::serve(args)
        }
        Command::Worker(args) => {
            let _telemetry = cb_telemetry::init("cbutler-worker");
            crate::cluster_cli::worker(args)
        }
        Command::Audit { command } => crate::audit_cli::run(command, out),
        Command::Probe { url, timeout } => probe(&url, Duration::from_secs(timeout), out),
        Command::Token {
            command: TokenCommand::New { name, role },
        } => {
            let (token, entry) = crate::auth::new_token(&name, role);
            writeln!(
                out,
                "# give this token to {name} (it is shown once; only its hash is kept):"
            )?;
            writeln!(out, "# {token}")?;
            writeln!(out, "# and add this to the --auth file:")?;
            write!(out, "{entry}")?;
            Ok(())
        }
        Command::Schema { which } => {
            let schema = match which {
                SchemaKind::Plan => cb_protocol::plan_schema(),
                SchemaKind::TaskResult => cb_protocol::task_result_schema(),
                SchemaKind::Plant => cb_factory::model::plant_schema(),
            };
            writeln!(out, "{}", serde_json::to_string_pretty(&schema)?)?;
            Ok(())
        }
        Command::Mrio { command } => mrio(command, out),
        Command::Lca { command } => lca(command, out),
        Command::Cbam { command } => cbam(command, out),
        Command::Sinks { command } => crate::sinks_cli::run(command, out),
        Command::Factory { command } => crate::factory_cli::run(command, out),
        Command::Uncertainty { command } => crate::uncertainty_cli::run(command, out),
    }
}

fn probe(url: &str, timeout: Duration, out: &mut dyn Write) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        anyhow::Ok(client.get(url).send().await?.status())
    });
    match status {
        Ok(s) if s.is_success() => {
            writeln!(out, "{url}: {s}")?;
            Ok(())
        }
        Ok(s) => bail!("{url} answered {s}"),
        Err(e) => bail!("{url} did not answer: {e:#}"),
    }
}

fn ask(args: AskArgs, out: &mut dyn Write) -> Result<()> {
    if is_certainty_follow_up(&args.question) {
        return certainty_report(&args, out);
    }
    let mut context = PlanContext {
        lci: args.lci.as_ref().map(|p| p.display().to_string()),
        ..PlanContext::default()
    };
    if let Some(path) = &args.mrio {
        let pb = spinner(&format!("reading labels of {}", path.display()));
        let labels =
            MrioLabels::read(path).with_context(|| format!("cannot read the MRIO {}", path.display()))?;
        pb.finish_and_clear();
        context.mrio = Some(MrioVocabulary {
            path: path.display().to_string(),
            name: labels.name,
            regions: labels.regions,
            sectors: labels.sectors,
            stressors: labels.stressors,
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome: RunOutcome = runtime.block_on(async {
        let planner = args.llm.planner()?;
        let home = journal::default_home();
        let embedded = Embedded::start(OrchestratorArgs {
            journal: None,
            task_timeout: Duration::from_secs(3600),
            planner: planner.clone(),
            token_budget: args.llm.llm_token_budget,
        })
        .await
        .context("cannot start the orchestrator")?;
        let agents = embedded.agents().await?;
        // The same path as `serve`: a run with its decision log, in memory, journaled locally.
        let service = crate::service::RunService::new(
            crate::runs::RunStore::Memory(crate::runs::MemoryStore::default()),
            agents,
            None,
            crate::service::ServiceConfig {
                planner,
                token_budget: args.llm.llm_token_budget,
                max_active_runs: 1,
                journal: Some(Journal::new(&home)),
                owner: "cbutler-ask".into(),
                lease_ttl: Duration::from_secs(3600),
                audit: Some(crate::cluster_cli::local_audit(&home)?),
            },
        );
        let pb = spinner("answering");
        let context = crate::runs::RunContext {
            mrio: context.mrio,
            lci: context.lci,
        };
        let submitted = service
            .submit(
                args.question.clone(),
                context,
                None,
                &cb_telemetry::Context::new(),
            )
            .await;
        let state = match submitted {
            Ok(state) => {
                service
                    .wait(&state.run_id, Duration::from_secs(7 * 24 * 3600))
                    .await?
            }
            Err(e) => {
                pb.finish_and_clear();
                embedded.shutdown().await;
                bail!("{e}");
            }
        };
        pb.finish_and_clear();
        embedded.shutdown().await;
        let state = state.context("the run disappeared")?;
        match state.answer {
            Some(answer) => {
                let graph = cb_graphs::SupplyChainGraph::from_fragments(
                    answer.results.iter().filter_map(|r| r.output().map(|o| &o.graph)),
                )
                .unwrap_or_default();
                anyhow::Ok(RunOutcome { answer, graph })
            }
            None => bail!(
                "{}",
                state
                    .error
                    .unwrap_or_else(|| "the run stopped without an answer".into())
            ),
        }
    })?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &outcome)?;
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&outcome.answer)?)?;
    } else {
        print_answer(&outcome.answer, out)?;
        if let Some(dir) = &args.out {
            writeln!(
                out,
                "\nWrote answer.json, graph.json, graph.dot and graph.graphml to {}",
                dir.display()
            )?;
        }
    }
    if !outcome.answer.errors.is_empty() && outcome.answer.table.is_empty() {
        bail!(
            "the question could not be answered: {}",
            outcome.answer.errors.join("; ")
        );
    }
    Ok(())
}

/// "How certain is that?", "How sure are you?", "What drives the uncertainty?": a follow-up on the
/// previous run.
fn is_certainty_follow_up(question: &str) -> bool {
    let q = question.to_lowercase();
    [
        "how certain",
        "how uncertain",
        "how sure",
        "how confident",
        "how reliable",
        "what drives",
        "uncertainty of that",
    ]
    .iter()
    .any(|p| q.contains(p))
}

/// Reports the previous run's uncertainty: every number with its interval (or that it is not
/// assessed), the drivers where a Monte Carlo named them, and the consistency checks.
fn certainty_report(args: &AskArgs, out: &mut dyn Write) -> Result<()> {
    let journal = Journal::new(&journal::default_home());
    let Some(run) = journal.latest().context("cannot read the run journal")? else {
        bail!("there is no earlier answer to follow up on: ask a question first");
    };
    let a = &run.answer;
    let rows: Vec<serde_json::Value> = a
        .table
        .iter()
        .map(|r| json!({"label": r.label, "value": r.value, "unit": r.unit, "uncertainty": r.uncertainty}))
        .collect();
    let drivers: Vec<&String> = a.notes.iter().filter(|n| n.starts_with("Uncertainty:")).collect();
    if args.json {
        let doc = json!({
            "follow_up_on": {"run_id": a.run_id, "question": a.question},
            "numbers": rows,
            "drivers": drivers,
            "findings": a.findings,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    writeln!(out, "On \"{}\" (run {}):", a.question, a.run_id)?;
    for r in &a.table {
        let how = crate::answer::uncertainty_text(r.value, &r.unit, &r.uncertainty)
            .unwrap_or_else(|| "uncertainty not assessed".into());
        writeln!(
            out,
            "  {}: {} — {how}",
            r.label,
            format_quantity(r.value, &r.unit)
        )?;
    }
    for d in &drivers {
        writeln!(out, "{d}")?;
    }
    if drivers.is_empty() {
        writeln!(
            out,
            "No Monte Carlo ran for this answer, so no drivers are named. For product footprints run \
             `cbutler lca footprint --mc N --gsd G` (or --pedigree); for MRIO accounts `cbutler mrio accounts --mc N --gsd G`."
        )?;
    }
    for f in &a.findings {
        writeln!(
            out,
            "  check [{}] {}",
            if f.passed { "pass" } else { "FAIL" },
            f.check
        )?;
    }
    Ok(())
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

/// The consistency findings as a "Checks:" list: pass/fail, what was compared, numbers, tolerance.
fn print_findings(findings: &[cb_protocol::Finding], out: &mut dyn Write) -> Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nChecks:")?;
    for f in findings {
        let values: Vec<String> = f
            .values
            .iter()
            .map(|(k, v)| {
                if *v == 0.0 || (1e-3..1e7).contains(&v.abs()) {
                    format!("{k} = {v:.4}")
                } else {
                    format!("{k} = {v:.3e}")
                }
            })
            .collect();
        writeln!(
            out,
            "  - [{}] {}: {} ({}; tolerance {})",
            if f.passed { "pass" } else { "FAIL" },
            f.check,
            f.compared,
            values.join(", "),
            f.tolerance
        )?;
    }
    Ok(())
}

fn print_answer(a: &Answer, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{}", a.text)?;
    if !a.notes.is_empty() {
        writeln!(out, "\nNotes:")?;
        for n in &a.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    print_findings(&a.findings, out)?;
    if !a.sources.is_empty() {
        writeln!(out, "\nSources:")?;
        for s in &a.sources {
            writeln!(out, "  - {s}")?;
        }
    }
    writeln!(out, "\nPlan ({} planner): {}", a.planner, a.intent)?;
    if a.planning.iter().any(|p| p.planner != "rules") {
        writeln!(out, "LLM attempts:")?;
        for p in a.planning.iter().filter(|p| p.planner != "rules") {
            let why = p.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
            writeln!(
                out,
                "  - {} by {}: {} ({} + {} tokens, {} ms){why}",
                p.operation, p.planner, p.outcome, p.input_tokens, p.output_tokens, p.latency_ms
            )?;
        }
    }
    writeln!(out, "Run: {}", a.run_id)?;
    Ok(())
}

/// Writes the four output files, each atomically.
fn write_outputs(dir: &Path, outcome: &RunOutcome) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let files: [(&str, Vec<u8>); 4] = [
        ("answer.json", serde_json::to_vec_pretty(&outcome.answer)?),
        ("graph.json", serde_json::to_vec_pretty(&outcome.graph.to_json())?),
        ("graph.dot", outcome.graph.to_dot().into_bytes()),
        ("graph.graphml", outcome.graph.to_graphml().into_bytes()),
    ];
    for (name, bytes) in files {
        journal::write_atomically(&dir.join(name), &bytes).with_context(|| format!("cannot write {name}"))?;
    }
    Ok(())
}

fn region_map(regions: &[String], m: &faer::Mat<f64>, k: usize) -> Value {
    let mut map = Map::new();
    for (r, name) in regions.iter().enumerate() {
        map.insert(name.clone(), json!(m[(k, r)]));
    }
    Value::Object(map)
}

fn mrio(command: MrioCommand, out: &mut dyn Write) -> Result<()> {
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
            let checked = cb_trade::agent::mrio_accounts(&a, stressor.as_deref(), &[])?;
            pb.finish_and_clear();
            let ks: Vec<usize> = match &stressor {
                Some(s) => vec![a.stressor_index(s)?],
                None => (0..a.stressors.len()).collect(),
            };
            let mut checked = checked;
            cb_trade::agent::gcb_consumption_check(
                &a,
                &acc,
                &ks,
                year,
                cb_trade::data::gcb::Gcb::bundled(),
                &mut checked,
            );
            let uncertainty = match mc.mc {
                Some(n) => {
                    if !(2..=100_000).contains(&n) {
                        bail!("--mc must be between 2 and 100000, got {n}");
                    }
                    let (gsd, rule) = mc.gsd()?;
                    let raw = cb_trade::data::load_mrio(&mrio.mrio)
                        .with_context(|| format!("cannot load the MRIO {}", mrio.mrio.display()))?;
                    let pb = spinner(&format!("Monte Carlo: {n} perturbed MRIOs"));
                    let draws = cb_trade::uncertainty::monte_carlo_regional_accounts(
                        &raw,
                        gsd,
                        mc.draws(n)?,
                        mc.seed,
                    )?;
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
            let net = cb_trade::engine::calc_net_transfers(e.as_ref());
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
            let output = cb_trade::agent::supply_chain_paths(
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

fn load_lca(args: &LcaDb) -> Result<cb_lca::assessment::Model> {
    let mut options = cb_lca::data::ImportOptions {
        multi_output: match args.multi_output {
            MultiOutputArg::Strict => cb_lca::data::MultiOutput::Error,
            MultiOutputArg::Allocate => cb_lca::data::MultiOutput::AllocateOrReference,
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
    let db = cb_lca::data::load(&args.db, &options)
        .with_context(|| format!("cannot import {}", args.db.display()))?;
    pb.set_message("factorising the technosphere");
    let model = cb_lca::assessment::Model::new(db)?;
    pb.finish_and_clear();
    Ok(model)
}

fn lca(command: LcaCommand, out: &mut dyn Write) -> Result<()> {
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
                let stage = cb_lca::assessment::Stage::parse(stage).with_context(|| {
                    format!("--stage {s:?}: unknown stage {stage:?} (raw_materials, manufacturing, transport, use, end_of_life)")
                })?;
                assigned.insert(process.trim().to_string(), stage);
            }
            let method = cb_lca::method::ImpactMethod::by_id(&method).with_context(|| {
                format!(
                    "unknown impact method {method:?}; bundled: {}",
                    cb_lca::method::ImpactMethod::IDS.join(", ")
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
            let mut report = cb_lca::report::footprint_json(&model, &fp, depth as usize, cutoff, &assigned);
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
                Some(c) => vec![cb_lca::agent::eeio_finding(fp.score / amount, method, c)?],
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
            let list: Vec<&cb_lca::data::Activity> = model
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

fn cbam(command: CbamCommand, out: &mut dyn Write) -> Result<()> {
    let CbamCommand::Cost(args) = command;
    let json = args.json;
    let c = cb_lca::cbam::cost(
        cb_lca::cbam::data::CbamTables::bundled(),
        &cb_lca::cbam::CostQuery {
            country: args.country,
            cn_code: args.cn_code,
            tonnes: args.tonnes,
            year: args.year,
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
    let show = |case: &cb_lca::cbam::CostCase, out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(
            out,
            "  {}: {:.5} t CO2e/t → embedded {}, free-allocation adjustment {}, certificates {:.1}{}",
            case.basis,
            case.specific_embedded_emissions_t_per_t,
            format_quantity(case.embedded_emissions_t, "t CO2e"),
            format_quantity(case.free_allocation_adjustment_t, "t CO2e"),
            case.certificates,
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
        writeln!(out, "  - {n}")?;
    }
    Ok(())
}
