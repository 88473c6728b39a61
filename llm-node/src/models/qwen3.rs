//! Qwen3: grouped-query attention without q/k/v bias, with an RMSNorm over each head of the
//! queries and keys before RoPE.

use tch::Tensor;

use super::decoder::{self, QkvProjection, heads};
use super::layers::{Linear, RmsNorm};
use crate::LlmError;
use crate::config::Config;
use crate::weights::Weights;

/// Qwen3's attention projections: `q = RMSNorm_head(x·W_qᵀ)`, `k = RMSNorm_head(x·W_kᵀ)`, `v = x·W_vᵀ`.
pub struct Qwen3Qkv {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
}

impl QkvProjection for Qwen3Qkv {
    fn new(w: &mut Weights, prefix: &str, cfg: &Config) -> Result<Self, LlmError> {
        let (h, kv, d, bias) = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
            cfg.attention_bias,
        );
        Ok(Qwen3Qkv {
            q_proj: Linear::new(w, &format!("{prefix}.q_proj"), h * d, cfg.hidden_size, bias)?,
            k_proj: Linear::new(w, &format!("{prefix}.k_proj"), kv * d, cfg.hidden_size, bias)?,
            v_proj: Linear::new(w, &format!("{prefix}.v_proj"), kv * d, cfg.hidden_size, bias)?,
            q_norm: RmsNorm::new(w, &format!("{prefix}.q_norm"), d, cfg.rms_norm_eps)?,
            k_norm: RmsNorm::new(w, &format!("{prefix}.k_norm"), d, cfg.rms_norm_eps)?,
            num_heads: h,
            num_kv_heads: kv,
            head_dim: d,
        })
    }

    fn forward(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        // The norms act on the last dimension, the head's: normalise before moving heads forward.
        let split = |t: &Tensor, n: usize| {
            let s = t.size();
            t.view([s[0], s[1], n as i64, self.head_dim as i64])
        };
        let q = self
            .q_norm
            .forward(&split(&self.q_proj.forward(x), self.num_heads))
            .transpose(1, 2);
        let k = self
            .k_norm
            .forward(&split(&self.k_proj.forward(x), self.num_kv_heads))
            .transpose(1, 2);
        (
            q,
            k,
            heads(&self.v_proj.forward(x), self.num_kv_heads, self.head_dim),
        )
    }
}

/// A Qwen3 causal language model.
pub type Qwen3 = decoder::Model<Qwen3Qkv>;
