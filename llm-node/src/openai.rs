//! The OpenAI API's request and response shapes, and the validation of requests (apart from
//! scheduling: a request that passes here is ready for the engine).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An API error: HTTP status and OpenAI's error body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub param: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn bad(param: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            kind: "invalid_request_error",
            code: None,
            param: Some(param.to_string()),
            message: message.into(),
        }
    }

    pub fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}})
    }
}

/// Characters one stop string may have (each is searched for in the text after every token).
pub const MAX_STOP_CHARS: usize = 128;

/// `stop`: a string or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

/// The parameters chat and text completions share.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Common {
    pub model: String,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    /// Not OpenAI's; vLLM's and ours.
    pub top_k: Option<i64>,
    pub n: Option<u32>,
    #[serde(default)]
    pub stream: bool,
    pub stream_options: Option<StreamOptions>,
    pub stop: Option<Stop>,
    pub max_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    /// Not OpenAI's; transformers' and ours.
    pub repetition_penalty: Option<f64>,
    pub seed: Option<u64>,
    /// Not OpenAI's; vLLM's: generate past EOS up to max_tokens.
    #[serde(default)]
    pub ignore_eos: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessageIn {
    pub role: String,
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub tool_calls: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    #[serde(flatten)]
    pub common: Common,
    pub messages: Vec<ChatMessageIn>,
    #[serde(default)]
    pub logprobs: bool,
    pub top_logprobs: Option<u32>,
    pub response_format: Option<Value>,
    pub tools: Option<Vec<Value>>,
    pub tool_choice: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CompletionRequest {
    #[serde(flatten)]
    pub common: Common,
    pub prompt: Value,
    /// Text completions: the number of top log-probabilities per token (0–5).
    pub logprobs: Option<u32>,
}

/// What the sampling parameters come to after validation.
#[derive(Debug, Clone)]
pub struct Checked {
    pub params: crate::sampling::SamplingParams,
    pub ignore_eos: bool,
    pub max_tokens: Option<usize>,
    pub stop: Vec<String>,
}

fn range(param: &str, v: Option<f64>, lo: f64, hi: f64, default: f64) -> Result<f64, ApiError> {
    match v {
        None => Ok(default),
        Some(x) if x.is_finite() && (lo..=hi).contains(&x) => Ok(x),
        Some(x) => Err(ApiError::bad(
            param,
            format!("{param} is {x}; it must be between {lo} and {hi}"),
        )),
    }
}

impl Common {
    /// Checks the shared parameters; `defaults` are the checkpoint's generation_config.
    pub fn check(
        &self,
        defaults: &crate::config::GenerationConfig,
        top_logprobs: Option<usize>,
    ) -> Result<Checked, ApiError> {
        if let Some(n) = self.n
            && n != 1
        {
            return Err(ApiError::bad(
                "n",
                format!("n is {n}; this node returns one choice (n = 1)"),
            ));
        }
        let temperature = range(
            "temperature",
            self.temperature.or(defaults.temperature),
            0.0,
            2.0,
            1.0,
        )?;
        let top_p = range("top_p", self.top_p.or(defaults.top_p), 0.0, 1.0, 1.0)?;
        if top_p == 0.0 {
            return Err(ApiError::bad("top_p", "top_p must be greater than 0"));
        }
        let top_k = match self.top_k {
            None => defaults.top_k.unwrap_or(0),
            Some(k) if k == -1 || k == 0 => 0,
            Some(k) if k > 0 => k as usize,
            Some(k) => {
                return Err(ApiError::bad(
                    "top_k",
                    format!("top_k is {k}; use -1 (off) or a positive number"),
                ));
            }
        };
        let max_tokens = match self.max_completion_tokens.or(self.max_tokens) {
            Some(0) => return Err(ApiError::bad("max_tokens", "max_tokens must be at least 1")),
            m => m.map(|m| m as usize),
        };
        let stop = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.clone()],
            Some(Stop::Many(v)) => v.clone(),
        };
        if stop.len() > 4
            || stop
                .iter()
                .any(|s| s.is_empty() || s.chars().count() > MAX_STOP_CHARS)
        {
            return Err(ApiError::bad(
                "stop",
                format!("stop takes up to 4 non-empty strings of at most {MAX_STOP_CHARS} characters"),
            ));
        }
        Ok(Checked {
            ignore_eos: self.ignore_eos,
            params: crate::sampling::SamplingParams {
                temperature,
                top_p,
                top_k,
                seed: self.seed,
                repetition_penalty: range(
                    "repetition_penalty",
                    self.repetition_penalty.or(defaults.repetition_penalty),
                    0.01,
                    10.0,
                    1.0,
                )?,
                frequency_penalty: range("frequency_penalty", self.frequency_penalty, -2.0, 2.0, 0.0)?,
                presence_penalty: range("presence_penalty", self.presence_penalty, -2.0, 2.0, 0.0)?,
                top_logprobs,
            },
            max_tokens,
            stop,
        })
    }
}

/// The text of a message's content: a string, or text parts.
pub fn content_text(content: &Option<Value>, i: usize) -> Result<String, ApiError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|p| match (p["type"].as_str(), p["text"].as_str()) {
                (Some("text"), Some(t)) => Ok(t.to_string()),
                _ => Err(ApiError::bad(
                    &format!("messages[{i}].content"),
                    "only text content parts are supported",
                )),
            })
            .collect(),
        Some(_) => Err(ApiError::bad(
            &format!("messages[{i}].content"),
            "content must be a string or a list of parts",
        )),
    }
}

/// `usage` of every response.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub total_tokens: usize,
}

impl Usage {
    pub fn new(prompt: usize, completion: usize) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
        }
    }
}
