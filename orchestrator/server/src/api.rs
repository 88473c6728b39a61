//! The API's request and response bodies, shared by the handlers ([`crate::routes`]) and the
//! OpenAPI document ([`crate::openapi`]), which generates their schemas.

use cb_core::runs::RunStatus;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A question for `POST /v1/questions`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    /// The question in plain language.
    pub question: String,
    /// An MRIO on the server's disk (pymrio save, EXIOBASE 3 zip or WIOD-style folder).
    #[serde(default)]
    pub mrio: Option<String>,
    /// A life-cycle inventory database on the server's disk (the bundled USLCI when absent).
    #[serde(default)]
    pub lci: Option<String>,
}

/// The reply to an accepted question.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Accepted {
    pub run_id: String,
    pub status: RunStatus,
    /// `GET` this for the run's state.
    pub run_url: String,
    /// `GET` this for progress events.
    pub events_url: String,
    /// The run's OpenTelemetry trace (32 hex digits); a `traceparent` header on the request
    /// makes the run part of the caller's trace.
    pub trace_id: Option<String>,
}

/// Every error body: `{"error": {"message", "type"}}` (the OpenAI shape, so chat clients show it).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorDetail {
    pub message: String,
    /// `invalid_request_error`, `not_found`, `busy`, `unavailable` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `GET /v1/status`: which agent kinds can take work now and whether a token is needed — open to
/// anyone, like `/livez`, so the web page can say when a worker kind is down and ask for a token
/// before its first call (`/health`, with worker names and hosts, stays the operator's).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceStatus {
    /// `embedded` (agents in the server's process) or `cluster` (workers behind Redis).
    pub mode: String,
    /// `ok` or `unreachable` in the cluster; absent when embedded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<String>,
    pub agents: Vec<AgentStatus>,
    /// Whether the API wants a bearer token (the page asks for one before anything else).
    pub auth_required: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AgentStatus {
    pub agent: cb_protocol::AgentKind,
    /// Whether a task of this kind would be picked up now.
    pub available: bool,
    /// Live workers serving the kind (cluster only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// Tasks waiting or running (cluster only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<usize>,
}

/// An OpenAI chat request, as much of it as the façade reads.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ChatRequest {
    /// Must be `carbon-butler`.
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub stream: bool,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ChatMessage {
    pub role: String,
    /// A string, or an array of parts of which the `text` parts are read.
    #[serde(default)]
    pub content: Value,
}
