//! A Hugging Face checkpoint's `config.json` and `generation_config.json`, for Qwen2 and Qwen3.

use std::path::Path;

use serde::Deserialize;

use crate::LlmError;

/// Which architecture a checkpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Architecture {
    #[serde(rename = "qwen2")]
    Qwen2,
    #[serde(rename = "qwen3")]
    Qwen3,
}

/// transformers 5 writes the RoPE settings as `rope_parameters`.
#[derive(Debug, Clone, Deserialize)]
struct RopeParameters {
    rope_theta: Option<f64>,
    #[serde(default)]
    rope_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    model_type: Architecture,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    max_position_embeddings: usize,
    rms_norm_eps: f64,
    rope_theta: Option<f64>,
    rope_parameters: Option<RopeParameters>,
    rope_scaling: Option<serde_json::Value>,
    #[serde(default)]
    tie_word_embeddings: bool,
    /// Qwen3 names it; Qwen2 always has q/k/v bias.
    attention_bias: Option<bool>,
    #[serde(default)]
    hidden_act: Option<String>,
    #[serde(default)]
    eos_token_id: Option<serde_json::Value>,
}

/// The model's shape and constants, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub architecture: Architecture,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub max_position_embeddings: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub tie_word_embeddings: bool,
    /// q/k/v projections carry a bias (Qwen2; Qwen3 with `attention_bias`).
    pub attention_bias: bool,
    /// Per-head RMSNorm of queries and keys (Qwen3).
    pub qk_norm: bool,
    pub eos_token_ids: Vec<u32>,
}

fn ids(v: &Option<serde_json::Value>) -> Vec<u32> {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_u64()).map(|x| x as u32).collect(),
        _ => Vec::new(),
    }
}

impl Config {
    /// Parses and checks a `config.json`.
    pub fn from_json(text: &str, origin: &str) -> Result<Config, LlmError> {
        let bad = |reason: String| LlmError::Config {
            file: origin.to_string(),
            reason,
        };
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if let Some(act) = &raw.hidden_act
            && act != "silu"
        {
            return Err(bad(format!(
                "hidden_act {act:?} is not supported (Qwen uses silu)"
            )));
        }
        let rope_type = raw.rope_parameters.as_ref().and_then(|p| p.rope_type.clone());
        if rope_type.as_deref().is_some_and(|t| t != "default")
            || raw.rope_scaling.as_ref().is_some_and(|v| !v.is_null())
        {
            return Err(bad("RoPE scaling is not supported; only default RoPE".into()));
        }
        let rope_theta = raw
            .rope_parameters
            .as_ref()
            .and_then(|p| p.rope_theta)
            .or(raw.rope_theta)
            .ok_or_else(|| bad("neither rope_theta nor rope_parameters.rope_theta is given".into()))?;
        let heads = raw.num_attention_heads;
        let kv = raw.num_key_value_heads.unwrap_or(heads);
        if heads == 0 || kv == 0 || !heads.is_multiple_of(kv) {
            return Err(bad(format!(
                "num_attention_heads {heads} must be a positive multiple of num_key_value_heads {kv}"
            )));
        }
        let head_dim = match raw.head_dim {
            Some(d) => d,
            None if raw.hidden_size.is_multiple_of(heads) => raw.hidden_size / heads,
            None => {
                return Err(bad(format!(
                    "hidden_size {} is not divisible by {heads} heads",
                    raw.hidden_size
                )));
            }
        };
        if !head_dim.is_multiple_of(2) {
            return Err(bad(format!("head_dim {head_dim} must be even for RoPE")));
        }
        let qwen3 = raw.model_type == Architecture::Qwen3;
        Ok(Config {
            architecture: raw.model_type,
            vocab_size: raw.vocab_size,
            hidden_size: raw.hidden_size,
            intermediate_size: raw.intermediate_size,
            num_hidden_layers: raw.num_hidden_layers,
            num_attention_heads: heads,
            num_key_value_heads: kv,
            head_dim,
            max_position_embeddings: raw.max_position_embeddings,
            rms_norm_eps: raw.rms_norm_eps,
            rope_theta,
            tie_word_embeddings: raw.tie_word_embeddings,
            attention_bias: raw.attention_bias.unwrap_or(!qwen3),
            qk_norm: qwen3,
            eos_token_ids: ids(&raw.eos_token_id),
        })
    }

    pub fn from_dir(dir: &Path) -> Result<Config, LlmError> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| LlmError::io(&path, e))?;
        Config::from_json(&text, &path.display().to_string())
    }
}

/// Defaults from `generation_config.json` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GenerationConfig {
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<usize>,
    #[serde(default)]
    pub repetition_penalty: Option<f64>,
    #[serde(default)]
    eos_token_id: Option<serde_json::Value>,
}

impl GenerationConfig {
    /// Reads `generation_config.json` where the checkpoint has one.
    pub fn from_dir(dir: &Path) -> Result<GenerationConfig, LlmError> {
        let path = dir.join("generation_config.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| LlmError::Config {
                file: path.display().to_string(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(GenerationConfig::default()),
            Err(e) => Err(LlmError::io(&path, e)),
        }
    }

    pub fn eos_token_ids(&self) -> Vec<u32> {
        ids(&self.eos_token_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QWEN25_32B: &str = r#"{"architectures":["Qwen2ForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,
      "eos_token_id":151645,"hidden_act":"silu","hidden_size":5120,"initializer_range":0.02,"intermediate_size":27648,
      "max_position_embeddings":32768,"max_window_layers":70,"model_type":"qwen2","num_attention_heads":40,
      "num_hidden_layers":64,"num_key_value_heads":8,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":131072,
      "tie_word_embeddings":false,"torch_dtype":"bfloat16","transformers_version":"4.43.1","use_cache":true,
      "use_sliding_window":false,"vocab_size":152064}"#;

    #[test]
    fn qwen25_32b_and_the_transformers_5_rope_form() {
        let c = Config::from_json(QWEN25_32B, "config.json").unwrap();
        assert_eq!(
            (
                c.num_hidden_layers,
                c.hidden_size,
                c.intermediate_size,
                c.num_attention_heads,
                c.num_key_value_heads
            ),
            (64, 5120, 27648, 40, 8)
        );
        assert_eq!((c.head_dim, c.vocab_size, c.rope_theta), (128, 152064, 1e6));
        assert!(c.attention_bias && !c.qk_norm && !c.tie_word_embeddings);
        let v5 = QWEN25_32B.replace(
            r#""rope_theta":1000000.0"#,
            r#""rope_parameters":{"rope_theta":1000000.0,"rope_type":"default"}"#,
        );
        assert_eq!(Config::from_json(&v5, "config.json").unwrap(), c);
        let qwen3 = QWEN25_32B.replace(
            r#""model_type":"qwen2""#,
            r#""model_type":"qwen3","head_dim":128,"attention_bias":false"#,
        );
        let c3 = Config::from_json(&qwen3, "config.json").unwrap();
        assert!(c3.qk_norm && !c3.attention_bias);
    }

    #[test]
    fn bad_configs_are_named() {
        let e = Config::from_json(
            &QWEN25_32B.replace(r#""rope_theta":1000000.0,"#, ""),
            "x/config.json",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("x/config.json") && e.to_string().contains("rope_theta"),
            "{e}"
        );
        let e = Config::from_json(
            &QWEN25_32B.replace(r#""num_key_value_heads":8"#, r#""num_key_value_heads":7"#),
            "c",
        )
        .unwrap_err();
        assert!(e.to_string().contains("multiple"), "{e}");
        let e = Config::from_json(&QWEN25_32B.replace("qwen2", "llama"), "c").unwrap_err();
        assert!(e.to_string().contains("llama"), "{e}");
    }
}
