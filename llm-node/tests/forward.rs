//! The Rust forward pass against transformers on the committed tiny random checkpoints
//! (SYNTHETIC weights; see tests/fixtures/make_fixtures.py): logits to 1e-4, greedy tokens
//! exactly, alone and batched with another sequence.

use std::path::{Path, PathBuf};

use cb_llm_node::models::CausalLm;
use tch::{Device, Kind, Tensor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Case {
    prompt: String,
    prompt_ids: Vec<i64>,
    greedy_ids: Vec<i64>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap();
    let ids = |x: &serde_json::Value| {
        x.as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_i64().unwrap())
            .collect()
    };
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            prompt: c["prompt"].as_str().unwrap().to_string(),
            prompt_ids: ids(&c["prompt_ids"]),
            greedy_ids: ids(&c["greedy_ids"]),
        })
        .collect()
}

fn argmax(logits: &Tensor) -> i64 {
    logits.argmax(-1, false).int64_value(&[])
}

/// Greedy continuations of all cases at once: each prompt prefilled into its own slot, then
/// decoded together, one token per sequence per step.
fn greedy_batched(model: &CausalLm, prompts: &[&[i64]], n: usize) -> Vec<Vec<i64>> {
    let mut cache = model.new_cache(prompts.len(), 128);
    let mut next: Vec<i64> = prompts
        .iter()
        .enumerate()
        .map(|(slot, p)| argmax(&model.prefill(p, slot, &mut cache).get(p.len() as i64 - 1)))
        .collect();
    let mut out: Vec<Vec<i64>> = next.iter().map(|t| vec![*t]).collect();
    let mut positions: Vec<i64> = prompts.iter().map(|p| p.len() as i64).collect();
    for _ in 1..n {
        let logits = model.decode(&next, &positions, &mut cache);
        for (b, o) in out.iter_mut().enumerate() {
            next[b] = argmax(&logits.get(b as i64));
            o.push(next[b]);
            positions[b] += 1;
        }
    }
    out
}

fn check(name: &str) {
    let _guard = tch::no_grad_guard();
    let dir = fixture(name);
    let model = CausalLm::load(&dir, Device::Cpu, Kind::Float).unwrap();
    let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    let refs = tch::Tensor::read_safetensors(dir.join("reference_logits.safetensors")).unwrap();
    let cases = cases(&dir);
    for (i, case) in cases.iter().enumerate() {
        let ids: Vec<i64> = tokenizer
            .encode(case.prompt.as_str(), false)
            .unwrap()
            .get_ids()
            .iter()
            .map(|&x| x as i64)
            .collect();
        assert_eq!(
            ids, case.prompt_ids,
            "{name}: the Rust tokenizer gives transformers' ids"
        );
        let mut cache = model.new_cache(1, 128);
        let logits = model.prefill(&ids, 0, &mut cache);
        let (_, reference) = refs.iter().find(|(n, _)| *n == format!("logits_{i}")).unwrap();
        let diff = (&logits - reference).abs().max().double_value(&[]);
        assert!(diff < 1e-4, "{name} case {i}: largest logit difference {diff}");
        let alone = greedy_batched(&model, &[&ids], case.greedy_ids.len());
        assert_eq!(alone[0], case.greedy_ids, "{name} case {i}: greedy alone");
    }
    // Batched: both prompts (of different lengths) decoded together give the same tokens.
    let prompts: Vec<&[i64]> = cases.iter().map(|c| c.prompt_ids.as_slice()).collect();
    let batched = greedy_batched(&model, &prompts, cases[0].greedy_ids.len());
    for (case, got) in cases.iter().zip(&batched) {
        assert_eq!(got, &case.greedy_ids, "{name}: greedy in a batch");
    }
}

#[test]
fn qwen2_matches_transformers() {
    check("qwen2-tiny");
}

#[test]
fn qwen3_sharded_matches_transformers() {
    check("qwen3-tiny");
}

/// bf16 against the f32 reference logits of transformers: bf16 keeps 8 bits of mantissa (relative
/// rounding 2⁻⁸ ≈ 0.4 % per operation, compounded through the layers), so the stated tolerance
/// is 2 % of the largest reference logit (measured: under 1 %).
#[test]
fn bf16_logits_agree_with_the_f32_reference_within_bf16_precision() {
    let _guard = tch::no_grad_guard();
    for name in ["qwen2-tiny", "qwen3-tiny"] {
        let dir = fixture(name);
        let model = CausalLm::load(&dir, Device::Cpu, Kind::BFloat16).unwrap();
        let refs = tch::Tensor::read_safetensors(dir.join("reference_logits.safetensors")).unwrap();
        for (i, case) in cases(&dir).iter().enumerate() {
            let mut cache = model.new_cache(1, 128);
            let logits = model
                .prefill(&case.prompt_ids, 0, &mut cache)
                .to_kind(Kind::Float);
            let (_, reference) = refs.iter().find(|(n, _)| *n == format!("logits_{i}")).unwrap();
            let scale = reference.abs().max().double_value(&[]);
            let diff = (&logits - reference).abs().max().double_value(&[]);
            eprintln!("{name} case {i}: bf16 largest difference {diff:.4} of largest logit {scale:.3}");
            assert!(diff <= 0.02 * scale, "{name} case {i}: {diff} against {scale}");
        }
    }
}
