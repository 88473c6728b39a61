//! The OpenAPI 3.1 document served at `/openapi.json`. Request and response schemas are generated
//! from the Rust types by schemars (JSON Schema 2020-12, which OpenAPI 3.1 uses as is); the paths
//! below say which type each route takes and returns.

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Value, json};

use cb_core::runs::{RunEvent, RunState, RunSummary};

use crate::api::{Accepted, ChatRequest, ErrorBody, QuestionRequest, ServiceStatus};

fn reference<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

/// The document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas/".into();
    let mut g = settings.into_generator();
    let question = reference::<QuestionRequest>(&mut g);
    let accepted = reference::<Accepted>(&mut g);
    let error = reference::<ErrorBody>(&mut g);
    let run = reference::<RunState>(&mut g);
    let event = reference::<RunEvent>(&mut g);
    let summary = reference::<RunSummary>(&mut g);
    let chat = reference::<ChatRequest>(&mut g);
    let status = reference::<ServiceStatus>(&mut g);
    let schemas = g.take_definitions(true);
    let json_body = |description: &str, schema: &Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    let err = |description: &str| json!({"description": description, "content": {"application/json": {"schema": error}}});
    let run_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Carbon Butler",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Ask carbon-accounting questions in plain language; follow the agents' work; read answers in which every number carries its unit, uncertainty and source.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "paths": {
            "/v1/questions": {"post": {
                "summary": "Ask a question",
                "operationId": "askQuestion",
                "requestBody": {"required": true, "content": {"application/json": {"schema": question}}},
                "responses": {
                    "202": {"description": "Accepted: the run id and where to follow it", "content": {"application/json": {"schema": accepted}}},
                    "400": err("The question or its files are invalid"),
                    "429": err("Busy: too much work outstanding; retry after the Retry-After header's seconds"),
                    "503": err("The run store (Redis) is unavailable")
                }
            }},
            "/v1/runs": {"get": {
                "summary": "Recent runs, newest first",
                "operationId": "listRuns",
                "parameters": [{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": {"200": json_body("The runs", &json!({"type": "object", "properties": {"runs": {"type": "array", "items": summary}}}))}
            }},
            "/v1/runs/{id}": {"get": {
                "summary": "A run: status, plan, planning attempts, answer and results",
                "operationId": "getRun",
                "parameters": [run_id],
                "responses": {"200": json_body("The run", &run), "404": err("No such run")}
            }},
            "/v1/runs/{id}/events": {"get": {
                "summary": "Progress as server-sent events (accepted, plan_rejected, planned, task_started, task_finished, answer, failed); send Last-Event-ID to resume",
                "operationId": "runEvents",
                "parameters": [run_id],
                "responses": {
                    "200": {"description": "An event stream; each event's data is a RunEvent", "content": {"text/event-stream": {"schema": event}}},
                    "404": err("No such run")
                }
            }},
            "/v1/runs/{id}/graph": {"get": {
                "summary": "The run's supply-chain dependency graph",
                "operationId": "runGraph",
                "parameters": [run_id, {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "dot", "graphml"], "default": "json"}}],
                "responses": {
                    "200": {"description": "The graph", "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "text/vnd.graphviz": {"schema": {"type": "string"}},
                        "application/graphml+xml": {"schema": {"type": "string"}}
                    }},
                    "400": err("Unknown format"),
                    "404": err("No such run"),
                    "409": err("The run has not finished")
                }
            }},
            "/v1/runs/{id}/audit": {"get": {
                "summary": "The run's decision log: entries, signed head, and the verification of both against this server's key",
                "operationId": "runAudit",
                "parameters": [run_id],
                "responses": {"200": {"description": "The log and its verification", "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": err("No log for this run")}
            }},
            "/v1/chat/completions": {"post": {
                "summary": "OpenAI-compatible chat completions (model carbon-butler); the last user message is the question; stream: true sends chunks as server-sent events",
                "operationId": "chatCompletions",
                "requestBody": {"required": true, "content": {"application/json": {"schema": chat}}},
                "responses": {
                    "200": {"description": "A chat.completion, or chat.completion.chunk events ending in [DONE]", "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "text/event-stream": {"schema": {"type": "string"}}
                    }},
                    "400": err("No question in the messages"),
                    "404": err("Unknown model"),
                    "429": err("Busy")
                }
            }},
            "/v1/models": {"get": {"summary": "The chat façade's model", "operationId": "listModels", "responses": {"200": {"description": "A model list"}}}},
            "/health": {"get": {
                "summary": "Whether the server can take work (in the cluster: Redis answers); with an operator token (or without --auth) also the live workers and queue depths",
                "operationId": "health",
                "responses": {"200": {"description": "Healthy"}, "503": {"description": "Redis is unreachable"}}
            }},
            "/v1/status": {"get": {
                "summary": "Which agent kinds can take work now (live workers and queued tasks in the cluster)",
                "operationId": "status",
                "responses": {"200": json_body("The agents' status", &status), "503": json_body("Redis is unreachable", &status)}
            }},
            "/metrics": {"get": {"summary": "Prometheus metrics", "operationId": "metrics", "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        },
        "components": {"schemas": schemas}
    })
}
