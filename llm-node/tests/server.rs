//! The OpenAI-compatible API in process (the router, the engine on its thread, the tiny
//! SYNTHETIC checkpoint): shapes, structured output that validates, tool calls, sampling
//! parameters, errors with the right status, auth, the bounded queue, metrics.

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cb_llm_node::node::{NodeOptions, load};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn options() -> NodeOptions {
    NodeOptions {
        served_model_name: "tiny".into(),
        device: tch::Device::Cpu,
        kind: tch::Kind::Float,
        api_key: None,
        metrics_apart: false,
        max_batch: 4,
        max_queue: 64,
        max_model_len: None,
    }
}

fn app(o: &NodeOptions) -> axum::Router {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2-tiny"),
        o,
    )
    .unwrap()
    .0
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> (StatusCode, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let req = req
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).to_string())
}

async fn post(app: &axum::Router, path: &str, body: Value) -> (StatusCode, Value) {
    let (s, text) = call(app, "POST", path, Some(body), None).await;
    (s, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn chat(extra: Value) -> Value {
    let mut b = json!({"model": "tiny", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How much CO2?"}], "max_tokens": 16});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_and_completions_have_openai_shapes() {
    let app = app(&options());
    let (s, v) = post(
        &app,
        "/v1/chat/completions",
        chat(json!({"temperature": 0, "logprobs": true, "top_logprobs": 3})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    let u = &v["usage"];
    assert_eq!(
        u["total_tokens"],
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );
    let lp = v["choices"][0]["logprobs"]["content"].as_array().unwrap();
    assert_eq!(lp.len() as u64, u["completion_tokens"].as_u64().unwrap());
    assert_eq!(lp[0]["top_logprobs"].as_array().unwrap().len(), 3);
    // Greedy is deterministic.
    let (_, again) = post(
        &app,
        "/v1/chat/completions",
        chat(json!({"temperature": 0, "logprobs": true, "top_logprobs": 3})),
    )
    .await;
    assert_eq!(again["choices"][0]["message"], v["choices"][0]["message"]);
    // A seed repeats a sampled answer.
    let seeded = chat(
        json!({"temperature": 1.0, "top_p": 0.9, "top_k": 50, "seed": 11, "presence_penalty": 0.5, "frequency_penalty": 0.5}),
    );
    let (_, a) = post(&app, "/v1/chat/completions", seeded.clone()).await;
    let (_, b) = post(&app, "/v1/chat/completions", seeded).await;
    assert_eq!(a["choices"][0]["message"], b["choices"][0]["message"]);
    // max_tokens ends with "length" (ignore_eos: a random model may say EOS early).
    let mut long = chat(json!({"temperature": 0, "ignore_eos": true}));
    long["max_tokens"] = json!(16);
    let (_, a) = post(&app, "/v1/chat/completions", long).await;
    assert_eq!(a["choices"][0]["finish_reason"], "length");
    assert_eq!(a["usage"]["completion_tokens"], 16);
    let (s, v) = post(&app, "/v1/completions", json!({"model": "tiny", "prompt": "The footprint of steel", "max_tokens": 5, "temperature": 0, "logprobs": 2})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["choices"][0]["logprobs"]["tokens"].as_array().unwrap().len(), 5);
    let (s, text) = call(&app, "GET", "/v1/models", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("\"id\":\"tiny\""), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn structured_output_parses_and_validates() {
    let app = app(&options());
    // Closed objects and bounded numbers, as a strict schema has them: a random model then cannot
    // wander into extra keys or numbers no parser reads, and the bounds are enforced too.
    let schema = json!({"type": "object", "properties": {
        "country": {"type": "string", "maxLength": 12},
        "year": {"type": "integer", "minimum": 1750, "maximum": 2100},
        "co2_t": {"type": "number", "minimum": 0, "maximum": 1e12},
        "source": {"enum": ["GCB", "EDGAR"]},
        "sectors": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "share": {"type": "number", "minimum": 0, "maximum": 1}}, "required": ["name", "share"], "additionalProperties": false}, "maxItems": 3},
        "verified": {"type": ["boolean", "null"]}
    }, "required": ["country", "year", "co2_t", "source", "sectors"], "additionalProperties": false});
    let validator = jsonschema::validator_for(&schema).unwrap();
    for seed in 0..6u64 {
        let body = chat(json!({"max_tokens": 400, "seed": seed, "temperature": 1.0,
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}}));
        let (s, v) = post(&app, "/v1/chat/completions", body).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let content = v["choices"][0]["message"]["content"].as_str().unwrap();
        let parsed: Value =
            serde_json::from_str(content).unwrap_or_else(|e| panic!("seed {seed}: {e}: {content}"));
        assert!(validator.is_valid(&parsed), "seed {seed}: {content}");
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
    }
    // Any object: a random model may write one longer than max_tokens (finish "length", an
    // object begun); every answer that ends by itself is an object.
    let mut ended = 0;
    for seed in 0..6u64 {
        let (s, v) = post(
            &app,
            "/v1/chat/completions",
            chat(json!({"max_tokens": 300, "seed": seed, "response_format": {"type": "json_object"}})),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let content = v["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(content.starts_with('{'), "{content}");
        if v["choices"][0]["finish_reason"] == "stop" {
            let parsed: Value =
                serde_json::from_str(content).unwrap_or_else(|e| panic!("seed {seed}: {e}: {content}"));
            assert!(parsed.is_object());
            ended += 1;
        }
    }
    assert!(ended > 0, "no answer ended by itself");
}

#[tokio::test(flavor = "multi_thread")]
async fn forced_tool_calls_come_back_as_tool_calls() {
    let app = app(&options());
    let tools = json!([{"type": "function", "function": {"name": "national_accounts", "description": "CO2 accounts",
        "parameters": {"type": "object", "properties": {"country": {"type": "string", "maxLength": 3}, "year": {"type": "integer", "minimum": 1750, "maximum": 2100}}, "required": ["country", "year"], "additionalProperties": false}}},
        {"type": "function", "function": {"name": "footprint", "parameters": {"type": "object", "properties": {"product": {"type": "string", "maxLength": 10}}, "required": ["product"], "additionalProperties": false}}}]);
    let (s, v) = post(
        &app,
        "/v1/chat/completions",
        chat(json!({"max_tokens": 200, "seed": 5, "tools": tools, "tool_choice": "required"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(call["type"], "function");
    let name = call["function"]["name"].as_str().unwrap();
    assert!(["national_accounts", "footprint"].contains(&name), "{name}");
    let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(args.is_object());
    let named = json!({"type": "function", "function": {"name": "footprint"}});
    let (_, v) = post(
        &app,
        "/v1/chat/completions",
        chat(json!({"max_tokens": 200, "seed": 1, "tools": tools, "tool_choice": named})),
    )
    .await;
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "footprint"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_have_openai_bodies_and_statuses() {
    let app = app(&options());
    let cases = [
        (
            json!({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}),
            404,
            Some("model_not_found"),
        ),
        (chat(json!({"temperature": 3})), 400, None),
        (chat(json!({"n": 2})), 400, None),
        (
            chat(json!({"max_tokens": 100000})),
            400,
            Some("context_length_exceeded"),
        ),
        (
            chat(json!({"messages": [{"role": "user", "content": "carbon ".repeat(2500)}]})),
            400,
            Some("context_length_exceeded"),
        ),
        (
            chat(
                json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "strin"}}}}),
            ),
            400,
            Some("invalid_json_schema"),
        ),
        (chat(json!({"messages": []})), 400, None),
        (json!({"model": "tiny"}), 400, None),
    ];
    for (body, status, code) in cases {
        let (s, v) = post(&app, "/v1/chat/completions", body.clone()).await;
        assert_eq!(s.as_u16(), status, "{body}: {v}");
        assert!(
            v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{v}"
        );
        assert_eq!(v["error"]["type"], "invalid_request_error");
        if let Some(c) = code {
            assert_eq!(v["error"]["code"], c, "{v}");
        }
    }
    let (s, v) = post(&app, "/v1/chat/completions", chat(json!({"temperature": 3}))).await;
    assert_eq!(
        (s.as_u16(), v["error"]["param"].as_str()),
        (400, Some("temperature"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bearer_tokens_and_metrics() {
    let app = app(&NodeOptions {
        api_key: Some("s3cret".into()),
        ..options()
    });
    let (s, text) = call(&app, "POST", "/v1/chat/completions", Some(chat(json!({}))), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{text}");
    assert!(text.contains("invalid_api_key"));
    let (s, _) = call(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(chat(json!({}))),
        Some("wrong"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(chat(json!({"max_tokens": 3}))),
        Some("s3cret"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&app, "GET", "/health", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let (_, m) = call(&app, "GET", "/metrics", None, None).await;
    for name in [
        "llm_requests_running",
        "llm_requests_waiting",
        "llm_prompt_tokens_total",
        "llm_generation_tokens_total",
        "llm_time_to_first_token_seconds_bucket",
        "llm_inter_token_latency_seconds_bucket",
    ] {
        assert!(m.contains(name), "{name} missing in\n{m}");
    }
    assert!(m.contains("llm_generation_tokens_total 3"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_answers_429() {
    let app = app(&NodeOptions {
        max_batch: 1,
        max_queue: 1,
        ..options()
    });
    // Long generations occupy the one slot and the one queue place; more are refused.
    let long = chat(
        json!({"max_tokens": 200, "temperature": 0, "messages": [{"role": "user", "content": "carbon ".repeat(20)}]}),
    );
    let mut handles = Vec::new();
    for _ in 0..6 {
        let (app, body) = (app.clone(), long.clone());
        handles.push(tokio::spawn(async move {
            post(&app, "/v1/chat/completions", body).await
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        let (s, v) = h.await.unwrap();
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(v["error"]["code"], "queue_full", "{v}");
        }
        statuses.push(s.as_u16());
    }
    assert!(statuses.contains(&200) && statuses.contains(&429), "{statuses:?}");
}

/// The `data:` payloads of a server-sent event stream.
fn sse_data(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
        .map(|d| d.trim().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_chunks_add_up_to_the_answer() {
    let app = app(&options());
    let body = chat(json!({"temperature": 0, "max_tokens": 24, "ignore_eos": true}));
    let (_, whole) = post(&app, "/v1/chat/completions", body.clone()).await;
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let (s, text) = call(&app, "POST", "/v1/chat/completions", Some(streamed), None).await;
    assert_eq!(s, StatusCode::OK);
    let data = sse_data(&text);
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        content,
        whole["choices"][0]["message"]["content"].as_str().unwrap()
    );
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"], whole["usage"]);
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str())
        .unwrap();
    assert_eq!(finish, "length");
    // Text completions stream too.
    let (_, text) = call(
        &app,
        "POST",
        "/v1/completions",
        Some(json!({"model": "tiny", "prompt": "Steel", "max_tokens": 8, "temperature": 0, "stream": true})),
        None,
    )
    .await;
    assert_eq!(sse_data(&text).last().unwrap(), "[DONE]");
}

async fn generated_so_far(app: &axum::Router) -> u64 {
    let (_, m) = call(app, "GET", "/metrics", None, None).await;
    m.lines()
        .find_map(|l| l.strip_prefix("llm_generation_tokens_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_goes_away_stops_its_generation() {
    let app = app(&options());
    let mut body = chat(json!({"temperature": 0, "max_tokens": 1900, "stream": true, "ignore_eos": true}));
    body["messages"] = json!([{"role": "user", "content": "x"}]);
    let req = Request::builder()
        .method("POST")
        .uri("/v1/chat/completions")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let mut stream = resp.into_body();
    let _first = stream.frame().await.unwrap().unwrap();
    drop(stream);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let a = generated_so_far(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let b = generated_so_far(&app).await;
    assert_eq!(a, b, "generation went on after the client left");
    assert!(a < 1900, "{a}");
    let (_, m) = call(&app, "GET", "/metrics", None, None).await;
    assert!(m.contains("llm_requests_running 0"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_strings_cut_the_answer() {
    let app = app(&options());
    let (_, whole) = post(&app, "/v1/completions", json!({"model": "tiny", "prompt": "The footprint of steel", "max_tokens": 40, "temperature": 0, "ignore_eos": true})).await;
    let text = whole["choices"][0]["text"].as_str().unwrap().to_string();
    // A stop string from the middle of the greedy answer (on a character boundary).
    let chars: Vec<char> = text.chars().collect();
    let stop: String = chars[chars.len() / 2..chars.len() / 2 + 2].iter().collect();
    let (_, cut) = post(&app, "/v1/completions", json!({"model": "tiny", "prompt": "The footprint of steel", "max_tokens": 40, "temperature": 0, "ignore_eos": true, "stop": [stop]})).await;
    let got = cut["choices"][0]["text"].as_str().unwrap();
    assert_eq!(cut["choices"][0]["finish_reason"], "stop", "{cut}");
    assert_eq!(got, &text[..text.find(&stop).unwrap()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_does_not_depend_on_the_rest_of_the_batch() {
    let app = app(&options());
    let prompts = [
        "How much CO2 does China emit?",
        "Steel",
        "What will CBAM cost on cement from India in 2027?",
    ];
    let body = |p: &str| json!({"model": "tiny", "prompt": p, "max_tokens": 24, "temperature": 0, "ignore_eos": true});
    let mut alone = Vec::new();
    for p in prompts {
        alone.push(post(&app, "/v1/completions", body(p)).await.1["choices"][0]["text"].clone());
    }
    let handles: Vec<_> = prompts
        .iter()
        .map(|p| {
            let (app, b) = (app.clone(), body(p));
            tokio::spawn(
                async move { post(&app, "/v1/completions", b).await.1["choices"][0]["text"].clone() },
            )
        })
        .collect();
    for (h, a) in handles.into_iter().zip(alone) {
        assert_eq!(h.await.unwrap(), a);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bf16_on_cpu_serves_too() {
    let app = app(&NodeOptions {
        kind: tch::Kind::BFloat16,
        ..options()
    });
    let (s, v) = post(
        &app,
        "/v1/chat/completions",
        chat(json!({"max_tokens": 4, "temperature": 0})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
