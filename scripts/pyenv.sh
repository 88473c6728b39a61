#!/usr/bin/env bash
# The Python packages the tests use against the real thing: the `openai` client (talks to a
# running cb-llm-node and to `cbutler serve`'s chat façade), `jsonschema` (validates what they
# return), `openapi-spec-validator` (checks /openapi.json) and `opentelemetry-proto` (the OTLP
# receiver of the tracing test decodes spans with it). Installed once into .venv/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.openai-3.57.0-jsonschema-4-openapi-0.8-otlp-1.45.2"
if [ ! -f "$stamp" ]; then
    echo "setting up .venv (openai, jsonschema, openapi-spec-validator, opentelemetry-proto) for the client tests" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "openai==3.57.0" "jsonschema>=4,<5" "openapi-spec-validator>=0.7,<0.9" "opentelemetry-proto==1.45.2" >&2
    touch "$stamp"
fi
