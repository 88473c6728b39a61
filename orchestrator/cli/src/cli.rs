//! The `cbutler` command line: its arguments, and `ask` printed for people. Every other
//! subcommand belongs to a library: each agent's (`cbutler mrio|lca|cbam|sinks|factory|
//! uncertainty`) is in its crate's `cli.rs`, `serve`/`worker` compose the server and the cluster
//! ([`crate::serve`]), `audit` reads decision logs ([`crate::audit`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cb_agent_runtime::cli::{print_findings_under, spinner};
use cb_core::Answer;
use cb_core::journal::{self, Journal};
use cb_core::orchestrator::{Embedded, OrchestratorArgs, RunOutcome};
use cb_core::runs::{MemoryStore, RunContext, RunStore};
use cb_planner::PlanContext;
use cb_protocol::format::{format_quantity, uncertainty_text};
use cb_server::{RunService, ServiceConfig};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

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
    /// Plan a question without running it: the plan or the refusal, and how long planning took.
    Plan(crate::plan::PlanArgs),
    /// Serve the HTTP API (embedded agents, or a cluster of workers with --redis).
    Serve(crate::serve::ServeArgs),
    /// Run agents for a cluster: take tasks from Redis Streams and answer them.
    Worker(crate::serve::WorkerArgs),
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
        command: crate::audit::AuditCommand,
    },
    /// Print a JSON Schema of the protocol.
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Multi-regional input-output analysis on an MRIO file.
    Mrio {
        #[command(subcommand)]
        command: cb_trade::cli::MrioCommand,
    },
    /// Life-cycle assessment on a life-cycle inventory database.
    Lca {
        #[command(subcommand)]
        command: cb_lca::cli::LcaCommand,
    },
    /// The EU Carbon Border Adjustment Mechanism.
    Cbam {
        #[command(subcommand)]
        command: CbamCommands,
    },
    /// Industrial plants: hourly simulation, least-cost operation (HiGHS), abatement cost curves.
    Factory {
        #[command(subcommand)]
        command: cb_factory::cli::FactoryCommand,
    },
    /// Avoided emissions of exported solar and wind equipment over its lifetime (the destination's
    /// IFI margin) against its life-cycle emissions (made on the exporter's grid).
    Avoided(cb_trade::cli::AvoidedArgs),
    /// Carbon intensity of electricity by country, grid zone and year: averages (Ember, Electricity
    /// Maps) and the margins for avoided emissions (IFI harmonised factors).
    Grid(cb_factory::cli::GridArgs),
    /// Uncertainty: Sobol sensitivity on test functions, the pedigree matrix.
    Uncertainty {
        #[command(subcommand)]
        command: cb_uncertainty::cli::UncertaintyCommand,
    },
    /// Natural sinks: IPCC AFOLU accounts for forests, soils, land-use change and harvested wood.
    Sinks {
        #[command(subcommand)]
        command: cb_sinks::cli::SinksCommand,
    },
}

/// `cbutler cbam …`: the CBAM engine's own commands, and the comparison with the route models
/// (which needs the factory agent as well, so it is composed here).
#[derive(Debug, Subcommand)]
pub enum CbamCommands {
    #[command(flatten)]
    Engine(cb_lca::cli::CbamCommand),
    /// The default values of a country against the bundled route models (BF-BOF, gas and H2
    /// DRI-EAF, scrap EAF, cement with and without capture, ammonia SMR, SMR with capture and
    /// electrolysis) run on that country's grid: with and without the mark-up, the modelled
    /// direct and grid intensity, and their ratio on the basis CBAM counts.
    Compare(crate::compare::CompareArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// A new random token and the [[token]] entry (its SHA-256) for the --auth file.
    New {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: cb_server::auth::Role,
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
    pub llm: crate::serve::LlmArgs,
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
            crate::serve::serve(args)
        }
        Command::Worker(args) => {
            let _telemetry = cb_telemetry::init("cbutler-worker");
            crate::serve::worker(args)
        }
        Command::Plan(args) => crate::plan::run(args, out),
        Command::Audit { command } => crate::audit::run(command, out),
        Command::Probe { url, timeout } => probe(&url, Duration::from_secs(timeout), out),
        Command::Token {
            command: TokenCommand::New { name, role },
        } => {
            let (token, entry) = cb_server::auth::new_token(&name, role);
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
        Command::Mrio { command } => cb_trade::cli::run(command, out),
        Command::Lca { command } => cb_lca::cli::run(command, out),
        Command::Cbam { command } => match command {
            CbamCommands::Engine(c) => cb_lca::cli::run_cbam(c, out),
            CbamCommands::Compare(a) => crate::compare::run(a, out),
        },
        Command::Sinks { command } => cb_sinks::cli::run(command, out),
        Command::Factory { command } => cb_factory::cli::run(command, out),
        Command::Grid(args) => cb_factory::cli::run_grid(args, out),
        Command::Avoided(args) => cb_trade::cli::run_avoided(args, out),
        Command::Uncertainty { command } => cb_uncertainty::cli::run(command, out),
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
        context.mrio = Some(crate::plan::mrio_vocabulary(path)?);
        pb.finish_and_clear();
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
            data_roots: None,
        })
        .await
        .context("cannot start the orchestrator")?;
        let agents = embedded.agents().await?;
        // The same path as `serve`: a run with its decision log, in memory, journaled locally.
        let service = RunService::new(
            RunStore::Memory(MemoryStore::default()),
            agents,
            None,
            ServiceConfig {
                planner,
                token_budget: args.llm.llm_token_budget,
                max_active_runs: 1,
                journal: Some(Journal::new(&home)),
                owner: "cbutler-ask".into(),
                lease_ttl: Duration::from_secs(3600),
                audit: Some(crate::serve::local_audit(&home)?),
                data_roots: None,
                quotas: Default::default(),
            },
        );
        let pb = spinner("answering");
        let context = RunContext {
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
    // The agents' own notes (in English, whatever language the answer was given in).
    let drivers: Vec<&String> = a
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            cb_protocol::TaskOutcome::Completed(out) => Some(&out.notes),
            cb_protocol::TaskOutcome::Failed(_) => None,
        })
        .flatten()
        .filter(|n| n.starts_with("Uncertainty:"))
        .collect();
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
        let how = uncertainty_text(r.value, &r.unit, &r.uncertainty)
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

fn print_answer(a: &Answer, out: &mut dyn Write) -> Result<()> {
    // Headings in the question's language, as the answer's text is; notes and sources as written.
    let lang = cb_planner::mentions::read(&a.question).lang;
    let say = |key: &str, values: &[(&str, &str)]| cb_planner::templates::say(lang, key, values);
    writeln!(out, "{}", a.text)?;
    if !a.notes.is_empty() {
        writeln!(out, "\n{}", say("heading_notes", &[]))?;
        for n in &a.notes {
            writeln!(out, "  - {n}")?;
        }
    }
    print_findings_under(&say("heading_checks", &[]), &a.findings, out)?;
    if !a.sources.is_empty() {
        writeln!(out, "\n{}", say("heading_sources", &[]))?;
        for s in &a.sources {
            writeln!(out, "  - {s}")?;
        }
    }
    writeln!(
        out,
        "\n{}",
        say("heading_plan", &[("planner", &a.planner), ("intent", &a.intent)])
    )?;
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
    writeln!(out, "{}", say("heading_run", &[("run", &a.run_id)]))?;
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
