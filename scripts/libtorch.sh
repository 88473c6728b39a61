#!/usr/bin/env bash
# Installs libtorch for the LLM node once (scripts/test runs it; `cbutler` does not need it).
# The LLM node (llm-node/, tch) links libtorch 2.11.0, taken from PyPI's torch wheel into
# .libtorch/ (see shared/libtorch.md): the CUDA 13 wheel, its two CUDA runtime libraries beside it,
# the GPU-only libraries removed. Only the llm-node crate needs it; `cbutler` builds without it.
set -euo pipefail
LIBTORCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.libtorch"
if [ ! -f "$LIBTORCH_ROOT/torch/lib/libtorch_cpu.so" ] || [ ! -f "$LIBTORCH_ROOT/.complete" ]; then
    echo "installing libtorch 2.11.0 (PyPI torch wheel) into .libtorch/ for the LLM node" >&2
    rm -rf "$LIBTORCH_ROOT.partial"
    python3 -m pip install -q --no-deps --no-cache-dir --target "$LIBTORCH_ROOT.partial" \
        torch==2.11.0 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85 >&2
    rm -f "$LIBTORCH_ROOT.partial"/torch/lib/{libtorch_cuda.so,libtorch_cuda_linalg.so,libtorch_nvshmem.so,libtorch_python.so,libc10_cuda.so,libcaffe2_nvrtc.so}
    rm -rf "$LIBTORCH_ROOT"
    mv "$LIBTORCH_ROOT.partial" "$LIBTORCH_ROOT"
    touch "$LIBTORCH_ROOT/.complete"
fi
