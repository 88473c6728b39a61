//! The node's side of a trace: each completion is a server span named `<operation> <model>`
//! (GenAI semantic conventions), a child of the caller's `traceparent` when it sends one, with
//! the request's parameters, the token counts and the finish reason.

use axum::http::HeaderMap;
use cb_telemetry::{self as telemetry, Context, KeyValue, SpanKind, Status, TraceContextExt as _, attr};

use crate::openai::{Common, Usage};

/// The span of one completion request; it ends when the last clone is dropped (a stream holds
/// one until its last chunk).
#[derive(Clone)]
pub struct CallSpan(Context);

impl CallSpan {
    /// `operation` is `chat` or `text_completion`.
    pub fn start(headers: &HeaderMap, operation: &'static str, model: &str) -> CallSpan {
        let parent = telemetry::extract_headers(headers);
        CallSpan(telemetry::start_with_parent(
            &parent,
            format!("{operation} {model}"),
            SpanKind::Server,
            vec![
                KeyValue::new(attr::GEN_AI_OPERATION_NAME, operation),
                KeyValue::new(attr::GEN_AI_PROVIDER_NAME, "carbon_butler.llm_node"),
            ],
        ))
    }

    /// The request's model and sampling parameters, once it parsed.
    pub fn request(&self, common: &Common) {
        let span = self.0.span();
        span.set_attribute(KeyValue::new(attr::GEN_AI_REQUEST_MODEL, common.model.clone()));
        if let Some(t) = common.temperature {
            span.set_attribute(KeyValue::new(attr::GEN_AI_REQUEST_TEMPERATURE, t));
        }
        if let Some(m) = common.max_completion_tokens.or(common.max_tokens) {
            span.set_attribute(KeyValue::new(attr::GEN_AI_REQUEST_MAX_TOKENS, i64::from(m)));
        }
        if let Some(s) = common.seed {
            span.set_attribute(KeyValue::new(attr::GEN_AI_REQUEST_SEED, s as i64));
        }
    }

    /// What the model answered.
    pub fn response(&self, id: &str, model: &str, finish_reason: &str, usage: &Usage) {
        let span = self.0.span();
        span.set_attribute(KeyValue::new(attr::GEN_AI_RESPONSE_ID, id.to_string()));
        span.set_attribute(KeyValue::new(attr::GEN_AI_RESPONSE_MODEL, model.to_string()));
        span.set_attribute(telemetry::finish_reasons(&[finish_reason.to_string()]));
        span.set_attribute(KeyValue::new(
            attr::GEN_AI_USAGE_INPUT_TOKENS,
            usage.prompt_tokens as i64,
        ));
        span.set_attribute(KeyValue::new(
            attr::GEN_AI_USAGE_OUTPUT_TOKENS,
            usage.completion_tokens as i64,
        ));
    }

    /// The HTTP status the request was answered with (an error status marks the span failed).
    pub fn status(&self, status: u16) {
        if status >= 400 {
            let span = self.0.span();
            span.set_attribute(KeyValue::new(attr::ERROR_TYPE, status.to_string()));
            span.set_status(Status::error(format!("answered HTTP {status}")));
        }
    }
}
