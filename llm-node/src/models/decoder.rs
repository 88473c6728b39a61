//! The decoder both Qwen generations share — embeddings, pre-norm layers of attention and MLP
//! with residuals, final norm, LM head — and the KV cache the scheduler batches over. What
//! differs between architectures is how the attention projects queries, keys and values
//! ([`QkvProjection`]), defined in `qwen2.rs` and `qwen3.rs`.

use tch::{Device, Kind, Tensor};

use super::layers::{Linear, Mlp, RmsNorm, RotaryEmbedding};
use crate::LlmError;
use crate::config::Config;
use crate::weights::Weights;

/// Queries, keys and values of an attention layer, `[B, heads, T, head_dim]` before RoPE.
pub trait QkvProjection: Sized + Send {
    fn new(w: &mut Weights, prefix: &str, cfg: &Config) -> Result<Self, LlmError>;
    fn forward(&self, x: &Tensor) -> (Tensor, Tensor, Tensor);
}

/// Splits `[B, T, heads·d]` into `[B, heads, T, d]`.
pub fn heads(x: &Tensor, n: usize, d: usize) -> Tensor {
    let s = x.size();
    x.view([s[0], s[1], n as i64, d as i64]).transpose(1, 2)
}

/// Keys and values of every layer for `slots` sequences of up to `capacity` tokens:
/// `[slots, kv_heads, capacity, head_dim]` per layer. Running sequences occupy slots `0..B`, so a
/// decode step reads the first `B` slots as a view.
pub struct KvCache {
    k: Vec<Tensor>,
    v: Vec<Tensor>,
    pub slots: usize,
    pub capacity: usize,
}

impl KvCache {
    pub fn new(cfg: &Config, slots: usize, capacity: usize, device: Device, kind: Kind) -> KvCache {
        let shape = [
            slots as i64,
            cfg.num_key_value_heads as i64,
            capacity as i64,
            cfg.head_dim as i64,
        ];
        let zeros = || Tensor::zeros(shape, (kind, device));
        KvCache {
            k: (0..cfg.num_hidden_layers).map(|_| zeros()).collect(),
            v: (0..cfg.num_hidden_layers).map(|_| zeros()).collect(),
            slots,
            capacity,
        }
    }

    /// Moves the first `len` positions of slot `from` to slot `to` (to keep running slots
    /// contiguous when a sequence leaves).
    pub fn move_slot(&mut self, from: usize, to: usize, len: usize) {
        if from == to || len == 0 {
            return;
        }
        for cache in self.k.iter_mut().chain(self.v.iter_mut()) {
            let src = cache.narrow(0, from as i64, 1).narrow(2, 0, len as i64);
            cache.narrow(0, to as i64, 1).narrow(2, 0, len as i64).copy_(&src);
        }
    }
}

struct Attention<P> {
    qkv: P,
    o_proj: Linear,
    num_heads: usize,
    head_dim: usize,
}

impl<P: QkvProjection> Attention<P> {
    fn new(w: &mut Weights, prefix: &str, cfg: &Config) -> Result<Self, LlmError> {
        Ok(Attention {
            qkv: P::new(w, prefix, cfg)?,
            o_proj: Linear::new(
                w,
                &format!("{prefix}.o_proj"),
                cfg.hidden_size,
                cfg.num_attention_heads * cfg.head_dim,
                false,
            )?,
            num_heads: cfg.num_attention_heads,
            head_dim: cfg.head_dim,
        })
    }

    /// One sequence's prompt (`x`: `[1, T, D]`) into `slot`, causal attention over itself.
    fn prefill(
        &self,
        x: &Tensor,
        rope: &RotaryEmbedding,
        positions: &Tensor,
        k_cache: &Tensor,
        v_cache: &Tensor,
        slot: usize,
    ) -> Tensor {
        let (q, k, v) = self.qkv.forward(x);
        let (q, k) = (rope.forward(&q, positions), rope.forward(&k, positions));
        let t = x.size()[1];
        k_cache.narrow(0, slot as i64, 1).narrow(2, 0, t).copy_(&k);
        v_cache.narrow(0, slot as i64, 1).narrow(2, 0, t).copy_(&v);
        let y = Tensor::scaled_dot_product_attention(&q, &k, &v, None::<Tensor>, 0.0, true, None, true);
        self.output(&y)
    }

    /// One new token for each of the first `B` slots (`x`: `[B, 1, D]`), at `positions`
    /// (`[B, 1]`); attends over each slot's cache up to and including its position.
    fn decode(
        &self,
        x: &Tensor,
        rope: &RotaryEmbedding,
        positions: &Tensor,
        span: i64,
        k_cache: &Tensor,
        v_cache: &Tensor,
    ) -> Tensor {
        let b = x.size()[0];
        let (q, k, v) = self.qkv.forward(x);
        let (q, k) = (rope.forward(&q, positions), rope.forward(&k, positions));
        let index = positions
            .view([b, 1, 1, 1])
            .expand([b, k.size()[1], 1, self.head_dim as i64], false);
        let mut kc = k_cache.narrow(0, 0, b);
        let mut vc = v_cache.narrow(0, 0, b);
        let _ = kc.scatter_(2, &index, &k);
        let _ = vc.scatter_(2, &index, &v);
        let keys = kc.narrow(2, 0, span);
        let values = vc.narrow(2, 0, span);
        // Each sequence attends to its own positions only.
        let mask = Tensor::arange(span, (Kind::Int64, x.device()))
            .view([1, span])
            .le_tensor(positions)
            .view([b, 1, 1, span]);
        let y = Tensor::scaled_dot_product_attention(&q, &keys, &values, Some(mask), 0.0, false, None, true);
        self.output(&y)
    }

    fn output(&self, y: &Tensor) -> Tensor {
        let s = y.size();
        let y = y
            .transpose(1, 2)
            .contiguous()
            .view([s[0], s[2], (self.num_heads * self.head_dim) as i64]);
        self.o_proj.forward(&y)
    }
}

struct DecoderLayer<P> {
    self_attn: Attention<P>,
    mlp: Mlp,
    input_layernorm: RmsNorm,
    post_attention_layernorm: RmsNorm,
}

impl<P: QkvProjection> DecoderLayer<P> {
    fn new(w: &mut Weights, prefix: &str, cfg: &Config) -> Result<Self, LlmError> {
        Ok(DecoderLayer {
            self_attn: Attention::new(w, &format!("{prefix}.self_attn"), cfg)?,
            mlp: Mlp::new(
                w,
                &format!("{prefix}.mlp"),
                cfg.hidden_size,
                cfg.intermediate_size,
            )?,
            input_layernorm: RmsNorm::new(
                w,
                &format!("{prefix}.input_layernorm"),
                cfg.hidden_size,
                cfg.rms_norm_eps,
            )?,
            post_attention_layernorm: RmsNorm::new(
                w,
                &format!("{prefix}.post_attention_layernorm"),
                cfg.hidden_size,
                cfg.rms_norm_eps,
            )?,
        })
    }

    fn forward(&self, x: &Tensor, attend: impl FnOnce(&Attention<P>, &Tensor) -> Tensor) -> Tensor {
        let h = x + attend(&self.self_attn, &self.input_layernorm.forward(x));
        &h + self.mlp.forward(&self.post_attention_layernorm.forward(&h))
    }
}

/// A Qwen causal language model.
pub struct Model<P> {
    pub config: Config,
    embed_tokens: Tensor,
    layers: Vec<DecoderLayer<P>>,
    norm: RmsNorm,
    lm_head: Linear,
    rope: RotaryEmbedding,
    pub device: Device,
    pub kind: Kind,
}

impl<P: QkvProjection> Model<P> {
    pub fn new(config: Config, mut w: Weights, device: Device, kind: Kind) -> Result<Self, LlmError> {
        let cfg = &config;
        let embed_tokens = w.take(
            "model.embed_tokens.weight",
            &[cfg.vocab_size as i64, cfg.hidden_size as i64],
        )?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| DecoderLayer::new(&mut w, &format!("model.layers.{i}"), cfg))
            .collect::<Result<Vec<_>, _>>()?;
        let norm = RmsNorm::new(&mut w, "model.norm", cfg.hidden_size, cfg.rms_norm_eps)?;
        let lm_head = if cfg.tie_word_embeddings && !w.contains("lm_head.weight") {
            Linear::from_weight(embed_tokens.shallow_clone())
        } else {
            Linear::new(&mut w, "lm_head", cfg.vocab_size, cfg.hidden_size, false)?
        };
        let rope = RotaryEmbedding::new(
            cfg.head_dim,
            cfg.max_position_embeddings,
            cfg.rope_theta,
            device,
            kind,
        );
        Ok(Model {
            config,
            embed_tokens,
            layers,
            norm,
            lm_head,
            rope,
            device,
            kind,
        })
    }

    fn tokens(&self, ids: &[i64], shape: [i64; 2]) -> Tensor {
        Tensor::from_slice(ids).view(shape).to_device(self.device)
    }

    /// Runs one sequence's prompt into `slot` of the cache; returns the logits of every position
    /// (`[T, vocab]`, f32).
    pub fn prefill(&self, ids: &[i64], slot: usize, cache: &mut KvCache) -> Tensor {
        let t = ids.len() as i64;
        let x = self.embed_tokens.embedding_lookup(&self.tokens(ids, [1, t]));
        let positions = Tensor::arange(t, (Kind::Int64, self.device)).view([1, t]);
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            let (kc, vc) = (&cache.k[i], &cache.v[i]);
            h = layer.forward(&h, |attn, x| {
                attn.prefill(x, &self.rope, &positions, kc, vc, slot)
            });
        }
        self.lm_head
            .forward(&self.norm.forward(&h))
            .squeeze_dim(0)
            .to_kind(Kind::Float)
    }

    /// One decode step for the first `ids.len()` slots: token `ids[b]` at position
    /// `positions[b]`; returns the next-token logits (`[B, vocab]`, f32).
    pub fn decode(&self, ids: &[i64], positions: &[i64], cache: &mut KvCache) -> Tensor {
        let b = ids.len() as i64;
        let x = self.embed_tokens.embedding_lookup(&self.tokens(ids, [b, 1]));
        let pos = self.tokens(positions, [b, 1]);
        let span = positions.iter().max().map_or(1, |p| p + 1);
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            let (kc, vc) = (&cache.k[i], &cache.v[i]);
            h = layer.forward(&h, |attn, x| attn.decode(x, &self.rope, &pos, span, kc, vc));
        }
        self.lm_head
            .forward(&self.norm.forward(&h))
            .squeeze_dim(1)
            .to_kind(Kind::Float)
    }
}

/// The embedding lookup, named for what it is.
trait EmbeddingLookup {
    fn embedding_lookup(&self, ids: &Tensor) -> Tensor;
}

impl EmbeddingLookup for Tensor {
    fn embedding_lookup(&self, ids: &Tensor) -> Tensor {
        Tensor::embedding(self, ids, -1, false, false)
    }
}
