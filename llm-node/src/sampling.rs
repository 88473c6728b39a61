//! Choosing the next token from the logits: repetition, frequency and presence penalties,
//! temperature, top-k, top-p, a seeded generator, an optional mask of allowed tokens (structured
//! output), and the log-probabilities the API reports.

use std::collections::HashMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How to sample, as a request asks (OpenAI's parameters plus top_k and repetition_penalty).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 is greedy.
    pub temperature: f64,
    pub top_p: f64,
    /// 0 keeps every token.
    pub top_k: usize,
    pub seed: Option<u64>,
    /// transformers' rule: a seen token's positive logit is divided by it, a negative one
    /// multiplied (1 = off).
    pub repetition_penalty: f64,
    /// OpenAI's rule: `logit −= frequency·count + presence·[count > 0]` over generated tokens.
    pub frequency_penalty: f64,
    pub presence_penalty: f64,
    /// How many alternatives to report with each token's log-probability (None = no logprobs).
    pub top_logprobs: Option<usize>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            seed: None,
            repetition_penalty: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            top_logprobs: None,
        }
    }
}

/// A chosen token with its log-probability under the model and the most likely alternatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    pub token: u32,
    pub logprob: f32,
    pub top: Vec<(u32, f32)>,
}

/// One request's sampler: its parameters, generator and the tokens seen so far.
pub struct Sampler {
    params: SamplingParams,
    rng: ChaCha8Rng,
    /// Prompt tokens (for the repetition penalty).
    prompt: std::collections::HashSet<u32>,
    /// Generated tokens and how often.
    counts: HashMap<u32, usize>,
}

fn log_softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = x.iter().map(|v| (v - max).exp()).sum();
    let lse = max + sum.ln();
    x.iter().map(|v| v - lse).collect()
}

impl Sampler {
    pub fn new(params: SamplingParams, prompt: &[u32]) -> Sampler {
        let rng = match params.seed {
            Some(s) => ChaCha8Rng::seed_from_u64(s),
            None => ChaCha8Rng::seed_from_u64(rand::rng().random()),
        };
        Sampler {
            params,
            rng,
            prompt: prompt.iter().copied().collect(),
            counts: HashMap::new(),
        }
    }

    /// Records a token that was emitted without sampling (forced by a grammar).
    pub fn record(&mut self, token: u32) {
        *self.counts.entry(token).or_default() += 1;
    }

    /// Picks the next token from `logits`; tokens with `allowed[t] == false` are never chosen.
    /// `None` when no token is allowed.
    pub fn sample(&mut self, logits: &[f32], allowed: Option<&[bool]>) -> Option<Sampled> {
        let p = self.params.clone();
        let model_logprobs = log_softmax(logits);
        let mut x: Vec<f32> = logits.to_vec();
        if p.repetition_penalty != 1.0 {
            let r = p.repetition_penalty as f32;
            for &t in self.prompt.iter().chain(self.counts.keys()) {
                if let Some(v) = x.get_mut(t as usize) {
                    *v = if *v > 0.0 { *v / r } else { *v * r };
                }
            }
        }
        for (&t, &n) in &self.counts {
            if let Some(v) = x.get_mut(t as usize) {
                *v -= p.frequency_penalty as f32 * n as f32 + p.presence_penalty as f32;
            }
        }
        if let Some(mask) = allowed {
            for (v, ok) in x.iter_mut().zip(mask) {
                if !ok {
                    *v = f32::NEG_INFINITY;
                }
            }
        }
        let finite: Vec<usize> = (0..x.len()).filter(|&i| x[i].is_finite()).collect();
        if finite.is_empty() {
            return None;
        }
        // Larger logit first; the lower id wins a tie, so every selection is deterministic.
        let by_logit = |a: &usize, b: &usize| x[*b].total_cmp(&x[*a]).then(a.cmp(b));
        let best = *finite.iter().min_by(|a, b| by_logit(a, b)).expect("not empty");
        let token = if p.temperature <= 0.0 {
            best
        } else {
            let t = p.temperature as f32;
            let max = x[best];
            let weight = |i: usize| ((x[i] - max) / t).exp();
            // The k best, sorted (selection, not a sort of the whole vocabulary).
            let top = |k: usize| -> Vec<usize> {
                let mut v = finite.clone();
                if k < v.len() {
                    v.select_nth_unstable_by(k, by_logit);
                    v.truncate(k);
                }
                v.sort_by(by_logit);
                v
            };
            let mut candidates = if p.top_k > 0 { top(p.top_k) } else { finite.clone() };
            if p.top_p < 1.0 {
                let total: f32 = candidates.iter().map(|&i| weight(i)).sum();
                // Widen a sorted prefix until it holds top_p of the mass.
                let mut k = 64.min(candidates.len());
                loop {
                    let prefix = if p.top_k > 0 {
                        candidates[..k].to_vec()
                    } else {
                        top(k)
                    };
                    let mut acc = 0.0;
                    let cut = prefix.iter().position(|&i| {
                        acc += weight(i) / total;
                        acc >= p.top_p as f32
                    });
                    if let Some(c) = cut {
                        candidates = prefix[..=c].to_vec();
                        break;
                    }
                    if k == candidates.len() {
                        break;
                    }
                    k = (k * 8).min(candidates.len());
                }
            }
            let kept: f32 = candidates.iter().map(|&i| weight(i)).sum();
            let mut u = self.rng.random::<f32>() * kept;
            let mut pick = *candidates.last().expect("not empty");
            for &i in &candidates {
                let w = weight(i);
                if u < w {
                    pick = i;
                    break;
                }
                u -= w;
            }
            pick
        };
        self.record(token as u32);
        let top = match p.top_logprobs {
            Some(n) if n > 0 => {
                let by_lp =
                    |a: &usize, b: &usize| model_logprobs[*b].total_cmp(&model_logprobs[*a]).then(a.cmp(b));
                let mut idx: Vec<usize> = (0..model_logprobs.len()).collect();
                if n < idx.len() {
                    idx.select_nth_unstable_by(n, by_lp);
                    idx.truncate(n);
                }
                idx.sort_by(by_lp);
                idx.into_iter().map(|i| (i as u32, model_logprobs[i])).collect()
            }
            _ => Vec::new(),
        };
        Some(Sampled {
            token: token as u32,
            logprob: model_logprobs[token],
            top,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(temperature: f64) -> SamplingParams {
        SamplingParams {
            temperature,
            seed: Some(7),
            ..Default::default()
        }
    }

    #[test]
    fn greedy_masks_and_penalties() {
        let logits = [1.0, 3.0, 2.0, -1.0];
        let mut s = Sampler::new(params(0.0), &[]);
        assert_eq!(s.sample(&logits, None).unwrap().token, 1);
        // The mask wins over the logits.
        assert_eq!(
            s.sample(&logits, Some(&[true, false, false, true]))
                .unwrap()
                .token,
            0
        );
        assert!(s.sample(&logits, Some(&[false; 4])).is_none());
        // A presence penalty of 5 on token 1 (generated once above) hands the lead to token 2.
        let mut s = Sampler::new(
            SamplingParams {
                presence_penalty: 5.0,
                ..params(0.0)
            },
            &[],
        );
        assert_eq!(s.sample(&logits, None).unwrap().token, 1);
        assert_eq!(s.sample(&logits, None).unwrap().token, 2);
        // transformers' repetition penalty on a prompt token: 3 / 2 = 1.5 < 2.
        let mut s = Sampler::new(
            SamplingParams {
                repetition_penalty: 2.0,
                ..params(0.0)
            },
            &[1],
        );
        assert_eq!(s.sample(&logits, None).unwrap().token, 2);
    }

    #[test]
    fn seeded_sampling_repeats_and_follows_the_distribution() {
        let logits = [0.0f32, 1.0f32.ln(), 2.0f32.ln(), f32::NEG_INFINITY];
        let draw = |seed| {
            let mut s = Sampler::new(
                SamplingParams {
                    seed: Some(seed),
                    ..params(1.0)
                },
                &[],
            );
            (0..4000)
                .map(|_| s.sample(&logits, None).unwrap().token)
                .collect::<Vec<_>>()
        };
        let a = draw(3);
        assert_eq!(a, draw(3));
        assert_ne!(a, draw(4));
        // Probabilities 1/4, 1/4, 1/2, 0 (the penalties are off).
        let share = |t| a.iter().filter(|&&x| x == t).count() as f64 / a.len() as f64;
        assert!((share(2) - 0.5).abs() < 0.03, "{}", share(2));
        assert_eq!(share(3), 0.0);
    }

    #[test]
    fn top_k_and_top_p_cut_the_tail() {
        let logits = [3.0f32, 2.0, 1.0, 0.0];
        for (k, p, allowed) in [(2usize, 1.0, [0u32, 1]), (0, 0.6, [0, 0])] {
            let mut s = Sampler::new(
                SamplingParams {
                    top_k: k,
                    top_p: p,
                    ..params(1.0)
                },
                &[],
            );
            for _ in 0..500 {
                let t = s.sample(&logits, None).unwrap().token;
                assert!(allowed.contains(&t), "{t}");
            }
        }
    }

    #[test]
    fn logprobs_are_the_models() {
        let logits = [0.0f32, 0.0];
        let mut s = Sampler::new(
            SamplingParams {
                top_logprobs: Some(2),
                ..params(0.0)
            },
            &[],
        );
        let x = s.sample(&logits, None).unwrap();
        assert!((x.logprob - 0.5f32.ln()).abs() < 1e-6);
        assert_eq!(x.top.len(), 2);
    }
}
