#!/usr/bin/env bash
# The Python packages the tests use against the real thing: the `openai` client (talks to a
# running cb-llm-node) and `jsonschema` (validates what it returns). Installed once into .venv/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.openai-3.57.0-jsonschema-4"
if [ ! -f "$stamp" ]; then
    echo "setting up .venv (openai, jsonschema) for the LLM node's client tests" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "openai==3.57.0" "jsonschema>=4,<5" >&2
    touch "$stamp"
fi
