//! A node: a checkpoint loaded on a device, its engine started, the router ready to serve.

use std::path::Path;
use std::sync::Arc;

use tch::{Device, Kind};

use crate::LlmError;
use crate::config::{Config, GenerationConfig};
use crate::engine::{self, EngineConfig};
use crate::metrics::Metrics;
use crate::models::CausalLm;
use crate::server::{AppState, router};
use crate::structured::Structured;
use crate::tokenizer::TextCodec;

/// How to run a node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub served_model_name: String,
    pub device: Device,
    pub kind: Kind,
    pub api_key: Option<String>,
    /// /metrics on a port of its own ([`load`]'s second router), not the API's.
    pub metrics_apart: bool,
    pub max_batch: usize,
    pub max_queue: usize,
    /// Tokens per sequence; the model's max_position_embeddings when absent.
    pub max_model_len: Option<usize>,
}

/// Parses `cpu`, `cuda` or `cuda:N`.
pub fn parse_device(s: &str) -> Result<Device, String> {
    match s {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        _ => s
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(Device::Cuda)
            .ok_or_else(|| format!("device {s:?}: use cpu, cuda or cuda:N")),
    }
}

/// Parses `bf16`, `f16` or `f32`.
pub fn parse_dtype(s: &str) -> Result<Kind, String> {
    match s {
        "bf16" | "bfloat16" => Ok(Kind::BFloat16),
        "f16" | "float16" => Ok(Kind::Half),
        "f32" | "float32" => Ok(Kind::Float),
        _ => Err(format!("dtype {s:?}: use bf16, f16 or f32")),
    }
}

/// Loads the checkpoint in `dir` and starts its engine; returns the router.
/// The API's router and the metrics' router.
pub fn load(dir: &Path, o: &NodeOptions) -> Result<(axum::Router, axum::Router), LlmError> {
    if let Device::Cuda(i) = o.device
        && !(tch::Cuda::is_available() && (i as i64) < tch::Cuda::device_count())
    {
        return Err(LlmError::Config {
            file: dir.display().to_string(),
            reason: format!(
                "device cuda:{i} is not available (this libtorch sees {} CUDA devices)",
                tch::Cuda::device_count()
            ),
        });
    }
    let config = Config::from_dir(dir)?;
    let generation = GenerationConfig::from_dir(dir)?;
    let codec = Arc::new(TextCodec::from_dir(dir)?);
    let context = o
        .max_model_len
        .unwrap_or(config.max_position_embeddings)
        .min(config.max_position_embeddings);
    let mut eos = generation.eos_token_ids();
    eos.extend(&config.eos_token_ids);
    eos.sort_unstable();
    eos.dedup();
    let model = CausalLm::load(dir, o.device, o.kind)?;
    let encoder = codec.clone();
    let structured = Arc::new(
        Structured::from_token_bytes(
            codec.token_bytes().to_vec(),
            &eos,
            Some(Arc::new(move |s: &[u8]| encoder.encode_plain(s))),
        )
        .map_err(|e| LlmError::Config {
            file: dir.join("tokenizer.json").display().to_string(),
            reason: format!("structured output cannot use this tokenizer: {e}"),
        })?,
    );
    let metrics = Arc::new(Metrics::new());
    let engine = engine::start(
        model,
        codec.clone(),
        structured.clone(),
        eos,
        EngineConfig {
            max_batch: o.max_batch,
            max_queue: o.max_queue,
            context,
        },
        metrics.clone(),
    );
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let state = Arc::new(AppState {
        engine,
        codec,
        structured,
        model_name: o.served_model_name.clone(),
        api_key: o.api_key.clone(),
        context,
        generation,
        metrics,
        started,
    });
    Ok((
        router(state.clone(), !o.metrics_apart),
        crate::server::metrics_router(state),
    ))
}
