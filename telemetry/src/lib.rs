//! OpenTelemetry for Carbon Butler's processes (`cbutler ask|serve|worker`, `cb-llm-node`).
//!
//! * [`init`] installs a tracer provider in every process, so every run has a real trace id
//!   (written into its decision log) whether or not anything is exported. Spans are exported over
//!   OTLP/HTTP (protobuf) only when the standard variables ask for it:
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), with
//!   `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`
//!   and `OTEL_TRACES_SAMPLER` read by the SDK as the specification says; `OTEL_SDK_DISABLED=true`
//!   or `OTEL_TRACES_EXPORTER=none` turns export off.
//! * Trace context travels as a W3C `traceparent`: in HTTP headers ([`inject_headers`],
//!   [`extract_headers`]) and as a field of a Redis stream entry ([`traceparent`],
//!   [`context_from_traceparent`]).
//! * [`attr`] names the attributes spans carry: the GenAI semantic conventions
//!   (`gen_ai.operation.name`, `gen_ai.request.model`, …) from
//!   `opentelemetry-semantic-conventions`, and Carbon Butler's own (`cbutler.run.id`, …).
//! * [`prometheus_response`] serves a process's Prometheus registry on `/metrics`.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

pub use opentelemetry;
pub use opentelemetry::trace::{FutureExt, Span, SpanKind, Status, TraceContextExt, Tracer};
pub use opentelemetry::{Context, KeyValue, StringValue};

/// Attribute names.
pub mod attr {
    pub use opentelemetry_semantic_conventions::attribute::{
        ERROR_TYPE, MESSAGING_DESTINATION_NAME, MESSAGING_SYSTEM, SERVER_ADDRESS, SERVER_PORT,
    };

    // The GenAI semantic conventions (github.com/open-telemetry/semantic-conventions-genai);
    // `opentelemetry-semantic-conventions` 0.33 deprecates its copies since they moved there.
    pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
    pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
    pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
    pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
    pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
    pub const GEN_AI_REQUEST_SEED: &str = "gen_ai.request.seed";
    pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
    pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
    pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
    pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";

    /// The run a span belongs to.
    pub const RUN_ID: &str = "cbutler.run.id";
    /// The plan's task id (`t1`, …).
    pub const TASK_ID: &str = "cbutler.task.id";
    /// The consumer that ran a task (`<worker>-<kind>-<slot>`, or `local:<kind>`).
    pub const WORKER: &str = "cbutler.worker";
    /// The attempt a worker is on (1 for the first delivery).
    pub const ATTEMPT: &str = "cbutler.task.attempt";
    /// Which planner made the plan (`rules`, `llm:<model>`).
    pub const PLANNER: &str = "cbutler.planner";
    /// `resumed` when a server picks up a run another began.
    pub const RUN_PHASE: &str = "cbutler.run.phase";
}

/// The instrumentation scope of every span Carbon Butler makes.
pub const SCOPE: &str = "carbon-butler";

/// The process's tracer provider. Dropping it exports what is queued and stops the exporter
/// (bounded: a collector that is down costs at most a few seconds at exit).
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        let _ = self.provider.shutdown_with_timeout(Duration::from_secs(5));
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Where spans would be exported by the standard variables, or `None`.
fn configured_endpoint() -> Option<String> {
    if env("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    if env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none")) {
        return None;
    }
    env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

/// Installs the process's tracer provider and the W3C trace-context propagator. `service` is the
/// `service.name` unless `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`)
/// says otherwise. An exporter that cannot be built (a malformed endpoint) is reported on stderr
/// and the process runs without export: telemetry never stops the product.
pub fn init(service: &str) -> Telemetry {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let named_by_env = env("OTEL_SERVICE_NAME").is_some()
        || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| a.contains("service.name="));
    let mut resource = Resource::builder();
    if !named_by_env {
        resource = resource.with_service_name(service.to_string());
    }
    let mut builder = SdkTracerProvider::builder().with_resource(resource.build());
    if let Some(endpoint) = configured_endpoint() {
        use opentelemetry_otlp::{Protocol, WithExportConfig};
        // The workspace's reqwest is built without a bundled crypto provider; ring is ours.
        let _ = rustls::crypto::ring::default_provider().install_default();
        match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build()
        {
            Ok(exporter) => builder = builder.with_batch_exporter(exporter),
            Err(e) => eprintln!(
                "warning: OpenTelemetry export is off: the OTLP exporter for {endpoint} could not be built: {e}"
            ),
        }
    }
    let provider = builder.build();
    global::set_tracer_provider(provider.clone());
    Telemetry { provider }
}

/// The tracer every span is started with.
pub fn tracer() -> global::BoxedTracer {
    global::tracer(SCOPE)
}

/// Starts a span as a child of `parent` and returns the context that holds it (end it with
/// `cx.span().end()`, or let the last clone of the context drop).
pub fn start_with_parent(
    parent: &Context,
    name: impl Into<std::borrow::Cow<'static, str>>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Context {
    let tracer = tracer();
    let span = tracer
        .span_builder(name)
        .with_kind(kind)
        .with_attributes(attributes)
        .start_with_context(&tracer, parent);
    parent.with_span(span)
}

/// Starts a span as a child of the current context (see [`start_with_parent`]).
pub fn start(
    name: impl Into<std::borrow::Cow<'static, str>>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Context {
    start_with_parent(&Context::current(), name, kind, attributes)
}

/// The trace id of a context's span as 32 hex digits, or `None` when it has no valid span.
pub fn trace_id(cx: &Context) -> Option<String> {
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// A context's span as a W3C `traceparent` value, or `None` when it has no valid span.
pub fn traceparent(cx: &Context) -> Option<String> {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(cx, &mut carrier);
    carrier.remove("traceparent")
}

/// A context whose remote parent is the span a `traceparent` names (an empty context when the
/// value is not a valid `traceparent`).
pub fn context_from_traceparent(value: &str) -> Context {
    let carrier = HashMap::from([("traceparent".to_string(), value.to_string())]);
    TraceContextPropagator::new().extract(&carrier)
}

/// Writes a context's `traceparent` (and `tracestate`) into HTTP headers.
pub fn inject_headers(cx: &Context, headers: &mut http::HeaderMap) {
    global::get_text_map_propagator(|p| p.inject_context(cx, &mut HeaderInjector(headers)));
}

/// The remote context an HTTP request's `traceparent` carries (empty if it has none).
pub fn extract_headers(headers: &http::HeaderMap) -> Context {
    global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}

/// Finish reasons as the string array `gen_ai.response.finish_reasons` wants.
pub fn finish_reasons(reasons: &[String]) -> KeyValue {
    let values: Vec<StringValue> = reasons.iter().cloned().map(StringValue::from).collect();
    KeyValue::new(
        attr::GEN_AI_RESPONSE_FINISH_REASONS,
        opentelemetry::Value::Array(values.into()),
    )
}

/// A registry's metrics in Prometheus' text exposition format, as the response a scraper
/// expects (500 with the reason if they cannot be encoded).
pub fn prometheus_response(registry: &prometheus::Registry) -> http::Response<String> {
    let (status, content_type, body) =
        match prometheus::TextEncoder::new().encode_to_string(&registry.gather()) {
            Ok(text) => (http::StatusCode::OK, "text/plain; version=0.0.4", text),
            Err(e) => (
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                format!("cannot encode the metrics: {e}"),
            ),
        };
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_round_trips_through_a_stream_field_and_http_headers() {
        let _t = init("cb-telemetry-test");
        let tracer = tracer();
        let span = tracer.start("parent");
        let cx = Context::current_with_span(span);
        let tp = traceparent(&cx).expect("a sampled span has a traceparent");
        let id = trace_id(&cx).unwrap();
        assert!(tp.starts_with(&format!("00-{id}-")), "{tp}");
        assert_eq!(
            trace_id(&context_from_traceparent(&tp)).as_deref(),
            Some(id.as_str())
        );

        let mut headers = http::HeaderMap::new();
        inject_headers(&cx, &mut headers);
        assert_eq!(headers["traceparent"], tp.as_str());
        let remote = extract_headers(&headers);
        assert_eq!(trace_id(&remote), Some(id.clone()));
        assert!(remote.span().span_context().is_remote());

        // A child of the remote context keeps the trace.
        let child = tracer.start_with_context("child", &remote);
        assert_eq!(child.span_context().trace_id().to_string(), id);
    }

    #[test]
    fn garbage_is_no_parent() {
        assert_eq!(trace_id(&context_from_traceparent("not a traceparent")), None);
        assert_eq!(trace_id(&context_from_traceparent("00-0000-00-01")), None);
        assert_eq!(traceparent(&Context::new()), None);
    }
}
