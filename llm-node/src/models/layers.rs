//! The pieces Qwen2 and Qwen3 share: linear layers, RMSNorm, rotary embeddings, the SwiGLU MLP.

use tch::{Device, Kind, Tensor};

use crate::LlmError;
use crate::weights::Weights;

/// `y = x·Wᵀ + b`.
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    pub fn new(w: &mut Weights, prefix: &str, out: usize, inp: usize, bias: bool) -> Result<Self, LlmError> {
        Ok(Linear {
            weight: w.take(&format!("{prefix}.weight"), &[out as i64, inp as i64])?,
            bias: if bias {
                Some(w.take(&format!("{prefix}.bias"), &[out as i64])?)
            } else {
                None
            },
        })
    }

    pub fn from_weight(weight: Tensor) -> Self {
        Linear { weight, bias: None }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
    }
}

/// RMSNorm: `y = w ⊙ x / √(mean(x²) + ε)`, computed in f32 and cast back (as transformers does).
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(w: &mut Weights, name: &str, size: usize, eps: f64) -> Result<Self, LlmError> {
        Ok(RmsNorm {
            weight: w.take(&format!("{name}.weight"), &[size as i64])?,
            eps,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let kind = x.kind();
        let xf = x.to_kind(Kind::Float);
        let var = xf.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
        let normed = (xf * (var + self.eps).rsqrt()).to_kind(kind);
        &self.weight * normed
    }
}

/// Rotary position embedding: `cos` and `sin` of `p·θ^(−2i/d)` for every position up to the
/// context length, with the frequencies repeated over both halves (the "rotate half" layout).
pub struct RotaryEmbedding {
    cos: Tensor,
    sin: Tensor,
}

impl RotaryEmbedding {
    pub fn new(head_dim: usize, max_positions: usize, theta: f64, device: Device, kind: Kind) -> Self {
        let half = (head_dim / 2) as i64;
        let inv_freq = (Tensor::arange(half, (Kind::Float, Device::Cpu)) * (2.0 / head_dim as f64))
            .multiply_scalar(-theta.ln())
            .exp();
        let positions = Tensor::arange(max_positions as i64, (Kind::Float, Device::Cpu));
        let freqs = positions.outer(&inv_freq);
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        RotaryEmbedding {
            cos: emb.cos().to_device(device).to_kind(kind),
            sin: emb.sin().to_device(device).to_kind(kind),
        }
    }

    fn rotate_half(x: &Tensor) -> Tensor {
        let half = x.size()[3] / 2;
        Tensor::cat(&[&x.narrow(3, half, half).neg(), &x.narrow(3, 0, half)], 3)
    }

    /// Rotates `x` (`[B, H, T, d]`) for the positions `positions` (`[B, T]`, int64).
    pub fn forward(&self, x: &Tensor, positions: &Tensor) -> Tensor {
        let cos = self.cos.index_select(0, &positions.flatten(0, 1));
        let sin = self.sin.index_select(0, &positions.flatten(0, 1));
        let (b, t) = (positions.size()[0], positions.size()[1]);
        let d = cos.size()[1];
        let cos = cos.view([b, 1, t, d]);
        let sin = sin.view([b, 1, t, d]);
        x * cos + Self::rotate_half(x) * sin
    }
}

/// The SwiGLU MLP: `down(silu(gate(x)) ⊙ up(x))`.
pub struct Mlp {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

impl Mlp {
    pub fn new(w: &mut Weights, prefix: &str, hidden: usize, intermediate: usize) -> Result<Self, LlmError> {
        Ok(Mlp {
            gate_proj: Linear::new(w, &format!("{prefix}.gate_proj"), intermediate, hidden, false)?,
            up_proj: Linear::new(w, &format!("{prefix}.up_proj"), intermediate, hidden, false)?,
            down_proj: Linear::new(w, &format!("{prefix}.down_proj"), hidden, intermediate, false)?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.down_proj
            .forward(&(self.gate_proj.forward(x).silu() * self.up_proj.forward(x)))
    }
}
