//! The project's side of `bench/llm_cpu.py` and `bench/llm_gpu.sh`: prefill and decode speed of a
//! Qwen model on libtorch, straight through the model (prefill into the KV cache, batched decode
//! steps, greedy on the device), printed as JSON.
//!
//! ```text
//! bench_llm (--model DIR | --random CONFIG_JSON) [--device cpu|cuda:N] [--dtype f32|bf16|f16]
//!           [--prompt 512] [--gen 128] [--batches 1,4,16] [--ttft-prompt 2000]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use cb_llm_node::config::Config;
use cb_llm_node::models::CausalLm;
use cb_llm_node::node::{parse_device, parse_dtype};
use tch::{Device, Tensor};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let device = parse_device(&arg(&args, "--device").unwrap_or("cpu".into())).expect("device");
    let kind = parse_dtype(&arg(&args, "--dtype").unwrap_or("f32".into())).expect("dtype");
    let prompt: usize = arg(&args, "--prompt").map_or(512, |v| v.parse().expect("--prompt"));
    let generate: usize = arg(&args, "--gen").map_or(128, |v| v.parse().expect("--gen"));
    let ttft_prompt: Option<usize> = arg(&args, "--ttft-prompt").map(|v| v.parse().expect("--ttft-prompt"));
    let batches: Vec<usize> = arg(&args, "--batches")
        .unwrap_or("1,4,16".into())
        .split(',')
        .map(|b| b.parse().expect("--batches"))
        .collect();
    let _guard = tch::no_grad_guard();
    let t = Instant::now();
    let model = match (arg(&args, "--model"), arg(&args, "--random")) {
        (Some(dir), _) => CausalLm::load(&PathBuf::from(dir), device, kind).expect("model"),
        (None, Some(cfg)) => {
            let config =
                Config::from_json(&std::fs::read_to_string(&cfg).expect("config"), &cfg).expect("config");
            CausalLm::random(config, device, kind).expect("model")
        }
        _ => panic!("give --model DIR or --random CONFIG_JSON"),
    };
    sync(device);
    let load_s = t.elapsed().as_secs_f64();
    let vocab = model.config().vocab_size as i64;
    let max_batch = *batches.iter().max().unwrap_or(&1);
    let context = (prompt + generate + 1).max(ttft_prompt.unwrap_or(0) + 2);
    let mut cache = model.new_cache(max_batch, context);
    let ids = |n: usize, salt: usize| -> Vec<i64> {
        (0..n)
            .map(|i| ((i * 7919 + salt * 104_729) as i64) % vocab)
            .collect()
    };

    // Warm-up (kernels, allocator).
    let _ = model.prefill(&ids(16, 0), 0, &mut cache);
    let _ = model.decode(&[1], &[16], &mut cache);
    sync(device);

    // Prefill: one prompt.
    let t = Instant::now();
    let _ = model.prefill(&ids(prompt, 1), 0, &mut cache);
    sync(device);
    let prefill_s = t.elapsed().as_secs_f64();

    let mut decode = Vec::new();
    for &b in &batches {
        for slot in 0..b {
            let _ = model.prefill(&ids(prompt, slot + 2), slot, &mut cache);
        }
        let mut next: Vec<i64> = vec![1; b];
        let mut positions: Vec<i64> = vec![prompt as i64; b];
        sync(device);
        let t = Instant::now();
        for _ in 0..generate {
            let logits = model.decode(&next, &positions, &mut cache);
            let chosen = logits.argmax(-1, false);
            next = Vec::<i64>::try_from(&chosen.to_device(Device::Cpu)).expect("ids");
            for p in positions.iter_mut() {
                *p += 1;
            }
        }
        sync(device);
        let s = t.elapsed().as_secs_f64();
        decode.push(
            serde_json::json!({"batch": b, "seconds": s, "tokens_per_s": (b * generate) as f64 / s,
                                        "per_sequence_tokens_per_s": generate as f64 / s}),
        );
    }
    let ttft = ttft_prompt.map(|n| {
        sync(device);
        let t = Instant::now();
        let logits = model.prefill(&ids(n, 99), 0, &mut cache);
        let _first: i64 = logits.get(n as i64 - 1).argmax(-1, false).int64_value(&[]);
        sync(device);
        t.elapsed().as_secs_f64()
    });
    let cfg = model.config();
    println!(
        "{}",
        serde_json::json!({
            "model": {"layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size, "heads": cfg.num_attention_heads,
                      "kv_heads": cfg.num_key_value_heads, "vocab": cfg.vocab_size},
            "device": format!("{device:?}"), "dtype": format!("{kind:?}"), "threads": tch::get_num_threads(),
            "load_s": load_s,
            "prefill": {"tokens": prompt, "seconds": prefill_s, "tokens_per_s": prompt as f64 / prefill_s},
            "decode": decode,
            "ttft_s": ttft, "ttft_prompt": ttft_prompt,
        })
    );
    let _ = Tensor::zeros([1], (kind, device));
}
