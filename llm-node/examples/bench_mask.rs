//! Benchmark: structured-output mask time per token. For a JSON Schema and a document valid
//! against it, the document is cut into tokens of a vocabulary and, token by token, the allowed-
//! token mask is computed (timed) and the token committed. Prints the vocabulary size, the tokens
//! and the mask time per token (mean, p50, p99, max).
//!
//! The vocabulary is SYNTHETIC: the 256 single bytes plus the most frequent words, word pieces
//! with a leading space or quote, punctuation runs and whitespace runs of this repository's
//! data/ and docs, up to `--vocab` entries (byte-level, like Qwen's). Run it through
//! `bench/structured_output.sh`, which names the schemas and documents.
//!
//! Usage: bench_mask --vocab 100000 SCHEMA DOCUMENT [SCHEMA DOCUMENT ...]

use std::collections::HashMap;
use std::time::{Duration, Instant};

fn collect_text(dir: &std::path::Path, out: &mut Vec<u8>, limit: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if out.len() >= limit {
            return;
        }
        if p.is_dir() {
            collect_text(&p, out, limit);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "csv" | "md" | "toml" | "json" | "txt" | "jsonl"))
            && let Ok(b) = std::fs::read(&p)
        {
            out.extend_from_slice(&b[..b.len().min(4 << 20)]);
        }
    }
}

/// The synthetic byte-level vocabulary, most frequent pieces first after the 256 bytes.
fn vocabulary(size: usize) -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut text = Vec::new();
    for d in ["data", "orchestrator/planner/corpus", "deploy", "helm"] {
        collect_text(&root.join(d), &mut text, 64 << 20);
    }
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        let start = i;
        let class = |b: u8| {
            if b.is_ascii_alphanumeric() || b >= 0x80 {
                0
            } else if b.is_ascii_whitespace() {
                1
            } else {
                2
            }
        };
        let k = class(c);
        let mut j = i + 1;
        while j < text.len() && class(text[j]) == k && j - start < 16 {
            j += 1;
        }
        let piece = &text[start..j];
        *counts.entry(piece.to_vec()).or_default() += 1;
        if k == 0 && start > 0 && matches!(text[start - 1], b' ' | b'"') {
            let mut with = vec![text[start - 1]];
            with.extend_from_slice(piece);
            *counts.entry(with).or_default() += 1;
        }
        if k == 2 {
            for n in 1..piece.len().min(3) {
                *counts.entry(piece[..n].to_vec()).or_default() += 1;
            }
        }
        i = j;
    }
    let mut ranked: Vec<(Vec<u8>, u64)> = counts.into_iter().filter(|(p, _)| p.len() > 1).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut vocab: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    vocab.extend(ranked.into_iter().map(|(p, _)| p).take(size.saturating_sub(256)));
    vocab
}

/// Resolves a local `$ref` (`#/$defs/x`, `#/definitions/x`).
fn resolve<'a>(root: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    let mut s = schema;
    for _ in 0..64 {
        match s.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => s = root.pointer(r.trim_start_matches('#')).unwrap_or(s),
            None => break,
        }
    }
    s
}

/// The schemas an object may be checked against, flattened: the schema itself, its `allOf`,
/// and the first `oneOf`/`anyOf` branch whose `const` properties the document matches.
fn branches<'a>(
    root: &'a serde_json::Value,
    schema: &'a serde_json::Value,
    doc: &serde_json::Value,
    out: &mut Vec<&'a serde_json::Value>,
) {
    // llguidance lists a branch's properties before the ones beside the branch.
    let s = resolve(root, schema);
    for key in ["allOf"] {
        for b in s.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
            branches(root, b, doc, out);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = s.get(key).and_then(|v| v.as_array()) {
            let fits = |b: &serde_json::Value| {
                let b = resolve(root, b);
                b.get("properties")
                    .and_then(|p| p.as_object())
                    .is_some_and(|props| {
                        props.iter().all(|(k, p)| match resolve(root, p).get("const") {
                            Some(c) => doc.get(k) == Some(c),
                            None => true,
                        }) && doc.as_object().is_some_and(|d| {
                            d.keys().all(|k| {
                                props.contains_key(k)
                                    || s.get("properties").and_then(|sp| sp.get(k)).is_some()
                            })
                        })
                    })
            };
            if let Some(b) = list.iter().find(|b| fits(b)) {
                branches(root, b, doc, out);
            }
        }
    }
    out.push(s);
}

/// The document as compact JSON with every object's keys in the order its schema lists them:
/// llguidance generates properties in schema order, so a document in another order is not one it
/// makes. (Written by hand: serde_json's map sorts keys.)
fn in_schema_order(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    doc: &serde_json::Value,
    out: &mut String,
) {
    use serde_json::Value;
    match doc {
        Value::Object(map) => {
            let mut list = Vec::new();
            branches(root, schema, doc, &mut list);
            let mut order: Vec<(String, &Value)> = Vec::new();
            for b in &list {
                for (k, p) in b
                    .get("properties")
                    .and_then(|p| p.as_object())
                    .into_iter()
                    .flatten()
                {
                    if map.contains_key(k) && !order.iter().any(|(o, _)| o == k) {
                        order.push((k.clone(), p));
                    }
                }
            }
            let any = Value::Object(Default::default());
            for k in map.keys() {
                if !order.iter().any(|(o, _)| o == k) {
                    order.push((k.clone(), &any));
                }
            }
            out.push('{');
            for (n, (k, p)) in order.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a key"));
                out.push(':');
                in_schema_order(root, p, &map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            let s = resolve(root, schema);
            let item = s.get("items").unwrap_or(&Value::Null);
            out.push('[');
            for (n, v) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                in_schema_order(root, item, v, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).expect("a value")),
    }
}

fn report(name: &str, vocab: usize, tokens: usize, mut times: Vec<Duration>, accepted: bool) {
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = times.iter().map(|d| us(*d)).sum::<f64>() / times.len().max(1) as f64;
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| us(*d))
    };
    println!(
        "{name}: vocab {vocab}, {tokens} tokens, document {}; mask per token: mean {mean:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        if accepted { "accepted" } else { "REJECTED" },
        at(0.5),
        at(0.99),
        times.last().map_or(0.0, |d| us(*d)),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (size, rest) = match args.first().map(String::as_str) {
        Some("--vocab") => (args[1].parse().expect("--vocab N"), &args[2..]),
        _ => (100_000, &args[..]),
    };
    let vocab = vocabulary(size);
    let eos = vocab.len() as u32;
    let structured = cb_llm_node::structured::Structured::from_token_bytes(
        vocab.iter().cloned().map(Some).chain([None]).collect(),
        &[eos],
        None,
    )
    .expect("the vocabulary loads");
    for pair in rest.chunks(2) {
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&pair[0]).expect("schema")).expect("schema JSON");
        let doc = std::fs::read_to_string(&pair[1]).expect("document");
        let doc: serde_json::Value = serde_json::from_str(&doc).expect("JSON");
        let mut ordered = String::new();
        in_schema_order(&schema, &schema, &doc, &mut ordered);
        let doc = ordered;
        let tokens = structured.tokenize(doc.as_bytes());
        let compile_started = Instant::now();
        let grammar = structured.compile(&schema).expect("the schema compiles");
        let compiled = compile_started.elapsed();
        let mut matcher = structured.matcher(&grammar);
        let mut times = Vec::with_capacity(tokens.len());
        let mut accepted = true;
        let mut at: usize = 0;
        for &t in &tokens {
            let started = Instant::now();
            let mask = structured.mask(&mut matcher);
            times.push(started.elapsed());
            if !mask.get(t as usize).copied().unwrap_or(false) || structured.commit(&mut matcher, t).is_err()
            {
                accepted = false;
                let from = at.saturating_sub(60);
                let allowed: Vec<String> = mask
                    .iter()
                    .enumerate()
                    .filter(|(_, ok)| **ok)
                    .take(8)
                    .map(|(i, _)| {
                        String::from_utf8_lossy(vocab.get(i).map_or(b"<eos>".as_slice(), |v| v)).into_owned()
                    })
                    .collect();
                println!(
                    "rejected at byte {at}: …{}⟦{}⟧ (allowed: {allowed:?})",
                    String::from_utf8_lossy(&doc.as_bytes()[from..at]),
                    String::from_utf8_lossy(&vocab[t as usize])
                );
                break;
            }
            at += vocab[t as usize].len();
        }
        let name = std::path::Path::new(&pair[0])
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        println!("{name}: compiled in {:.1} ms", compiled.as_secs_f64() * 1e3);
        report(&name, vocab.len(), tokens.len(), times, accepted);
    }
}
