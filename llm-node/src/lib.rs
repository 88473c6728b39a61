//! The LLM node: Qwen2 and Qwen3 checkpoints run on libtorch (tch), served behind an
//! OpenAI-compatible HTTP API.
//!
//! * [`config`]: `config.json` and `generation_config.json`.
//! * [`weights`]: memory-mapped safetensors shards, copied straight to the device and dtype.
//! * [`models`]: one file per architecture on a shared decoder; the KV cache.
//! * [`tokenizer`]: `tokenizer.json`, the chat template, token bytes, streaming text.
//! * [`sampling`]: penalties, temperature, top-k/top-p, seeds, masks, logprobs.
//! * [`structured`]: JSON Schema → llguidance → allowed-token masks, bounded per token.
//! * [`engine`]: the continuous-batching scheduler on its own thread; [`metrics`].
//! * [`openai`]: request and response shapes and validation; [`server`]: the axum handlers.
//! * [`node`]: loading a checkpoint and serving it (what the `cb-llm-node` binary runs).

pub mod config;
pub mod engine;
pub mod metrics;
pub mod models;
pub mod node;
pub mod openai;
pub mod sampling;
pub mod server;
pub mod structured;
pub mod telemetry;
pub mod tokenizer;
pub mod weights;

use std::path::Path;

/// Why the node cannot load or run a model.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{file}: {reason}")]
    Config { file: String, reason: String },
    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: String, reason: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl LlmError {
    pub fn io(path: &Path, source: std::io::Error) -> LlmError {
        LlmError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
