//! `cbutler audit …`: list, show, verify, export and replay decision logs, from the local store
//! (`$CBUTLER_HOME/audit/`) or a cluster's Redis (`--redis URL [--prefix P]`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use cb_audit::{AuditEntry, AuditHead, AuditKey, AuditStore, LocalAudit, import, verify};
use cb_core::journal;

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Read the cluster's logs from this Redis instead of the local store.
    #[arg(long)]
    pub redis: Option<String>,
    /// The cluster's key prefix.
    #[arg(long, default_value = "cbutler")]
    pub prefix: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Runs with a decision log, newest first.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// A run's log, entry by entry.
    Show {
        run: String,
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// Checks a run's hash chain and signed head: exit 0 when intact, 1 naming the first entry
    /// altered, removed, reordered or inserted, or a bad signature.
    Verify {
        /// A run id, or an exported .jsonl file (verified offline).
        run: String,
        #[command(flatten)]
        store: StoreArgs,
        /// The trusted public key (a file holding its 64 hex digits). Without it, this
        /// machine's own signing key ($CBUTLER_HOME/keys) is trusted where it exists.
        #[arg(long, conflicts_with = "trust_log_key")]
        public_key: Option<PathBuf>,
        /// Trust whatever key the log's head names: proves the log is intact, not who wrote it.
        #[arg(long)]
        trust_log_key: bool,
        #[arg(long)]
        json: bool,
    },
    /// Checks the index of runs (a signed log of when each run's log began and how it ended)
    /// and every log against it: a log deleted whole, cut back to an earlier signed head or
    /// rewritten, and a log missing from the index, are each named; exit 1 if any.
    VerifyIndex {
        #[command(flatten)]
        store: StoreArgs,
        /// The trusted public key, as for `verify`.
        #[arg(long, conflicts_with = "trust_log_key")]
        public_key: Option<PathBuf>,
        /// Trust whatever key the index's head names.
        #[arg(long)]
        trust_log_key: bool,
        #[arg(long)]
        json: bool,
    },
    /// Writes a self-contained JSON Lines file (signed head first, then every entry).
    Export {
        run: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-runs the recorded plan (the LLM's output as recorded, no LLM call) and reports, number
    /// by number, whether the results reproduce; datasets whose version changed are named.
    Replay {
        run: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Prints this machine's audit signing public key (creating the key if needed).
    PublicKey,
}

/// The key a log must be signed with: the named file's, none (`--trust-log-key`), or this
/// machine's.
fn trusted_key(public_key: Option<&std::path::Path>, trust_log_key: bool) -> Result<Option<String>> {
    match public_key {
        Some(p) => Ok(Some(
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
        None if trust_log_key => Ok(None),
        None => Ok(Some(local_public_key()?)),
    }
}

/// This machine's signing public key, without creating one.
fn local_public_key() -> Result<String> {
    let path = AuditKey::default_path(&journal::default_home());
    if !path.is_file() {
        bail!(
            "no trusted key: this machine has no signing key at {}; name the signer's key with \
             --public-key FILE (`cbutler audit public-key` prints a machine's), or pass \
             --trust-log-key to check integrity only",
            path.display()
        );
    }
    Ok(AuditKey::load_or_create(&path)?.public_hex())
}

async fn store_of(args: &StoreArgs) -> Result<AuditStore> {
    Ok(match &args.redis {
        None => AuditStore::Local(LocalAudit::new(&journal::default_home())),
        Some(url) => AuditStore::Shared(std::sync::Arc::new(
            cb_cluster::store::RedisStore::connect(url, cb_cluster::Keys::new(&args.prefix))
                .await
                .with_context(|| format!("cannot reach Redis at {}", cb_cluster::redacted(url)))?,
        )),
    })
}

async fn load(run: &str, args: &StoreArgs) -> Result<(Vec<AuditEntry>, Option<AuditHead>)> {
    let path = std::path::Path::new(run);
    if run.ends_with(".jsonl") && path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {run}"))?;
        return Ok(import(&text)?);
    }
    Ok(store_of(args).await?.load(run).await?)
}

pub fn run(command: AuditCommand, out: &mut dyn Write) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = runtime.block_on(run_async(command, out))?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

async fn run_async(command: AuditCommand, out: &mut dyn Write) -> Result<i32> {
    match command {
        AuditCommand::List { store } => {
            for run in store_of(&store).await?.list().await? {
                writeln!(out, "{run}")?;
            }
        }
        AuditCommand::Show { run, store, json } => {
            let (entries, head) = load(&run, &store).await?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json!({"head": head, "entries": entries}))?
                )?;
            } else {
                for e in &entries {
                    writeln!(
                        out,
                        "#{:<3} {:<18} {}  {}",
                        e.seq,
                        e.kind,
                        &e.hash[..12],
                        summary(e)
                    )?;
                }
                match head {
                    Some(h) => writeln!(out, "head: {} entries, signed by {}", h.count, h.public_key)?,
                    None => writeln!(out, "head: none")?,
                }
            }
        }
        AuditCommand::Verify {
            run,
            store,
            public_key,
            trust_log_key,
            json,
        } => {
            let (entries, head) = load(&run, &store).await?;
            let trusted = trusted_key(public_key.as_deref(), trust_log_key)?;
            // A run id names the log it must be; an exported file names its own run, which
            // the output states.
            let run_id = if cb_audit::is_run_id(&run) && !std::path::Path::new(&run).is_file() {
                run.clone()
            } else {
                entries.first().map(|e| e.run_id.clone()).unwrap_or(run.clone())
            };
            let v = verify(&run_id, &entries, head.as_ref(), trusted.as_deref());
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else if v.intact {
                writeln!(
                    out,
                    "intact: {} entries of run {run_id}, hash chain and signature valid (key {}{})",
                    v.entries,
                    v.signed_by.as_deref().unwrap_or("?"),
                    if trust_log_key {
                        ", the log's own: its origin is not checked"
                    } else {
                        ", trusted"
                    }
                )?;
                if !v.complete {
                    writeln!(
                        out,
                        "incomplete: the run stopped after entry {} ({}), before its answer",
                        v.entries.saturating_sub(1),
                        v.last_kind.as_deref().unwrap_or("none")
                    )?;
                }
            } else {
                writeln!(out, "NOT intact: {}", v.problem.as_deref().unwrap_or("unknown"))?;
            }
            return Ok(if v.intact { 0 } else { 1 });
        }
        AuditCommand::VerifyIndex {
            store,
            public_key,
            trust_log_key,
            json,
        } => {
            let trusted = trusted_key(public_key.as_deref(), trust_log_key)?;
            let store = store_of(&store).await?;
            let v = cb_audit::verify_index(&store, trusted.as_deref()).await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                if v.index.intact {
                    writeln!(
                        out,
                        "index intact: {} entries naming {} runs",
                        v.index.entries, v.runs
                    )?;
                } else {
                    writeln!(
                        out,
                        "index NOT intact: {}",
                        v.index.problem.as_deref().unwrap_or("unknown")
                    )?;
                }
                for p in &v.problems {
                    writeln!(out, "{p}")?;
                }
            }
            return Ok(if v.intact() { 0 } else { 1 });
        }
        AuditCommand::Export {
            run,
            store,
            out: path,
        } => {
            let (entries, head) = load(&run, &store).await?;
            let text = cb_audit::export(&entries, head.as_ref());
            match path {
                Some(p) => journal::write_atomically(&p, text.as_bytes())
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => write!(out, "{text}")?,
            }
        }
        AuditCommand::Replay { run, store } => {
            let (entries, _) = load(&run, &store).await?;
            return replay(&entries, out).await;
        }
        AuditCommand::PublicKey => {
            let key = AuditKey::load_or_create(&AuditKey::default_path(&journal::default_home()))?;
            writeln!(out, "{}", key.public_hex())?;
        }
    }
    Ok(0)
}

fn summary(e: &AuditEntry) -> String {
    let b = &e.body;
    let s = match e.kind.as_str() {
        "question" => b["question"].as_str().unwrap_or_default().to_string(),
        "llm_call" | "planning_attempt" => format!(
            "{} {} by {}{}",
            b["operation"].as_str().unwrap_or_default(),
            b["outcome"].as_str().unwrap_or_default(),
            b["planner"].as_str().unwrap_or_default(),
            b["error"].as_str().map(|e| format!(": {e}")).unwrap_or_default()
        ),
        "plan" => format!(
            "{} task(s) by {}",
            b["plan"]["tasks"].as_array().map_or(0, Vec::len),
            b["planner"].as_str().unwrap_or_default()
        ),
        "task_dispatched" => format!(
            "{} → {}",
            b["task"].as_str().unwrap_or_default(),
            b["agent"].as_str().unwrap_or_default()
        ),
        "task_result" => format!(
            "{} {} by {} (attempt {})",
            b["task"].as_str().unwrap_or_default(),
            b["status"].as_str().unwrap_or_default(),
            b["worker"].as_str().unwrap_or("?"),
            b["attempt"]
        ),
        "answer" => b["text"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
        _ => b.to_string(),
    };
    s.chars().take(100).collect()
}

/// Re-runs the recorded plan on in-process agents and compares every recorded number.
async fn replay(entries: &[AuditEntry], out: &mut dyn Write) -> Result<i32> {
    let Some(plan_entry) = entries.iter().find(|e| e.kind == "plan") else {
        bail!("the log has no plan: the run stopped before it was planned, so there is nothing to replay");
    };
    let plan: cb_protocol::Plan = serde_json::from_value(plan_entry.body["plan"].clone())
        .context("the recorded plan does not parse")?;
    let embedded = cb_core::Embedded::start(cb_core::OrchestratorArgs {
        journal: None,
        task_timeout: Duration::from_secs(3600),
        planner: cb_planner::Planner::Rules,
        token_budget: 0,
        data_roots: None,
    })
    .await?;
    let agents = embedded.agents().await?;
    let results =
        cb_core::orchestrator::execute(&format!("replay-{}", plan_entry.run_id), &plan, &agents, &None).await;
    embedded.shutdown().await;
    let (mut same, mut differ) = (0usize, 0usize);
    for recorded in entries.iter().filter(|e| e.kind == "task_result") {
        let task = recorded.body["task"].as_str().unwrap_or_default();
        writeln!(out, "task {task}:")?;
        let Some(now) = results.iter().find(|r| r.task_id.0 == task) else {
            writeln!(out, "  not in the replayed results")?;
            differ += 1;
            continue;
        };
        let now_body = cb_audit::result_body(now, None, None);
        if recorded.body["status"] != now_body["status"] {
            writeln!(
                out,
                "  status was {}, now {}",
                recorded.body["status"], now_body["status"]
            )?;
            differ += 1;
            continue;
        }
        let key = |n: &Value| {
            (
                n["measure"].as_str().unwrap_or_default().to_string(),
                n["label"].as_str().unwrap_or_default().to_string(),
            )
        };
        let replayed: BTreeMap<_, _> = now_body["numbers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| (key(n), n.clone()))
            .collect();
        for n in recorded.body["numbers"].as_array().into_iter().flatten() {
            let (was, unit) = (
                n["value"].as_f64().unwrap_or(f64::NAN),
                n["unit"].as_str().unwrap_or_default(),
            );
            match replayed.get(&key(n)).and_then(|m| m["value"].as_f64()) {
                Some(v) if v == was || (v - was).abs() <= 1e-12 * was.abs().max(v.abs()) => {
                    same += 1;
                    writeln!(
                        out,
                        "  reproduced  {} = {was} {unit}",
                        n["label"].as_str().unwrap_or_default()
                    )?;
                }
                Some(v) => {
                    differ += 1;
                    writeln!(
                        out,
                        "  DIFFERS     {}: recorded {was}, now {v} {unit}",
                        n["label"].as_str().unwrap_or_default()
                    )?;
                }
                None => {
                    differ += 1;
                    writeln!(
                        out,
                        "  MISSING     {}: recorded {was} {unit}, not computed now",
                        n["label"].as_str().unwrap_or_default()
                    )?;
                }
            }
        }
        let datasets = |b: &Value| -> BTreeMap<String, String> {
            b["datasets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    (
                        d["dataset"].as_str().unwrap_or_default().to_string(),
                        d["version"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        };
        let (then, now_ds) = (datasets(&recorded.body), datasets(&now_body));
        for (name, version) in &then {
            match now_ds.get(name) {
                Some(v) if v != version => {
                    writeln!(out, "  dataset {name} changed version: {version} → {v}")?
                }
                None => writeln!(out, "  dataset {name} ({version}) is no longer used")?,
                _ => {}
            }
        }
    }
    writeln!(out, "{same} number(s) reproduced, {differ} did not")?;
    Ok(if differ == 0 { 0 } else { 1 })
}
