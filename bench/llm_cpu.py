#!/usr/bin/env python3
"""Benchmark: the LLM node's model on CPU against Hugging Face transformers, same checkpoint, one run.

A SYNTHETIC Qwen2 checkpoint of realistic proportions (random weights, seed 0: hidden 1024, 8 layers,
16 heads, 4 KV heads, intermediate 2816, vocab 32000, f32) is written once by transformers. Then, on
the same machine and thread count:

  * prefill: one 512-token prompt, tokens/s;
  * decode: batches of 1, 4 and 16 sequences (each after a 512-token prompt), --gen greedy steps,
    tokens/s of the batch — transformers with its DynamicCache and with its StaticCache (the better
    of the two is the peer; eager, as StaticCache's compiled mode took minutes per shape), ours with
    its slot cache.

Both sides use the same threads (torch's intra-op pool, OMP_NUM_THREADS/MKL_NUM_THREADS pinned to
--threads, default the machine's cores). Prints both, and the ratios.
The Python side needs torch 2.11 + transformers (~5 GB): set
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
from transformers import AutoModelForCausalLM, DynamicCache, StaticCache
d, prompt, gen, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(b) for b in sys.argv[4].split(",")]
torch.set_grad_enabled(False)
m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
V = m.config.vocab_size
ids = lambda n, salt: torch.tensor([[(i * 7919 + salt * 104729) % V for i in range(n)]])
def new_cache(kind):
    return DynamicCache() if kind == "dynamic" else StaticCache(config=m.config, max_cache_len=prompt + gen + 1)
def run(x, kind, steps):
    # Prefill, then `steps` greedy decode steps; returns (prefill seconds, decode seconds).
    cache = new_cache(kind)
    t = time.perf_counter()
    out = m(x, past_key_values=cache, use_cache=True, cache_position=torch.arange(x.shape[1]))
    nxt = out.logits[:, -1].argmax(-1, keepdim=True)
    pre = time.perf_counter() - t
    t = time.perf_counter()
    for k in range(steps):
        out = m(nxt, past_key_values=cache, use_cache=True, cache_position=torch.tensor([x.shape[1] + k]))
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
    return pre, time.perf_counter() - t
out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "configurations": {}}
for kind in ("dynamic", "static"):
    run(ids(16, 0), kind, 2)  # warm-up
    prefill, _ = run(ids(prompt, 1), kind, 0)
    decode = []
    for b in batches:
        _, s = run(torch.cat([ids(prompt, s + 2) for s in range(b)]), kind, gen)
        decode.append({"batch": b, "seconds": s, "tokens_per_s": b * gen / s})
    out["configurations"][kind] = {"prefill": {"tokens_per_s": prompt / prefill, "seconds": prefill},
                                   "decode": decode}
print(json.dumps(out))
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
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
    py = python()
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(os.path.join(MODEL, "config.json")):
        subprocess.run([py, "-c", MAKE, MODEL], check=True, capture_output=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cb-llm-node", "--example", "bench_llm"], cwd=ROOT, check=True)
    hf = json.loads(subprocess.run([py, "-c", HF, MODEL, str(a.prompt), str(a.gen), a.batches], check=True, env=env,
                                   capture_output=True, text=True).stdout.strip().splitlines()[-1])
    ours = json.loads(subprocess.run([os.path.join(ROOT, "target", "release", "examples", "bench_llm"), "--model", MODEL,
                                      "--device", "cpu", "--dtype", "f32", "--prompt", str(a.prompt), "--gen", str(a.gen),
                                      "--batches", a.batches], check=True, env=env, capture_output=True, text=True).stdout)
    print(f"SYNTHETIC Qwen2 (random weights), hidden 1024, 8 layers, 16/4 heads, vocab 32000, f32, CPU "
          f"({ours['threads']} threads ours, {hf['threads']} transformers {hf['torch']}; transformers with "
          f"DynamicCache and with StaticCache, the better of the two is the peer)")
    confs = hf["configurations"]
    best_prefill = max(confs, key=lambda c: confs[c]["prefill"]["tokens_per_s"])
    hp = confs[best_prefill]["prefill"]["tokens_per_s"]
    r = ours["prefill"]["tokens_per_s"] / hp
    print(f"  prefill {a.prompt} tokens: transformers " + ", ".join(
          f"{c} {v['prefill']['tokens_per_s']:.0f}" for c, v in confs.items()) +
          f" tok/s; ours {ours['prefill']['tokens_per_s']:.0f} tok/s; ratio to the better ({best_prefill}) {r:.2f}x (target 1.0x)")
    for i, o in enumerate(ours["decode"]):
        per = {c: v["decode"][i]["tokens_per_s"] for c, v in confs.items()}
        best = max(per, key=per.get)
        print(f"  decode batch {o['batch']:>2} ({a.gen} steps): transformers " +
              ", ".join(f"{c} {t:.1f}" for c, t in per.items()) +
              f" tok/s; ours {o['tokens_per_s']:.1f} tok/s; ratio to the better ({best}) "
              f"{o['tokens_per_s'] / per[best]:.2f}x (target 1.0x)")


if __name__ == "__main__":
    main()
