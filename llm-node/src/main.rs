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
    /// Require `Authorization: Bearer KEY` on /v1 routes.
    #[arg(long, env = "CB_LLM_API_KEY")]
    api_key: Option<String>,
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
        api_key: a.api_key,
        max_batch: a.max_batch as usize,
        max_queue: a.max_queue as usize,
        max_model_len: a.max_model_len,
    };
    let started = std::time::Instant::now();
    let app = load(&a.model, &options)
        .with_context(|| format!("cannot load the model in {}", a.model.display()))?;
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
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
