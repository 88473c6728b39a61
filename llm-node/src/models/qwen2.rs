//! Qwen2 (and Qwen2.5): grouped-query attention whose q, k and v projections carry a bias.

use tch::Tensor;

use super::decoder::{self, QkvProjection, heads};
use super::layers::Linear;
use crate::LlmError;
use crate::config::Config;
use crate::weights::Weights;

/// Qwen2's attention projections: `q = x·W_qᵀ + b_q` (and so for k, v), split into heads.
pub struct Qwen2Qkv {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
}

impl QkvProjection for Qwen2Qkv {
    fn new(w: &mut Weights, prefix: &str, cfg: &Config) -> Result<Self, LlmError> {
        let (h, kv, d, bias) = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
            cfg.attention_bias,
        );
        Ok(Qwen2Qkv {
            q_proj: Linear::new(w, &format!("{prefix}.q_proj"), h * d, cfg.hidden_size, bias)?,
            k_proj: Linear::new(w, &format!("{prefix}.k_proj"), kv * d, cfg.hidden_size, bias)?,
            v_proj: Linear::new(w, &format!("{prefix}.v_proj"), kv * d, cfg.hidden_size, bias)?,
            num_heads: h,
            num_kv_heads: kv,
            head_dim: d,
        })
    }

    fn forward(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        (
            heads(&self.q_proj.forward(x), self.num_heads, self.head_dim),
            heads(&self.k_proj.forward(x), self.num_kv_heads, self.head_dim),
            heads(&self.v_proj.forward(x), self.num_kv_heads, self.head_dim),
        )
    }
}

/// A Qwen2 causal language model.
pub type Qwen2 = decoder::Model<Qwen2Qkv>;
