//! A client for any OpenAI-compatible chat-completions endpoint (`cb-llm-node`, vLLM, …), with
//! a per-call timeout and a per-run token budget. The orchestrator only ever asks it for text:
//! a plan to validate, or prose to check. Nothing it returns is executed.

use std::time::{Duration, Instant};

use cb_telemetry::{self as telemetry, KeyValue, SpanKind, Status, TraceContextExt as _, attr};
use serde::Deserialize;
use serde_json::{Value, json};

/// Where the LLM is and how to call it.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// The API base, e.g. `http://127.0.0.1:8000/v1` (a full `…/chat/completions` URL works too).
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Longest one call may take.
    pub timeout: Duration,
    /// Input plus output tokens one run may spend on LLM calls.
    pub token_budget: u32,
    /// Longest plan, in tokens.
    pub max_plan_tokens: u32,
    /// Longest prose answer, in tokens.
    pub max_prose_tokens: u32,
    /// Write the answer's prose with the LLM (checked against the results).
    pub prose: bool,
    pub temperature: f64,
    pub seed: u64,
    /// Show the corpus's worked examples before the question ([`crate::llm::few_shot`]: six
    /// questions with their plans as JSON): off for a model whose context cannot hold them.
    pub worked_examples: bool,
}

/// `gen_ai.provider.name` on a call's span: the API spoken, as OpenAI-client instrumentations
/// report it for any compatible server.
const PROVIDER: &str = "openai";

impl LlmConfig {
    pub fn new(url: &str, model: &str) -> Self {
        LlmConfig {
            url: url.to_string(),
            model: model.to_string(),
            api_key: None,
            timeout: Duration::from_secs(120),
            token_budget: 16_000,
            max_plan_tokens: 1_024,
            max_prose_tokens: 300,
            prose: true,
            temperature: 0.0,
            seed: 0,
            worked_examples: true,
        }
    }

    fn endpoint(&self) -> String {
        let base = self.url.trim_end_matches('/');
        if base.ends_with("/chat/completions") {
            base.to_string()
        } else {
            format!("{base}/chat/completions")
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("the LLM at {url} could not be reached: {message}")]
    Unreachable { url: String, message: String },
    #[error("the LLM at {url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("the LLM at {url} answered HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("the LLM at {url} sent a reply that is not a chat completion: {message}")]
    Malformed { url: String, message: String },
    #[error("the run's LLM token budget is spent ({used} of {budget} tokens)")]
    Budget { used: u32, budget: u32 },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// One completion and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The call as made and answered (endpoint, request body, response text), for the run's
    /// record. The API key is never in it.
    pub call: Value,
    pub content: String,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub finish_reason: Option<String>,
    pub latency_ms: u64,
}

/// Tokens one run may still spend.
#[derive(Debug, Clone)]
pub struct TokenBudget {
    pub budget: u32,
    pub used: u32,
}

impl TokenBudget {
    pub fn new(budget: u32) -> Self {
        TokenBudget { budget, used: 0 }
    }

    /// Whether a call with this prompt (estimated at 4 bytes a token) and this many output
    /// tokens fits.
    fn allows(&self, prompt_bytes: usize, max_tokens: u32) -> bool {
        let estimate = (prompt_bytes / 4) as u32 + max_tokens;
        self.used.saturating_add(estimate) <= self.budget
    }
}

#[derive(Deserialize)]
struct ChatReply {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

pub struct LlmClient {
    pub config: LlmConfig,
    http: reqwest::Client,
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<LlmClient, LlmError> {
        // reqwest is built without a bundled crypto provider; ring is the one we ship.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| LlmError::Client(e.to_string()))?;
        Ok(LlmClient { config, http })
    }

    /// One chat completion. `response_format` is passed through (e.g. a JSON Schema). The call
    /// is a `chat <model>` client span (GenAI semantic conventions) under the current context,
    /// and its `traceparent` goes to the server.
    pub async fn chat(
        &self,
        messages: &[Value],
        response_format: Option<Value>,
        max_tokens: u32,
        budget: &mut TokenBudget,
    ) -> Result<Completion, LlmError> {
        let prompt_bytes: usize = messages.iter().map(|m| m.to_string().len()).sum();
        if !budget.allows(prompt_bytes, max_tokens) {
            return Err(LlmError::Budget {
                used: budget.used,
                budget: budget.budget,
            });
        }
        let url = self.config.endpoint();
        let mut attributes = vec![
            KeyValue::new(attr::GEN_AI_OPERATION_NAME, "chat"),
            KeyValue::new(attr::GEN_AI_PROVIDER_NAME, PROVIDER),
            KeyValue::new(attr::GEN_AI_REQUEST_MODEL, self.config.model.clone()),
            KeyValue::new(attr::GEN_AI_REQUEST_TEMPERATURE, self.config.temperature),
            KeyValue::new(attr::GEN_AI_REQUEST_MAX_TOKENS, i64::from(max_tokens)),
            KeyValue::new(attr::GEN_AI_REQUEST_SEED, self.config.seed as i64),
        ];
        if let Ok(parsed) = reqwest::Url::parse(&url) {
            if let Some(host) = parsed.host_str() {
                attributes.push(KeyValue::new(attr::SERVER_ADDRESS, host.to_string()));
            }
            if let Some(port) = parsed.port_or_known_default() {
                attributes.push(KeyValue::new(attr::SERVER_PORT, i64::from(port)));
            }
        }
        let cx = telemetry::start(
            format!("chat {}", self.config.model),
            SpanKind::Client,
            attributes,
        );
        let result = self
            .call(&cx, messages, response_format, max_tokens, prompt_bytes, budget)
            .await;
        let span = cx.span();
        match &result {
            Ok(c) => {
                span.set_attribute(KeyValue::new(
                    attr::GEN_AI_USAGE_INPUT_TOKENS,
                    i64::from(c.input_tokens),
                ));
                span.set_attribute(KeyValue::new(
                    attr::GEN_AI_USAGE_OUTPUT_TOKENS,
                    i64::from(c.output_tokens),
                ));
                let reasons: Vec<String> = c.finish_reason.iter().cloned().collect();
                span.set_attribute(telemetry::finish_reasons(&reasons));
            }
            Err(e) => {
                let kind = match e {
                    LlmError::Timeout { .. } => "timeout".to_string(),
                    LlmError::Status { status, .. } => status.to_string(),
                    LlmError::Unreachable { .. } => "unreachable".to_string(),
                    _ => "malformed_response".to_string(),
                };
                span.set_attribute(KeyValue::new(attr::ERROR_TYPE, kind));
                span.set_status(Status::error(e.to_string()));
            }
        }
        span.end();
        result
    }

    async fn call(
        &self,
        cx: &telemetry::Context,
        messages: &[Value],
        response_format: Option<Value>,
        max_tokens: u32,
        prompt_bytes: usize,
        budget: &mut TokenBudget,
    ) -> Result<Completion, LlmError> {
        let url = self.config.endpoint();
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.config.temperature,
            "seed": self.config.seed,
        });
        if let Some(format) = response_format {
            body["response_format"] = format;
        }
        let mut headers = reqwest::header::HeaderMap::new();
        telemetry::inject_headers(cx, &mut headers);
        let mut request = self.http.post(&url).headers(headers).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let started = Instant::now();
        let response = request.send().await.map_err(|e| self.transport_error(&url, e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.transport_error(&url, e))?;
        let latency_ms = started.elapsed().as_millis() as u64;
        if !status.is_success() {
            return Err(LlmError::Status {
                url,
                status: status.as_u16(),
                body: text.chars().take(500).collect(),
            });
        }
        let reply: ChatReply = serde_json::from_str(&text).map_err(|e| LlmError::Malformed {
            url: url.clone(),
            message: e.to_string(),
        })?;
        let usage = reply.usage.unwrap_or(Usage {
            prompt_tokens: (prompt_bytes / 4) as u32,
            completion_tokens: max_tokens,
        });
        budget.used = budget
            .used
            .saturating_add(usage.prompt_tokens)
            .saturating_add(usage.completion_tokens);
        let choice = reply
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| LlmError::Malformed {
                url: url.clone(),
                message: "no choices".into(),
            })?;
        let content = choice.message.content.unwrap_or_default();
        let span = cx.span();
        if let Some(id) = reply.id {
            span.set_attribute(KeyValue::new(attr::GEN_AI_RESPONSE_ID, id));
        }
        if let Some(model) = reply.model {
            span.set_attribute(KeyValue::new(attr::GEN_AI_RESPONSE_MODEL, model));
        }
        Ok(Completion {
            call: json!({"endpoint": url, "request": body, "response": content,
                         "finish_reason": choice.finish_reason}),
            content,
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            finish_reason: choice.finish_reason,
            latency_ms,
        })
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> LlmError {
        if e.is_timeout() {
            LlmError::Timeout {
                url: url.to_string(),
                seconds: self.config.timeout.as_secs(),
            }
        } else {
            LlmError::Unreachable {
                url: url.to_string(),
                message: e.to_string(),
            }
        }
    }
}
