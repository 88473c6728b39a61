#!/usr/bin/env python3
"""Benchmark: the LLM node's model on CPU against Hugging Face transformers, same checkpoint, one run.

A SYNTHETIC Qwen2 checkpoint of realistic proportions (random weights, seed 0: hidden 1024, 8 layers,
16 heads, 4 KV heads, intermediate 2816, vocab 32000, f32) is written once by transformers. Then, on
the same machine and thread count:

  * prefill: one 512-token prompt, tokens/s;
  * decode: batches of 1, 4 and 16 sequences (each after a 512-token prompt), --gen greedy steps,
    tokens/s of the batch — transformers with its KV cache (DynamicCache), ours with its slot cache.

Prints both, and the ratios. The Python side needs torch 2.11 + transformers (~5 GB): set
BENCH_LLM_PYTHON to a python that has them, or the script makes bench/out/venv-llm once.
Usage: python3 bench/llm_cpu.py [--gen 32] [--prompt 512]
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
MODEL = os.path.join(OUT, "llm-cpu-qwen2-1024x8")

MAKE = r"""
import sys, torch
from transformers import Qwen2Config, Qwen2ForCausalLM
torch.manual_seed(0)
cfg = Qwen2Config(vocab_size=32000, hidden_size=1024, intermediate_size=2816, num_hidden_layers=8,
                  num_attention_heads=16, num_key_value_heads=4, max_position_embeddings=4096,
                  rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=False)
Qwen2ForCausalLM(cfg).eval().save_pretrained(sys.argv[1], safe_serialization=True)
"""

HF = r"""
import json, sys, time, torch
from transformers import AutoModelForCausalLM, DynamicCache
d, prompt, gen, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(b) for b in sys.argv[4].split(",")]
torch.set_grad_enabled(False)
m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
V = m.config.vocab_size
ids = lambda n, salt: torch.tensor([[(i * 7919 + salt * 104729) % V for i in range(n)]])
m(ids(16, 0))
t = time.perf_counter(); m(ids(prompt, 1)); prefill = time.perf_counter() - t
decode = []
for b in batches:
    x = torch.cat([ids(prompt, s + 2) for s in range(b)])
    cache = DynamicCache()
    out = m(x, past_key_values=cache, use_cache=True)
    nxt = torch.ones((b, 1), dtype=torch.long)
    t = time.perf_counter()
    for _ in range(gen):
        out = m(nxt, past_key_values=out.past_key_values, use_cache=True)
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
    s = time.perf_counter() - t
    decode.append({"batch": b, "seconds": s, "tokens_per_s": b * gen / s})
print(json.dumps({"threads": torch.get_num_threads(), "prefill": {"tokens_per_s": prompt / prefill, "seconds": prefill},
                  "decode": decode, "torch": torch.__version__}))
"""


def python():
    py = os.environ.get("BENCH_LLM_PYTHON")
    if py:
        return py
    venv = os.path.join(OUT, "venv-llm")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        print("setting up", venv, "(torch 2.11.0, transformers; ~5 GB)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "torch==2.11.0", "transformers", "safetensors"], check=True)
    return py


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", type=int, default=32)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--batches", default="1,4,16")
    a = ap.parse_args()
    py = python()
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(os.path.join(MODEL, "config.json")):
        subprocess.run([py, "-c", MAKE, MODEL], check=True, capture_output=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cb-llm-node", "--example", "bench_llm"], cwd=ROOT, check=True)
    hf = json.loads(subprocess.run([py, "-c", HF, MODEL, str(a.prompt), str(a.gen), a.batches], check=True,
                                   capture_output=True, text=True).stdout.strip().splitlines()[-1])
    ours = json.loads(subprocess.run([os.path.join(ROOT, "target", "release", "examples", "bench_llm"), "--model", MODEL,
                                      "--device", "cpu", "--dtype", "f32", "--prompt", str(a.prompt), "--gen", str(a.gen),
                                      "--batches", a.batches], check=True, capture_output=True, text=True).stdout)
    print(f"SYNTHETIC Qwen2 (random weights), hidden 1024, 8 layers, 16/4 heads, vocab 32000, f32, CPU "
          f"({ours['threads']} threads ours, {hf['threads']} transformers {hf['torch']})")
    r = ours["prefill"]["tokens_per_s"] / hf["prefill"]["tokens_per_s"]
    print(f"  prefill {a.prompt} tokens: transformers {hf['prefill']['tokens_per_s']:.0f} tok/s, "
          f"ours {ours['prefill']['tokens_per_s']:.0f} tok/s, ratio {r:.2f}x")
    for h, o in zip(hf["decode"], ours["decode"]):
        print(f"  decode batch {h['batch']:>2} ({a.gen} steps): transformers {h['tokens_per_s']:.1f} tok/s, "
              f"ours {o['tokens_per_s']:.1f} tok/s, ratio {o['tokens_per_s'] / h['tokens_per_s']:.2f}x")


if __name__ == "__main__":
    main()
