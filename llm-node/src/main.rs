//! `cb-llm-node`: serves a Qwen2/Qwen3 checkpoint behind an OpenAI-compatible API.

use std::path::PathBuf;

use anyhow::{Context, Result};
use cb_llm_node::node::{NodeOptions, load, parse_device, parse_dtype};
use clap::Parser;

/// Serve a Hugging Face Qwen2/Qwen3 checkpoint (safetensors) with an OpenAI-compatible API.
#[derive(Debug, Parser)]
#[command(name = "cb-llm-node", version)]
struct Args {
    /// Checkpoint directory: config.json, *.safetensors, tokenizer.json, tokenizer_config.json.
    #[arg(long)]
    model: PathBuf,
    /// The model name clients ask for (default: the directory's name).
    #[arg(long)]
    served_model_name: Option<String>,
    #[arg(long, default_value = "bf16", value_parser = parse_dtype)]
    dtype: tch::Kind,
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    device: tch::Device,
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: String,
    /// Require `Authorization: Bearer KEY` on /v1 routes, KEY read from this file (or from the
    /// variable CB_LLM_API_KEY). Never on the command line, where every local user sees it.
    #[arg(long)]
    api_key_file: Option<PathBuf>,
    /// Serve /metrics on this address alone (no key) instead of the API's port.
    #[arg(long)]
    metrics_listen: Option<String>,
    /// On SIGTERM or Ctrl-C, seconds running requests may take to finish before the node exits.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    drain_seconds: u64,
    /// Sequences decoded together.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_batch: u32,
    /// Requests that may wait; more are answered 429.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_queue: u32,
    /// Tokens per sequence (prompt + completion); the model's maximum when absent.
    #[arg(long)]
    max_model_len: Option<usize>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    // Spans go out over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed when main returns.
    let _telemetry = cb_telemetry::init("cb-llm-node");
    let name = a.served_model_name.clone().unwrap_or_else(|| {
        a.model
            .file_name()
            .map_or("model".into(), |n| n.to_string_lossy().to_string())
    });
    let options = NodeOptions {
        served_model_name: name.clone(),
        device: a.device,
        kind: a.dtype,
        api_key: api_key(a.api_key_file.as_deref())?,
        metrics_apart: a.metrics_listen.is_some(),
        max_batch: a.max_batch as usize,
        max_queue: a.max_queue as usize,
        max_model_len: a.max_model_len,
    };
    let started = std::time::Instant::now();
    let (app, metrics) = load(&a.model, &options)
        .with_context(|| format!("cannot load the model in {}", a.model.display()))?;
    if let Some(addr) = &a.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--metrics-listen: cannot listen on {addr}"))?;
        eprintln!(
            "cb-llm-node: metrics on http://{}/metrics",
            listener.local_addr()?
        );
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                eprintln!("warning: the metrics endpoint stopped: {e}");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    eprintln!(
        "cb-llm-node: {name} loaded in {:.1} s on {:?} ({:?}); listening on http://{}",
        started.elapsed().as_secs_f64(),
        a.device,
        a.dtype,
        listener.local_addr()?
    );
    // On SIGTERM (Kubernetes) or Ctrl-C: stop accepting, let running requests finish their
    // answers for up to --drain-seconds, then exit.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut stopped = stop_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped.wait_for(|s| *s).await;
        eprintln!("cb-llm-node: stopping; running requests may finish");
    });
    let drain = std::time::Duration::from_secs(a.drain_seconds);
    tokio::select! {
        r = server => r?,
        _ = async {
            let _ = stop_rx.wait_for(|s| *s).await;
            tokio::time::sleep(drain).await;
        } => eprintln!("cb-llm-node: requests still running after {} s; exiting", a.drain_seconds),
    }
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The API key from `--api-key-file` or CB_LLM_API_KEY (not both); none: the API is open.
fn api_key(file: Option<&std::path::Path>) -> Result<Option<String>> {
    let from_env = std::env::var("CB_LLM_API_KEY").ok().filter(|k| !k.is_empty());
    let key = match (file, from_env) {
        (Some(_), Some(_)) => anyhow::bail!("give the API key in --api-key-file or CB_LLM_API_KEY, not both"),
        (Some(path), None) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("--api-key-file {}", path.display()))?
                .trim()
                .to_string(),
        ),
        (None, key) => key,
    };
    if key.as_deref().is_some_and(str::is_empty) {
        anyhow::bail!("the API key file is empty");
    }
    Ok(key)
}
