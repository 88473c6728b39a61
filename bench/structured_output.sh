#!/usr/bin/env bash
# Benchmark: structured-output mask time per token (cb-llm-node's llguidance engine), on the
# Plan's JSON Schema with a real plan, and on a large real-world schema (KEDA's ScaledObject CRD,
# deploy/schemas/) with the ScaledObject the chart renders. The vocabulary is SYNTHETIC (bytes and
# frequent pieces of this repository's data, ~59k tokens; see llm-node/examples/bench_mask.rs).
# One thread; release build; prints compile time and mask time per token (mean, p50, p99, max).
# Usage: bash bench/structured_output.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
bash scripts/libtorch.sh
cargo build --release --locked -p cbutler --bin cbutler -q
cargo build --release --locked -p cb-llm-node --example bench_mask -q
out=bench/structured
target/release/cbutler schema plan > "$out/plan-schema.json"
export LD_LIBRARY_PATH="$PWD/.libtorch/torch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
RAYON_NUM_THREADS=1 target/release/examples/bench_mask --vocab 100000 \
    "$out/plan-schema.json" "$out/plan.json" \
    deploy/schemas/keda-scaledobject.json "$out/keda-scaledobject.json"
