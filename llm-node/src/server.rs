//! The OpenAI-compatible HTTP server (axum). Handlers are thin: parse and validate
//! ([`crate::openai`]), build the prompt and the constraint, hand the request to the engine, and
//! shape its events into OpenAI responses (JSON or server-sent events).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::Stream;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::config::GenerationConfig;
use crate::engine::{Constraint, EngineHandle, Event, FinishReason, Request as GenRequest};
use crate::metrics::Metrics;
use crate::openai::{ApiError, ChatRequest, Checked, CompletionRequest, Usage, content_text};
use crate::sampling::Sampled;
use crate::structured::{Grammar, Structured};
use crate::telemetry::CallSpan;
use crate::tokenizer::{ChatMessage, TextCodec, user_text};

/// What every handler shares.
pub struct AppState {
    pub engine: EngineHandle,
    pub codec: Arc<TextCodec>,
    pub structured: Arc<Structured>,
    pub model_name: String,
    pub api_key: Option<String>,
    pub context: usize,
    pub generation: GenerationConfig,
    pub metrics: Arc<Metrics>,
    pub started: u64,
}

type Shared = Arc<AppState>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn new_id(prefix: &str) -> String {
    use rand::RngExt;
    let n: u64 = rand::rng().random();
    format!("{prefix}-{n:016x}")
}

/// The router of the node; `/metrics` on it too unless it has a port of its own.
pub fn router(state: Shared, with_metrics: bool) -> Router {
    let api = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/v1/models", get(models))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    let mut r = Router::new()
        .merge(api)
        .route("/health", get(|| async { axum::Json(json!({"status": "ok"})) }));
    if with_metrics {
        r = r.route("/metrics", get(metrics));
    }
    r.with_state(state)
}

/// `/metrics` alone, for `--metrics-listen`.
pub fn metrics_router(state: Shared) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

/// Bearer-token check where a key is configured (constant-time comparison).
async fn auth(State(state): State<Shared>, request: Request, next: Next) -> Response {
    if let Some(key) = &state.api_key {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let ok: bool = subtle::ConstantTimeEq::ct_eq(given.as_bytes(), key.as_bytes()).into();
        if !ok {
            return ApiError {
                status: 401,
                kind: "invalid_request_error",
                code: Some("invalid_api_key"),
                param: None,
                message: "missing or wrong API key: send Authorization: Bearer <key>".into(),
            }
            .into_response();
        }
    }
    next.run(request).await
}

async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

async fn models(State(state): State<Shared>) -> impl IntoResponse {
    axum::Json(json!({
        "object": "list",
        "data": [{"id": state.model_name, "object": "model", "created": state.started, "owned_by": "carbon-butler",
                  "max_model_len": state.context}],
    }))
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("body", format!("the request body is not valid: {e}")))
}

fn check_model(state: &AppState, model: &str) -> Result<(), ApiError> {
    if model != state.model_name {
        return Err(ApiError {
            status: 404,
            kind: "invalid_request_error",
            code: Some("model_not_found"),
            param: Some("model".into()),
            message: format!(
                "the model {model:?} does not exist; this node serves {:?}",
                state.model_name
            ),
        });
    }
    Ok(())
}

/// The prompt's tokens, and the completion budget checked against the context length.
fn budget(state: &AppState, prompt: &str, checked: &Checked) -> Result<(Vec<u32>, usize), ApiError> {
    let ids = state
        .codec
        .encode_prompt(prompt)
        .map_err(|e| ApiError::bad("messages", e))?;
    if ids.is_empty() {
        return Err(ApiError::bad("prompt", "the prompt is empty"));
    }
    let room = state.context.saturating_sub(ids.len());
    let too_long = |message: String| ApiError {
        status: 400,
        kind: "invalid_request_error",
        code: Some("context_length_exceeded"),
        param: Some("messages".into()),
        message,
    };
    if room == 0 {
        return Err(too_long(format!(
            "the prompt has {} tokens; the context length is {}",
            ids.len(),
            state.context
        )));
    }
    let max_tokens = checked.max_tokens.unwrap_or(room);
    if max_tokens > room {
        return Err(too_long(format!(
            "the prompt has {} tokens and max_tokens is {max_tokens}; together they exceed the context length of {}",
            ids.len(),
            state.context
        )));
    }
    Ok((ids, max_tokens))
}

/// Submits a request; `429` when the queue is full.
fn submit(
    state: &AppState,
    prompt: Vec<u32>,
    checked: Checked,
    max_tokens: usize,
    constraint: Option<Constraint>,
) -> Result<UnboundedReceiver<Event>, ApiError> {
    let (tx, rx) = unbounded_channel();
    state
        .engine
        .submit(GenRequest {
            prompt,
            params: checked.params,
            max_tokens,
            stop: checked.stop,
            ignore_eos: checked.ignore_eos,
            constraint,
            events: tx,
            received: Instant::now(),
        })
        .map_err(|e| ApiError {
            status: 429,
            kind: "rate_limit_error",
            code: Some("queue_full"),
            param: None,
            message: e.to_string(),
        })?;
    Ok(rx)
}

/// Where tools are forced, the function the output must call (any of `tools` for "required").
enum ToolMode {
    None,
    Auto,
    Forced(Vec<Value>),
}

fn tool_mode(tools: &Option<Vec<Value>>, choice: &Option<Value>) -> Result<ToolMode, ApiError> {
    let Some(tools) = tools.as_ref().filter(|t| !t.is_empty()) else {
        return Ok(ToolMode::None);
    };
    for (i, t) in tools.iter().enumerate() {
        if t["type"] != "function" || !t["function"]["name"].is_string() {
            return Err(ApiError::bad(
                &format!("tools[{i}]"),
                "a tool is {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": {...}}}",
            ));
        }
    }
    match choice {
        None => Ok(ToolMode::Auto),
        Some(Value::String(s)) if s == "auto" => Ok(ToolMode::Auto),
        Some(Value::String(s)) if s == "none" => Ok(ToolMode::None),
        Some(Value::String(s)) if s == "required" => Ok(ToolMode::Forced(tools.clone())),
        Some(v) if v["type"] == "function" => {
            let name = v["function"]["name"].as_str().unwrap_or_default();
            let tool = tools
                .iter()
                .find(|t| t["function"]["name"] == name)
                .ok_or_else(|| {
                    ApiError::bad(
                        "tool_choice",
                        format!("tool_choice names {name:?}, which is not among the tools"),
                    )
                })?;
            Ok(ToolMode::Forced(vec![tool.clone()]))
        }
        Some(_) => Err(ApiError::bad(
            "tool_choice",
            "tool_choice is \"auto\", \"none\", \"required\" or a named function",
        )),
    }
}

/// The grammar of a forced tool call: `{"name": <one of the tools>, "arguments": <its parameters>}`.
fn tool_call_schema(tools: &[Value]) -> Value {
    let alternatives: Vec<Value> = tools
        .iter()
        .map(|t| {
            let params = t["function"].get("parameters").cloned().unwrap_or(json!({"type": "object"}));
            json!({"type": "object", "properties": {"name": {"const": t["function"]["name"]}, "arguments": params},
                   "required": ["name", "arguments"], "additionalProperties": false})
        })
        .collect();
    json!({"anyOf": alternatives})
}

fn compile(state: &AppState, schema: &Value, param: &str) -> Result<Arc<Grammar>, ApiError> {
    state.structured.compile(schema).map_err(|e| ApiError {
        status: 400,
        kind: "invalid_request_error",
        code: Some("invalid_json_schema"),
        param: Some(param.into()),
        message: e.to_string(),
    })
}

/// `<tool_call>{…}</tool_call>` blocks of a Qwen answer as OpenAI tool calls.
fn parse_tool_calls(text: &str) -> Vec<Value> {
    text.split("<tool_call>")
        .skip(1)
        .filter_map(|block| block.split("</tool_call>").next())
        .filter_map(|json| serde_json::from_str::<Value>(json.trim()).ok())
        .filter_map(|call| tool_call(&call))
        .collect()
}

/// The tool calls of an answer: the whole answer where a call was forced (it is the call's JSON),
/// Qwen's `<tool_call>` blocks where the model chose.
fn tool_calls_of(text: &str, forced: bool, parse: bool) -> Vec<Value> {
    if forced {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|c| tool_call(&c))
            .into_iter()
            .collect()
    } else if parse {
        parse_tool_calls(text)
    } else {
        Vec::new()
    }
}

fn tool_call(call: &Value) -> Option<Value> {
    let name = call["name"].as_str()?;
    Some(json!({"id": new_id("call"), "type": "function",
                "function": {"name": name, "arguments": call.get("arguments").map_or("{}".to_string(), Value::to_string)}}))
}

fn logprob_entry(codec: &TextCodec, s: &Sampled) -> Value {
    let token = |id: u32| codec.decode(&[id]);
    let bytes = |id: u32| -> Value {
        codec
            .token_bytes()
            .get(id as usize)
            .cloned()
            .flatten()
            .map_or(Value::Null, |b| json!(b))
    };
    json!({"token": token(s.token), "logprob": s.logprob, "bytes": bytes(s.token),
           "top_logprobs": s.top.iter().map(|(id, lp)| json!({"token": token(*id), "logprob": lp, "bytes": bytes(*id)})).collect::<Vec<_>>()})
}

fn finish_name(f: FinishReason, tools: bool) -> &'static str {
    match (f, tools) {
        (FinishReason::Stop, true) => "tool_calls",
        (FinishReason::Stop, false) => "stop",
        (FinishReason::Length, _) => "length",
    }
}

/// The response of a handler, counted by endpoint and status.
fn counted(state: &AppState, endpoint: &str, result: Result<Response, ApiError>) -> Response {
    let response = result.unwrap_or_else(IntoResponse::into_response);
    state.metrics.request(endpoint, response.status().as_u16());
    response
}

async fn chat(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let span = CallSpan::start(&headers, "chat", &state.model_name);
    let response = counted(&state, "chat", chat_inner(state.clone(), body, &span).await);
    span.status(response.status().as_u16());
    response
}

async fn chat_inner(state: Shared, body: Bytes, span: &CallSpan) -> Result<Response, ApiError> {
    let req: ChatRequest = parse(&body)?;
    span.request(&req.common);
    check_model(&state, &req.common.model)?;
    if req.messages.is_empty() {
        return Err(ApiError::bad("messages", "messages must not be empty"));
    }
    let top_logprobs = match (req.logprobs, req.top_logprobs) {
        (false, Some(_)) => return Err(ApiError::bad("top_logprobs", "top_logprobs needs logprobs: true")),
        (true, Some(n)) if n > 20 => {
            return Err(ApiError::bad(
                "top_logprobs",
                format!("top_logprobs is {n}; at most 20"),
            ));
        }
        (true, n) => Some(n.unwrap_or(0) as usize),
        (false, None) => None,
    };
    let checked = req.common.check(&state.generation, top_logprobs)?;
    let mut messages = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        if !matches!(m.role.as_str(), "system" | "user" | "assistant" | "tool") {
            return Err(ApiError::bad(
                &format!("messages[{i}].role"),
                format!("unknown role {:?}", m.role),
            ));
        }
        let mut content = user_text(&content_text(&m.content, i)?);
        for call in m.tool_calls.iter().flatten() {
            let f = &call["function"];
            let args: Value = f["arguments"]
                .as_str()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or(json!({}));
            content.push_str(&format!(
                "<tool_call>\n{}\n</tool_call>",
                user_text(&json!({"name": f["name"], "arguments": args}).to_string())
            ));
        }
        messages.push(ChatMessage {
            role: m.role.clone(),
            content,
        });
    }
    let mode = tool_mode(&req.tools, &req.tool_choice)?;
    let tools_value = match &mode {
        ToolMode::None => None,
        _ => req.tools.clone().map(Value::Array),
    };
    let mut prompt = state
        .codec
        .render_chat(&messages, tools_value.as_ref())
        .map_err(|e| ApiError::bad("messages", e))?;
    let constraint = match (&mode, &req.response_format) {
        (ToolMode::Forced(tools), _) => {
            // The call's opening tag is part of the prompt; the model writes the call's JSON.
            prompt.push_str("<tool_call>\n");
            Some(compile(&state, &tool_call_schema(tools), "tools")?)
        }
        (_, Some(rf)) => match rf["type"].as_str() {
            Some("json_schema") => {
                let schema = rf["json_schema"]
                    .get("schema")
                    .ok_or_else(|| ApiError::bad("response_format", "json_schema needs a schema"))?;
                Some(compile(&state, schema, "response_format")?)
            }
            Some("json_object") => Some(state.structured.any_object()),
            Some("text") => None,
            _ => {
                return Err(ApiError::bad(
                    "response_format",
                    "type is text, json_object or json_schema",
                ));
            }
        },
        _ => None,
    };
    let forced_tools = matches!(mode, ToolMode::Forced(_));
    let parse_tools = matches!(mode, ToolMode::Auto);
    let (ids, max_tokens) = budget(&state, &prompt, &checked)?;
    let rx = submit(
        &state,
        ids,
        checked,
        max_tokens,
        constraint.map(|grammar| Constraint { grammar }),
    )?;
    let id = new_id("chatcmpl");
    let include_usage = req
        .common
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    if req.common.stream {
        return Ok(sse(chat_stream(
            state.clone(),
            rx,
            id,
            ChatStreamOptions {
                forced_tools,
                parse_tools,
                logprobs: req.logprobs,
                include_usage,
            },
            span.clone(),
        )));
    }
    let out = collect(rx).await?;
    let tool_calls = tool_calls_of(&out.text, forced_tools, parse_tools);
    let has_tools = !tool_calls.is_empty();
    span.response(
        &id,
        &state.model_name,
        finish_name(out.finish, has_tools),
        &out.usage,
    );
    let mut message = json!({"role": "assistant", "content": if has_tools && forced_tools { Value::Null } else { json!(out.text) }});
    if has_tools {
        message["tool_calls"] = json!(tool_calls);
    }
    let logprobs = if req.logprobs {
        json!({"content": out.sampled.iter().map(|s| logprob_entry(&state.codec, s)).collect::<Vec<_>>()})
    } else {
        Value::Null
    };
    Ok(axum::Json(json!({
        "id": id, "object": "chat.completion", "created": now(), "model": state.model_name,
        "choices": [{"index": 0, "message": message, "logprobs": logprobs, "finish_reason": finish_name(out.finish, has_tools)}],
        "usage": out.usage,
    }))
    .into_response())
}

/// A finished generation.
struct Collected {
    text: String,
    sampled: Vec<Sampled>,
    finish: FinishReason,
    usage: Usage,
}

async fn collect(mut rx: UnboundedReceiver<Event>) -> Result<Collected, ApiError> {
    let mut text = String::new();
    let mut sampled = Vec::new();
    while let Some(e) = rx.recv().await {
        match e {
            Event::Token { sampled: s, text: t } => {
                text.push_str(&t);
                sampled.push(s);
            }
            Event::Done {
                finish,
                tail,
                prompt_tokens,
                completion_tokens,
            } => {
                text.push_str(&tail);
                return Ok(Collected {
                    text,
                    sampled,
                    finish,
                    usage: Usage::new(prompt_tokens, completion_tokens),
                });
            }
            Event::Error(m) => return Err(internal(m)),
        }
    }
    Err(internal(
        "the engine stopped before the answer was complete".into(),
    ))
}

fn internal(message: String) -> ApiError {
    ApiError {
        status: 500,
        kind: "server_error",
        code: None,
        param: None,
        message,
    }
}

fn sse<S: Stream<Item = Result<SseEvent, Infallible>> + Send + 'static>(stream: S) -> Response {
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// How a chat stream renders its chunks.
struct ChatStreamOptions {
    forced_tools: bool,
    parse_tools: bool,
    logprobs: bool,
    include_usage: bool,
}

/// Server-sent chunks of a chat completion; `[DONE]` at the end. The call's span lives as long
/// as the stream.
fn chat_stream(
    state: Shared,
    rx: UnboundedReceiver<Event>,
    id: String,
    options: ChatStreamOptions,
    span: CallSpan,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let ChatStreamOptions {
        forced_tools,
        parse_tools,
        logprobs,
        include_usage,
    } = options;
    let created = now();
    let response_id = id.clone();
    let chunk = move |state: &AppState, choices: Value, usage: Option<Usage>| -> SseEvent {
        let mut c = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": state.model_name,
                           "choices": choices});
        if let Some(u) = usage {
            c["usage"] = json!(u);
        }
        SseEvent::default().data(c.to_string())
    };
    struct St {
        rx: UnboundedReceiver<Event>,
        started: bool,
        text: String,
        pending: Vec<SseEvent>,
        done: bool,
    }
    let st = St {
        rx,
        started: false,
        text: String::new(),
        pending: Vec::new(),
        done: false,
    };
    futures::stream::unfold(st, move |mut st| {
        let state = state.clone();
        let chunk = chunk.clone();
        let (span, response_id) = (span.clone(), response_id.clone());
        async move {
            loop {
                if let Some(e) = st.pending.pop() {
                    return Some((Ok(e), st));
                }
                if st.done {
                    return None;
                }
                if !st.started {
                    st.started = true;
                    let e = chunk(
                        &state,
                        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
                        None,
                    );
                    return Some((Ok(e), st));
                }
                match st.rx.recv().await {
                    Some(Event::Token { sampled, text }) => {
                        st.text.push_str(&text);
                        if forced_tools || (text.is_empty() && !logprobs) {
                            continue;
                        }
                        let lp = if logprobs {
                            json!({"content": [logprob_entry(&state.codec, &sampled)]})
                        } else {
                            Value::Null
                        };
                        let e = chunk(
                            &state,
                            json!([{"index": 0, "delta": {"content": text}, "logprobs": lp, "finish_reason": null}]),
                            None,
                        );
                        return Some((Ok(e), st));
                    }
                    Some(Event::Done {
                        finish,
                        tail,
                        prompt_tokens,
                        completion_tokens,
                    }) => {
                        st.text.push_str(&tail);
                        let calls = tool_calls_of(&st.text, forced_tools, parse_tools);
                        let has_tools = !calls.is_empty();
                        span.response(
                            &response_id,
                            &state.model_name,
                            finish_name(finish, has_tools),
                            &Usage::new(prompt_tokens, completion_tokens),
                        );
                        // Pushed in reverse: popped from the end.
                        st.pending.push(SseEvent::default().data("[DONE]"));
                        if include_usage {
                            st.pending.push(chunk(
                                &state,
                                json!([]),
                                Some(Usage::new(prompt_tokens, completion_tokens)),
                            ));
                        }
                        st.pending.push(chunk(
                            &state,
                            json!([{"index": 0, "delta": {}, "finish_reason": finish_name(finish, has_tools)}]),
                            None,
                        ));
                        if !tail.is_empty() && !forced_tools {
                            st.pending.push(chunk(
                                &state,
                                json!([{"index": 0, "delta": {"content": tail}, "finish_reason": null}]),
                                None,
                            ));
                        }
                        if has_tools {
                            let calls: Vec<Value> = calls
                                .into_iter()
                                .enumerate()
                                .map(|(i, mut c)| {
                                    c["index"] = json!(i);
                                    c
                                })
                                .collect();
                            st.pending.push(chunk(
                                &state,
                                json!([{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": null}]),
                                None,
                            ));
                        }
                        st.done = true;
                    }
                    Some(Event::Error(m)) => {
                        st.done = true;
                        span.status(500);
                        let e = SseEvent::default().data(internal(m).body().to_string());
                        return Some((Ok(e), st));
                    }
                    None => return None,
                }
            }
        }
    })
}

async fn completions(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let span = CallSpan::start(&headers, "text_completion", &state.model_name);
    let response = counted(
        &state,
        "completions",
        completions_inner(state.clone(), body, &span).await,
    );
    span.status(response.status().as_u16());
    response
}

async fn completions_inner(state: Shared, body: Bytes, span: &CallSpan) -> Result<Response, ApiError> {
    let req: CompletionRequest = parse(&body)?;
    span.request(&req.common);
    check_model(&state, &req.common.model)?;
    let prompt = match &req.prompt {
        Value::String(s) => user_text(s),
        Value::Array(a) if a.len() == 1 && a[0].is_string() => user_text(a[0].as_str().unwrap_or_default()),
        _ => {
            return Err(ApiError::bad(
                "prompt",
                "prompt must be a string (or a list of one string)",
            ));
        }
    };
    let top = match req.logprobs {
        Some(n) if n > 5 => return Err(ApiError::bad("logprobs", format!("logprobs is {n}; at most 5"))),
        n => n.map(|n| n as usize),
    };
    let checked = req.common.check(&state.generation, top)?;
    let (ids, max_tokens) = budget(&state, &prompt, &checked)?;
    let rx = submit(&state, ids, checked, max_tokens, None)?;
    let id = new_id("cmpl");
    let created = now();
    let logprobs_of = move |state: &AppState, sampled: &[Sampled]| -> Value {
        if top.is_none() {
            return Value::Null;
        }
        let token = |id: u32| state.codec.decode(&[id]);
        json!({
            "tokens": sampled.iter().map(|s| token(s.token)).collect::<Vec<_>>(),
            "token_logprobs": sampled.iter().map(|s| s.logprob).collect::<Vec<_>>(),
            "top_logprobs": sampled.iter().map(|s| s.top.iter().map(|(id, lp)| (token(*id), json!(lp))).collect::<serde_json::Map<_, _>>()).collect::<Vec<_>>(),
        })
    };
    if req.common.stream {
        let include_usage = req
            .common
            .stream_options
            .as_ref()
            .is_some_and(|o| o.include_usage);
        let model = state.model_name.clone();
        let span = span.clone();
        let stream = futures::stream::unfold(
            (rx, false, Vec::<SseEvent>::new()),
            move |(mut rx, done, mut pending)| {
                let (id, model, state, span) = (id.clone(), model.clone(), state.clone(), span.clone());
                async move {
                    if let Some(e) = pending.pop() {
                        return Some((Ok(e), (rx, done, pending)));
                    }
                    if done {
                        return None;
                    }
                    let base = |choices: Value| json!({"id": id, "object": "text_completion", "created": created, "model": model, "choices": choices});
                    loop {
                        match rx.recv().await {
                            Some(Event::Token { sampled, text }) => {
                                if text.is_empty() && top.is_none() {
                                    continue;
                                }
                                let c = base(
                                    json!([{"index": 0, "text": text, "logprobs": logprobs_of(&state, &[sampled]), "finish_reason": null}]),
                                );
                                return Some((
                                    Ok(SseEvent::default().data(c.to_string())),
                                    (rx, false, pending),
                                ));
                            }
                            Some(Event::Done {
                                finish,
                                tail,
                                prompt_tokens,
                                completion_tokens,
                            }) => {
                                pending.push(SseEvent::default().data("[DONE]"));
                                span.response(
                                    &id,
                                    &model,
                                    finish_name(finish, false),
                                    &Usage::new(prompt_tokens, completion_tokens),
                                );
                                if include_usage {
                                    let mut u = base(json!([]));
                                    u["usage"] = json!(Usage::new(prompt_tokens, completion_tokens));
                                    pending.push(SseEvent::default().data(u.to_string()));
                                }
                                let c = base(
                                    json!([{"index": 0, "text": tail, "logprobs": null, "finish_reason": finish_name(finish, false)}]),
                                );
                                return Some((
                                    Ok(SseEvent::default().data(c.to_string())),
                                    (rx, true, pending),
                                ));
                            }
                            Some(Event::Error(m)) => {
                                span.status(500);
                                return Some((
                                    Ok(SseEvent::default().data(internal(m).body().to_string())),
                                    (rx, true, pending),
                                ));
                            }
                            None => return None,
                        }
                    }
                }
            },
        );
        return Ok(sse(stream));
    }
    let out = collect(rx).await?;
    span.response(&id, &state.model_name, finish_name(out.finish, false), &out.usage);
    Ok(axum::Json(json!({
        "id": id, "object": "text_completion", "created": created, "model": state.model_name,
        "choices": [{"index": 0, "text": out.text, "logprobs": logprobs_of(&state, &out.sampled), "finish_reason": finish_name(out.finish, false)}],
        "usage": out.usage,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qwen_tool_call_blocks_become_openai_tool_calls() {
        let text = "Let me look.<tool_call>\n{\"name\": \"national_accounts\", \"arguments\": {\"country\": \"CHN\", \"year\": 2022}}\n</tool_call>\n<tool_call>\n{\"name\": \"footprint\", \"arguments\": {}}\n</tool_call><tool_call>not json</tool_call>";
        let calls = parse_tool_calls(text);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0]["function"]["name"], "national_accounts");
        let args: Value = serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args, json!({"country": "CHN", "year": 2022}));
        assert_eq!(calls[1]["function"]["arguments"], "{}");
        assert!(calls[0]["id"].as_str().unwrap().starts_with("call-"));
    }
}
