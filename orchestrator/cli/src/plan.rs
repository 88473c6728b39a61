//! `cbutler plan`: plans questions without running them, so an operator can see what a question
//! becomes and measure a planner (`bench/planner.py` drives `--jsonl`).

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cb_planner::MrioVocabulary;
use cb_planner::openai::TokenBudget;
use cb_planner::{PlanContext, PlanningAttempt};
use cb_trade::analysis::MrioLabels;
use clap::Args;
use serde::Deserialize;
use serde_json::json;

/// The most questions one `--jsonl` run plans, and the longest line it reads: a bound on what a
/// caller's input can cost.
const MAX_QUESTIONS: usize = 100_000;
const MAX_LINE_BYTES: usize = 64 * 1024;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The question; leave it out with --jsonl.
    #[arg(required_unless_present = "jsonl", conflicts_with = "jsonl")]
    pub question: Option<String>,
    /// An MRIO whose labels the planner may use. With --jsonl it applies only to lines with
    /// `"mrio": true`.
    #[arg(long)]
    pub mrio: Option<PathBuf>,
    /// A life-cycle inventory database product questions are planned against.
    #[arg(long)]
    pub lci: Option<PathBuf>,
    /// Read questions from standard input, one JSON object a line (`{"q": "...", "mrio": true}`),
    /// and print one JSON line per question: the plan or the refusal, the planner that decided
    /// and the planning time.
    #[arg(long)]
    pub jsonl: bool,
    #[command(flatten)]
    pub llm: crate::serve::LlmArgs,
}

#[derive(Deserialize)]
struct Line {
    q: String,
    #[serde(default)]
    mrio: bool,
}

pub fn run(args: PlanArgs, out: &mut dyn Write) -> Result<()> {
    let planner = args.llm.planner()?;
    let mrio = args.mrio.as_deref().map(mrio_vocabulary).transpose()?;
    let lci = args.lci.as_ref().map(|p| p.display().to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let plan_one = |q: &str, with_mrio: bool| -> Result<serde_json::Value> {
        let ctx = PlanContext {
            mrio: if with_mrio { mrio.clone() } else { None },
            lci: lci.clone(),
        };
        let mut budget = TokenBudget::new(args.llm.llm_token_budget);
        let mut attempts: Vec<PlanningAttempt> = Vec::new();
        let started = Instant::now();
        let planned = runtime.block_on(planner.plan(q, &ctx, &mut budget, &mut attempts));
        let ms = started.elapsed().as_secs_f64() * 1e3;
        // The planner whose plan was taken: the last accepted attempt, else the last one tried.
        let decided = attempts
            .iter()
            .rev()
            .find(|a| a.outcome == "accepted")
            .or(attempts.last())
            .map(|a| a.planner.clone())
            .unwrap_or_else(|| "rules".into());
        Ok(match planned {
            Ok(plan) => json!({"q": q, "planner": decided, "ms": ms, "plan": plan}),
            Err(err) => {
                json!({"q": q, "planner": decided, "ms": ms, "refusal": err.reason, "suggestions": err.suggestions})
            }
        })
    };
    if let Some(q) = &args.question {
        let result = plan_one(q, true)?;
        writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?;
        return Ok(());
    }
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut buf = String::new();
    for n in 1.. {
        buf.clear();
        // `take` bounds a line that never ends; one longer than the bound is an error.
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_line(&mut buf)
            .with_context(|| format!("cannot read line {n} of standard input"))?;
        if read == 0 {
            break;
        }
        if buf.len() > MAX_LINE_BYTES {
            bail!("line {n} of standard input is longer than {MAX_LINE_BYTES} bytes");
        }
        if n > MAX_QUESTIONS {
            bail!("more than {MAX_QUESTIONS} questions on standard input");
        }
        if buf.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(buf.trim())
            .with_context(|| format!("line {n} of standard input is not {{\"q\": \"...\"}}"))?;
        let result = plan_one(&line.q, line.mrio)?;
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
    }
    Ok(())
}

/// The labels of an MRIO file, as the planner reads them.
pub(crate) fn mrio_vocabulary(path: &Path) -> Result<MrioVocabulary> {
    let labels =
        MrioLabels::read(path).with_context(|| format!("cannot read the MRIO {}", path.display()))?;
    Ok(MrioVocabulary {
        path: path.display().to_string(),
        name: labels.name,
        regions: labels.regions,
        sectors: labels.sectors,
        stressors: labels.stressors,
    })
}
