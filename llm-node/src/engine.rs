//! The inference engine: one thread owns the model and its KV cache and runs a continuous-batching
//! scheduler. Requests wait in a bounded queue; between decode steps, waiting requests are
//! prefilled into free cache slots and join the running batch; finished or cancelled ones leave
//! it (their slot is filled by the last running sequence, so running slots stay contiguous).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::metrics::Metrics;
use crate::models::{CausalLm, KvCache};
use crate::sampling::{Sampled, Sampler, SamplingParams};
use crate::structured::{Grammar, Structured};
use crate::tokenizer::TextCodec;

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// EOS, a stop string, or a complete structured output.
    Stop,
    /// max_tokens or the context length.
    Length,
}

/// What a request hears from the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A generated token and the text it completes (empty while a character or a possible stop
    /// string is still open).
    Token {
        sampled: Sampled,
        text: String,
    },
    Done {
        finish: FinishReason,
        /// Text held back until the end (an incomplete character, a possible stop string that
        /// did not come).
        tail: String,
        prompt_tokens: usize,
        completion_tokens: usize,
    },
    Error(String),
}

/// A structured-output constraint: the grammar every generated token must follow.
pub struct Constraint {
    pub grammar: Arc<Grammar>,
}

/// One generation request.
pub struct Request {
    pub prompt: Vec<u32>,
    pub params: SamplingParams,
    pub max_tokens: usize,
    pub stop: Vec<String>,
    /// Go on past EOS until max_tokens (benchmarks and tests).
    pub ignore_eos: bool,
    pub constraint: Option<Constraint>,
    pub events: UnboundedSender<Event>,
    pub received: Instant,
}

/// The queue is full.
#[derive(Debug, thiserror::Error)]
#[error("the node is busy: {waiting} requests are waiting (the queue holds {capacity}); retry later")]
pub struct Busy {
    pub waiting: usize,
    pub capacity: usize,
}

/// How the engine is sized.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Sequences decoded together.
    pub max_batch: usize,
    /// Requests that may wait for a slot.
    pub max_queue: usize,
    /// Tokens per sequence (prompt + completion).
    pub context: usize,
}

/// The handle request handlers use.
#[derive(Clone)]
pub struct EngineHandle {
    tx: SyncSender<Request>,
    waiting: Arc<AtomicUsize>,
    capacity: usize,
}

impl EngineHandle {
    /// Queues a request, or says the queue is full.
    pub fn submit(&self, request: Request) -> Result<(), Busy> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        match self.tx.try_send(request) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                let waiting = self.waiting.fetch_sub(1, Ordering::SeqCst) - 1;
                Err(Busy {
                    waiting,
                    capacity: self.capacity,
                })
            }
        }
    }
}

struct Sequence {
    request: Request,
    sampler: Sampler,
    /// The structured-output state of a constrained sequence.
    matcher: Option<llguidance::Matcher>,
    /// Generated tokens (EOS not included).
    generated: Vec<u32>,
    /// The last token, to feed at the next decode step.
    last: u32,
    /// Position of `last`.
    position: usize,
    /// Text of the generated tokens (cut at a stop string).
    text: String,
    /// `text` of `generated[..settled]`, which later tokens no longer change.
    settled_text: String,
    settled: usize,
    emitted: usize,
    last_token_at: Instant,
}

/// Tokens decoded again at each step before their text is settled: decoding only the tail keeps
/// a step's detokenisation cost constant however long the answer grows.
const SETTLE_AFTER: usize = 8;

/// Starts the engine thread for `model` and returns its handle.
pub fn start(
    model: CausalLm,
    codec: Arc<TextCodec>,
    structured: Arc<Structured>,
    eos: Vec<u32>,
    config: EngineConfig,
    metrics: Arc<Metrics>,
) -> EngineHandle {
    let (tx, rx) = sync_channel(config.max_queue);
    let waiting = Arc::new(AtomicUsize::new(0));
    let handle = EngineHandle {
        tx,
        waiting: waiting.clone(),
        capacity: config.max_queue,
    };
    std::thread::Builder::new()
        .name("llm-engine".into())
        .spawn(move || {
            let _guard = tch::no_grad_guard();
            let cache = model.new_cache(config.max_batch, config.context);
            Scheduler {
                model,
                codec,
                structured,
                eos,
                cache,
                running: Vec::new(),
                rx,
                waiting,
                metrics,
                config,
            }
            .run();
        })
        .expect("the engine thread starts");
    handle
}

struct Scheduler {
    model: CausalLm,
    codec: Arc<TextCodec>,
    structured: Arc<Structured>,
    eos: Vec<u32>,
    cache: KvCache,
    running: Vec<Sequence>,
    rx: Receiver<Request>,
    waiting: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
    config: EngineConfig,
}

/// The longest suffix of `text` that starts one of `stops` (held back while streaming).
fn open_stop_prefix(text: &str, stops: &[String]) -> usize {
    stops
        .iter()
        .flat_map(|s| {
            (1..s.len())
                .filter(move |&k| s.is_char_boundary(k))
                .map(move |k| &s[..k])
        })
        .filter(|p| text.ends_with(p))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

impl Scheduler {
    fn run(mut self) {
        loop {
            // Admit: block for work when idle, otherwise take what is waiting.
            while self.running.len() < self.config.max_batch {
                let next = if self.running.is_empty() {
                    match self.rx.recv() {
                        Ok(r) => r,
                        Err(_) => return,
                    }
                } else {
                    match self.rx.try_recv() {
                        Ok(r) => r,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return,
                    }
                };
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                self.admit(next);
            }
            self.metrics
                .set_queue(self.running.len(), self.waiting.load(Ordering::SeqCst));
            if !self.running.is_empty() {
                self.decode_step();
                self.metrics
                    .set_queue(self.running.len(), self.waiting.load(Ordering::SeqCst));
            }
        }
    }

    /// Prefills a request into the next free slot and samples its first token.
    fn admit(&mut self, request: Request) {
        if request.events.is_closed() {
            return;
        }
        let slot = self.running.len();
        let ids: Vec<i64> = request.prompt.iter().map(|&t| t as i64).collect();
        let logits = self.model.prefill(&ids, slot, &mut self.cache);
        let last = logits.get(ids.len() as i64 - 1);
        let logits: Vec<f32> = match Vec::<f32>::try_from(&last) {
            Ok(v) => v,
            Err(e) => {
                let _ = request.events.send(Event::Error(format!("prefill failed: {e}")));
                return;
            }
        };
        self.metrics.prompt_tokens(request.prompt.len());
        let sampler = Sampler::new(request.params.clone(), &request.prompt);
        let matcher = request
            .constraint
            .as_ref()
            .map(|c| self.structured.matcher(&c.grammar));
        let position = request.prompt.len();
        let mut seq = Sequence {
            request,
            sampler,
            matcher,
            generated: Vec::new(),
            last: 0,
            position,
            text: String::new(),
            settled_text: String::new(),
            settled: 0,
            emitted: 0,
            last_token_at: Instant::now(),
        };
        self.metrics
            .time_to_first_token(seq.request.received.elapsed().as_secs_f64());
        let done = Self::choose_with(
            &self.codec,
            &self.structured,
            &self.eos,
            &self.config,
            &self.metrics,
            &mut seq,
            &logits,
        );
        if let Some(done) = done {
            self.finish(seq, done);
        } else {
            self.running.push(seq);
        }
    }

    /// One decode step for every running sequence.
    fn decode_step(&mut self) {
        let ids: Vec<i64> = self.running.iter().map(|s| s.last as i64).collect();
        let positions: Vec<i64> = self.running.iter().map(|s| s.position as i64).collect();
        let logits = self.model.decode(&ids, &positions, &mut self.cache);
        let rows: Vec<Vec<f32>> = (0..ids.len())
            .map(|b| Vec::<f32>::try_from(&logits.get(b as i64)).unwrap_or_default())
            .collect();
        let mut finished = Vec::new();
        for (b, row) in rows.iter().enumerate() {
            let seq = &mut self.running[b];
            seq.position += 1;
            let now = Instant::now();
            self.metrics
                .inter_token_latency(now.duration_since(seq.last_token_at).as_secs_f64());
            seq.last_token_at = now;
            if seq.request.events.is_closed() {
                finished.push((b, None));
                continue;
            }
            if let Some(done) = Self::choose_with(
                &self.codec,
                &self.structured,
                &self.eos,
                &self.config,
                &self.metrics,
                seq,
                row,
            ) {
                finished.push((b, Some(done)));
            }
        }
        // Leave in descending slot order; the last running sequence fills each freed slot.
        for (b, done) in finished.into_iter().rev() {
            let last = self.running.len() - 1;
            let seq = self.running.swap_remove(b);
            if b != last {
                let moved_len = self.running[b].position;
                self.cache.move_slot(last, b, moved_len);
            }
            if let Some(done) = done {
                self.finish(seq, done);
            }
        }
    }

    /// Samples the next token of `seq`, emits its text; `Some` when the sequence is done.
    fn choose_with(
        codec: &TextCodec,
        structured: &Structured,
        eos: &[u32],
        config: &EngineConfig,
        metrics: &Metrics,
        seq: &mut Sequence,
        logits: &[f32],
    ) -> Option<FinishReason> {
        let mask = seq.matcher.as_mut().map(|m| {
            let started = Instant::now();
            let mut mask = structured.mask(m);
            metrics.mask_seconds(started.elapsed().as_secs_f64());
            // The model's vocabulary may be padded beyond the tokenizer's: never those ids.
            mask.resize(logits.len().max(mask.len()), false);
            mask
        });
        let Some(sampled) = seq.sampler.sample(logits, mask.as_deref()) else {
            // Nothing fits the grammar: end here rather than emit something invalid.
            return Some(FinishReason::Stop);
        };
        let token = sampled.token;
        match &seq.matcher {
            // Under a grammar, end-of-sequence is offered only once the document may end.
            Some(_) if structured.is_eos(token) || eos.contains(&token) => return Some(FinishReason::Stop),
            None if !seq.request.ignore_eos && eos.contains(&token) => return Some(FinishReason::Stop),
            _ => {}
        }
        seq.generated.push(token);
        seq.last = token;
        metrics.generated_tokens(1);
        let mut done = None;
        if let Some(m) = seq.matcher.as_mut()
            && (structured.commit(m, token).is_err() || structured.is_finished(m))
        {
            done = Some(FinishReason::Stop);
        }
        let tail = codec.decode(&seq.generated[seq.settled..]);
        seq.text = format!("{}{tail}", seq.settled_text);
        if seq.generated.len() - seq.settled >= SETTLE_AFTER && !tail.ends_with('\u{FFFD}') {
            seq.settled_text.push_str(&tail);
            seq.settled = seq.generated.len();
        }
        let stops = &seq.request.stop;
        let mut end = seq.text.len();
        if let Some(at) = stops.iter().filter_map(|s| seq.text.find(s.as_str())).min() {
            end = at;
            seq.text.truncate(at);
            done = Some(FinishReason::Stop);
        } else if done.is_none() {
            end -= open_stop_prefix(&seq.text, stops);
            if seq.text[..end].ends_with('\u{FFFD}') {
                end = seq.emitted.max(end.saturating_sub('\u{FFFD}'.len_utf8()));
            }
        }
        let piece = if end > seq.emitted && seq.text.is_char_boundary(end) {
            let p = seq.text[seq.emitted..end].to_string();
            seq.emitted = end;
            p
        } else {
            String::new()
        };
        let _ = seq.request.events.send(Event::Token { sampled, text: piece });
        if done.is_none()
            && (seq.generated.len() >= seq.request.max_tokens || seq.position + 1 >= config.context)
        {
            done = Some(FinishReason::Length);
        }
        done
    }

    fn finish(&self, seq: Sequence, finish: FinishReason) {
        let tail = seq.text.get(seq.emitted..).unwrap_or_default().to_string();
        let _ = seq.request.events.send(Event::Done {
            finish,
            tail,
            prompt_tokens: seq.request.prompt.len(),
            completion_tokens: seq.generated.len(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_stop_strings_are_held_back() {
        let stops = vec!["END".to_string(), "\n\n".to_string()];
        assert_eq!(open_stop_prefix("abc E", &stops), 1);
        assert_eq!(open_stop_prefix("abc EN", &stops), 2);
        assert_eq!(open_stop_prefix("abc\n", &stops), 1);
        assert_eq!(open_stop_prefix("abc", &stops), 0);
    }
}
