//! A checkpoint's tensors: sharded `*.safetensors` (with `model.safetensors.index.json`) or one
//! `model.safetensors`, memory-mapped and copied straight to the target device and dtype, one
//! tensor at a time (no second copy of the checkpoint in host memory).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use tch::{Device, Kind, Tensor};

use crate::LlmError;

/// Named tensors on one device, in one dtype.
pub struct Weights {
    dir: PathBuf,
    tensors: HashMap<String, Tensor>,
}

fn kind_of(dtype: Dtype) -> Option<Kind> {
    match dtype {
        Dtype::F32 => Some(Kind::Float),
        Dtype::F16 => Some(Kind::Half),
        Dtype::BF16 => Some(Kind::BFloat16),
        _ => None,
    }
}

/// The shard files of a checkpoint directory.
fn shard_files(dir: &Path) -> Result<Vec<PathBuf>, LlmError> {
    let index = dir.join("model.safetensors.index.json");
    if index.exists() {
        let text = std::fs::read_to_string(&index).map_err(|e| LlmError::io(&index, e))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| LlmError::Checkpoint {
            path: index.display().to_string(),
            reason: e.to_string(),
        })?;
        let files: BTreeSet<String> = v["weight_map"]
            .as_object()
            .ok_or_else(|| LlmError::Checkpoint {
                path: index.display().to_string(),
                reason: "no weight_map object".into(),
            })?
            .values()
            .filter_map(|f| f.as_str().map(String::from))
            .collect();
        return Ok(files.into_iter().map(|f| dir.join(f)).collect());
    }
    let single = dir.join("model.safetensors");
    if single.exists() {
        return Ok(vec![single]);
    }
    Err(LlmError::Checkpoint {
        path: dir.display().to_string(),
        reason: "neither model.safetensors.index.json nor model.safetensors is there".into(),
    })
}

impl Weights {
    /// Loads every tensor of the checkpoint in `dir` onto `device` as `dtype`.
    pub fn load(dir: &Path, device: Device, dtype: Kind) -> Result<Weights, LlmError> {
        let mut tensors = HashMap::new();
        for path in shard_files(dir)? {
            let bad = |reason: String| LlmError::Checkpoint {
                path: path.display().to_string(),
                reason,
            };
            let file = std::fs::File::open(&path).map_err(|e| LlmError::io(&path, e))?;
            // SAFETY: the file is only read, and every tensor is copied out before the map drops.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| LlmError::io(&path, e))?;
            let st = SafeTensors::deserialize(&map).map_err(|e| bad(e.to_string()))?;
            for (name, view) in st.tensors() {
                let kind = kind_of(view.dtype()).ok_or_else(|| {
                    bad(format!(
                        "tensor {name} has dtype {:?}; expected F32, F16 or BF16",
                        view.dtype()
                    ))
                })?;
                let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
                let data = view.data();
                let numel: i64 = shape.iter().product();
                if data.len() as i64 != numel * kind.elt_size_in_bytes() as i64 {
                    return Err(bad(format!(
                        "tensor {name}: {} bytes for shape {shape:?}",
                        data.len()
                    )));
                }
                // SAFETY: `data` holds `numel` elements of `kind` and outlives the view, which is
                // copied (copy = true) to the target before the next iteration.
                let view = unsafe { Tensor::from_blob(data.as_ptr(), &shape, &[], kind, Device::Cpu) };
                let t = view.to_device_(device, dtype, false, true);
                tensors.insert(name, t);
            }
        }
        Ok(Weights {
            dir: dir.to_path_buf(),
            tensors,
        })
    }

    /// Random weights of the architecture `config` describes, made on `device` (normal, sd 0.02;
    /// norms 1): a model of a real shape costs what real weights cost, without a checkpoint.
    pub fn random(config: &crate::config::Config, device: Device, dtype: Kind, seed: i64) -> Weights {
        tch::manual_seed(seed);
        let (d, i, v) = (
            config.hidden_size as i64,
            config.intermediate_size as i64,
            config.vocab_size as i64,
        );
        let (q, kv, hd) = (
            (config.num_attention_heads * config.head_dim) as i64,
            (config.num_key_value_heads * config.head_dim) as i64,
            config.head_dim as i64,
        );
        let mut shapes: Vec<(String, Vec<i64>)> = vec![
            ("model.embed_tokens.weight".into(), vec![v, d]),
            ("model.norm.weight".into(), vec![d]),
        ];
        if !config.tie_word_embeddings {
            shapes.push(("lm_head.weight".into(), vec![v, d]));
        }
        for l in 0..config.num_hidden_layers {
            let p = format!("model.layers.{l}");
            for (name, shape) in [
                ("self_attn.q_proj.weight", vec![q, d]),
                ("self_attn.k_proj.weight", vec![kv, d]),
                ("self_attn.v_proj.weight", vec![kv, d]),
                ("self_attn.o_proj.weight", vec![d, q]),
                ("mlp.gate_proj.weight", vec![i, d]),
                ("mlp.up_proj.weight", vec![i, d]),
                ("mlp.down_proj.weight", vec![d, i]),
                ("input_layernorm.weight", vec![d]),
                ("post_attention_layernorm.weight", vec![d]),
            ] {
                shapes.push((format!("{p}.{name}"), shape));
            }
            if config.attention_bias {
                for (name, n) in [("q_proj", q), ("k_proj", kv), ("v_proj", kv)] {
                    shapes.push((format!("{p}.self_attn.{name}.bias"), vec![n]));
                }
            }
            if config.qk_norm {
                shapes.push((format!("{p}.self_attn.q_norm.weight"), vec![hd]));
                shapes.push((format!("{p}.self_attn.k_norm.weight"), vec![hd]));
            }
        }
        let tensors = shapes
            .into_iter()
            .map(|(name, shape)| {
                let t = if shape.len() == 1 && name.ends_with("norm.weight") {
                    Tensor::ones(&shape, (dtype, device))
                } else {
                    Tensor::randn(&shape, (dtype, device)) * 0.02
                };
                (name, t)
            })
            .collect();
        Weights {
            dir: PathBuf::from("(random weights)"),
            tensors,
        }
    }

    /// Takes a tensor out, checking its shape.
    pub fn take(&mut self, name: &str, shape: &[i64]) -> Result<Tensor, LlmError> {
        let t = self.tensors.remove(name).ok_or_else(|| LlmError::Checkpoint {
            path: self.dir.display().to_string(),
            reason: format!("tensor {name} is missing"),
        })?;
        if t.size() != shape {
            return Err(LlmError::Checkpoint {
                path: self.dir.display().to_string(),
                reason: format!(
                    "tensor {name} has shape {:?}, the config says {shape:?}",
                    t.size()
                ),
            });
        }
        Ok(t)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}
