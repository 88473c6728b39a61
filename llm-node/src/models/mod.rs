//! The model files, one per architecture (`qwen2.rs`, `qwen3.rs`), on a shared decoder.

pub mod decoder;
pub mod layers;
pub mod qwen2;
pub mod qwen3;

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::LlmError;
use crate::config::{Architecture, Config};
use crate::weights::Weights;
pub use decoder::KvCache;

/// A loaded model of either architecture.
pub enum CausalLm {
    Qwen2(qwen2::Qwen2),
    Qwen3(qwen3::Qwen3),
}

impl CausalLm {
    /// Loads `config.json` and the weights of the checkpoint in `dir`.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<CausalLm, LlmError> {
        let config = Config::from_dir(dir)?;
        let weights = Weights::load(dir, device, kind)?;
        Ok(match config.architecture {
            Architecture::Qwen2 => CausalLm::Qwen2(qwen2::Qwen2::new(config, weights, device, kind)?),
            Architecture::Qwen3 => CausalLm::Qwen3(qwen3::Qwen3::new(config, weights, device, kind)?),
        })
    }

    /// A model of `config`'s shape with random weights (benchmarks: same cost as real weights).
    pub fn random(config: Config, device: Device, kind: Kind) -> Result<CausalLm, LlmError> {
        let weights = Weights::random(&config, device, kind, 0);
        Ok(match config.architecture {
            Architecture::Qwen2 => CausalLm::Qwen2(qwen2::Qwen2::new(config, weights, device, kind)?),
            Architecture::Qwen3 => CausalLm::Qwen3(qwen3::Qwen3::new(config, weights, device, kind)?),
        })
    }

    pub fn config(&self) -> &Config {
        match self {
            CausalLm::Qwen2(m) => &m.config,
            CausalLm::Qwen3(m) => &m.config,
        }
    }

    pub fn device_and_kind(&self) -> (Device, Kind) {
        match self {
            CausalLm::Qwen2(m) => (m.device, m.kind),
            CausalLm::Qwen3(m) => (m.device, m.kind),
        }
    }

    pub fn new_cache(&self, slots: usize, capacity: usize) -> KvCache {
        let (device, kind) = self.device_and_kind();
        KvCache::new(self.config(), slots, capacity, device, kind)
    }

    pub fn prefill(&self, ids: &[i64], slot: usize, cache: &mut KvCache) -> Tensor {
        match self {
            CausalLm::Qwen2(m) => m.prefill(ids, slot, cache),
            CausalLm::Qwen3(m) => m.prefill(ids, slot, cache),
        }
    }

    pub fn decode(&self, ids: &[i64], positions: &[i64], cache: &mut KvCache) -> Tensor {
        match self {
            CausalLm::Qwen2(m) => m.decode(ids, positions, cache),
            CausalLm::Qwen3(m) => m.decode(ids, positions, cache),
        }
    }
}
