//! Prometheus metrics of the node (the `prometheus` crate): requests running and waiting, prompt
//! and generated tokens, time to first token, inter-token latency, structured-output mask time,
//! requests by outcome.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    running: IntGauge,
    waiting: IntGauge,
    prompt_tokens: IntCounter,
    generation_tokens: IntCounter,
    ttft: Histogram,
    itl: Histogram,
    mask: Histogram,
    requests: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("a valid metric");
            registry.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("a valid metric");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("a valid metric");
            registry.register(Box::new(h.clone())).expect("registered once");
            h
        };
        let requests = IntCounterVec::new(
            Opts::new("llm_requests_total", "Requests by endpoint and HTTP status"),
            &["endpoint", "status"],
        )
        .expect("a valid metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        Metrics {
            running: gauge("llm_requests_running", "Sequences in the running batch"),
            waiting: gauge("llm_requests_waiting", "Requests waiting for a slot"),
            prompt_tokens: counter("llm_prompt_tokens_total", "Prompt tokens prefilled"),
            generation_tokens: counter("llm_generation_tokens_total", "Tokens generated"),
            ttft: histogram(
                "llm_time_to_first_token_seconds",
                "Time from receiving a request to its first token",
                vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
            ),
            itl: histogram(
                "llm_inter_token_latency_seconds",
                "Time between a sequence's consecutive tokens",
                vec![0.001, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28],
            ),
            mask: histogram(
                "llm_structured_mask_seconds",
                "Time to compute one token's structured-output mask",
                vec![0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
            ),
            requests,
            registry,
        }
    }

    pub fn set_queue(&self, running: usize, waiting: usize) {
        self.running.set(running as i64);
        self.waiting.set(waiting as i64);
    }

    pub fn prompt_tokens(&self, n: usize) {
        self.prompt_tokens.inc_by(n as u64);
    }

    pub fn generated_tokens(&self, n: usize) {
        self.generation_tokens.inc_by(n as u64);
    }

    pub fn mask_seconds(&self, seconds: f64) {
        self.mask.observe(seconds);
    }

    pub fn time_to_first_token(&self, seconds: f64) {
        self.ttft.observe(seconds);
    }

    pub fn inter_token_latency(&self, seconds: f64) {
        self.itl.observe(seconds);
    }

    pub fn request(&self, endpoint: &str, status: u16) {
        self.requests
            .with_label_values(&[endpoint, &status.to_string()])
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
