#!/usr/bin/env bash
# On a CUDA machine (one command, well under ten minutes): a randomly initialised model of
# Qwen2.5-32B's shape (bench/qwen2.5-32b-config.json: 64 layers, hidden 5120, 40/8 heads, vocab
# 152064) in bf16 — the same cost as real weights, ~65 GB — made on the GPU; decode tokens/s at
# batch 1 and 32 (after 128-token prompts, 64 greedy steps) and the time to first token of a
# 2,000-token prompt. Needs PyTorch 2.11.0 (cu130) installed for its libtorch, and bench_llm
# built by bench/llm_gpu_build.sh (BENCH_LLM=path overrides where it is).
# Anchors: memory-bandwidth bound for one stream on an H200 (4.8 TB/s, 65 GB) ≈ 70 tokens/s;
# vLLM serves Qwen3-32B at ≈ 2,350 total tokens/s on ShareGPT on an H100.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BENCH_LLM:-$root/target-cuda/bench_llm}"
torch_lib="$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
timeout 540 "$bin" --random "$root/bench/qwen2.5-32b-config.json" --device cuda:0 --dtype bf16 \
    --prompt 128 --gen 64 --batches 1,32 --ttft-prompt 2000 | tee "${OUT:-/tmp}/llm_gpu.json"
python3 - "${OUT:-/tmp}/llm_gpu.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"random Qwen2.5-32B shape, bf16, {r['device']}: loaded (made) in {r['load_s']:.1f} s")
for d in r["decode"]:
    print(f"  decode batch {d['batch']:>2}: {d['tokens_per_s']:.1f} tok/s ({d['per_sequence_tokens_per_s']:.1f} per sequence)")
print(f"  time to first token, {r['ttft_prompt']}-token prompt: {r['ttft_s'] * 1000:.0f} ms")
print("  anchors: one stream bandwidth-bound on an H200 ≈ 70 tok/s; vLLM Qwen3-32B ≈ 2,350 total tok/s (H100, ShareGPT)")
PY
