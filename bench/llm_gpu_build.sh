#!/usr/bin/env bash
# Builds bench_llm for a CUDA machine, here (no GPU needed): against the un-slimmed PyTorch 2.11.0
# wheel (its libtorch_cuda.so linked), into target-cuda/. Then carry target-cuda/bench_llm (stripped)
# and run bench/llm_gpu.sh on the CUDA machine (which has PyTorch 2.11.0+cu130 installed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lt="$root/.libtorch-cuda"
if [ ! -f "$lt/.complete" ]; then
    python3 -m pip install -q --no-deps --no-cache-dir --target "$lt" \
        torch==2.11.0 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85
    touch "$lt/.complete"
fi
LIBTORCH="$lt/torch" CARGO_TARGET_DIR="$root/target-cuda" \
    cargo build --release -p cb-llm-node --example bench_llm --manifest-path "$root/Cargo.toml"
# Stripped, to travel light (the device tool carries at most 64 MiB).
strip -o "$root/target-cuda/bench_llm" "$root/target-cuda/release/examples/bench_llm"
echo "built $root/target-cuda/bench_llm"
