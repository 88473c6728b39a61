#!/usr/bin/env python3
"""Offline checks the deploy check runs besides helm lint and kubernetes-validate:

    check_schemas.py crds RENDERED.yaml     KEDA objects against KEDA's CRD schemas (deploy/schemas/)
    check_schemas.py compose COMPOSE.yaml SCHEMA.json
                                            a compose file against the Compose Specification

CRD schemas are checked strictly, as kubernetes-validate --strict checks built-in kinds: an
object with declared properties admits no others (unless the schema preserves unknown fields).
Exits 1 naming every problem.
"""

import copy
import json
import os
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda-triggerauthentication.json",
}


def strict(schema):
    """The schema with additionalProperties: false wherever it lists properties."""
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(s)
    return s


# KEDA's redis-streams scaler's parameters (keda.sh/docs/2.17/scalers/redis-streams): the CRD
# types trigger metadata only as strings, so a misspelt key would pass its schema.
REDIS_STREAMS_KEYS = {
    "address", "addressFromEnv", "host", "hostFromEnv", "port", "portFromEnv", "stream",
    "consumerGroup", "pendingEntriesCount", "streamLength", "lagCount", "activationLagCount",
    "activationStreamLength", "activationPendingEntriesCount", "databaseIndex", "enableTLS",
    "unsafeSsl", "usernameFromEnv", "passwordFromEnv",
}


def trigger_problems(doc, where):
    out = []
    for i, t in enumerate(doc.get("spec", {}).get("triggers", [])):
        if t.get("type") != "redis-streams":
            continue
        meta = t.get("metadata", {})
        for k in sorted(set(meta) - REDIS_STREAMS_KEYS):
            out.append(f"{where}: trigger {i}: redis-streams has no parameter {k!r}")
        for k in ("stream", "consumerGroup"):
            if k not in meta:
                out.append(f"{where}: trigger {i}: redis-streams needs {k!r}")
        if not ({"address", "addressFromEnv", "host", "hostFromEnv"} & set(meta)):
            out.append(f"{where}: trigger {i}: redis-streams needs an address")
    return out


def problems_of(validator, doc, where):
    return [f"{where}: at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def crds(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    problems, checked = [], 0
    for doc in docs:
        key = (doc.get("apiVersion"), doc.get("kind"))
        if not doc.get("apiVersion", "").startswith("keda.sh/"):
            continue
        if key not in CRDS:
            problems.append(f"{key[1]} {key[0]}: no schema for this kind in deploy/schemas/")
            continue
        schema = strict(json.load(open(os.path.join(HERE, "schemas", CRDS[key]))))
        schema.pop("$comment", None)
        validator = jsonschema.Draft7Validator(schema)
        where = f"{key[1]} {doc['metadata']['name']}"
        problems += problems_of(validator, doc, where) + trigger_problems(doc, where)
        checked += 1
    return problems, checked


def compose(path, schema_path):
    doc = yaml.safe_load(open(path))
    schema = json.load(open(schema_path))
    # The specification's schema names draft 2019-09 by an address jsonschema does not know.
    validator = jsonschema.Draft201909Validator(schema)
    problems = problems_of(validator, doc, path)
    # What the schema cannot see: every service's build file and mounted file exists.
    base = os.path.dirname(os.path.abspath(path))
    for name, svc in (doc.get("services") or {}).items():
        build = svc.get("build")
        if isinstance(build, dict):
            dockerfile = os.path.join(base, build.get("context", "."), build.get("dockerfile", "Dockerfile"))
            if not os.path.exists(dockerfile):
                problems.append(f"{path}: service {name}: {dockerfile} does not exist")
        for v in svc.get("volumes", []):
            if isinstance(v, str) and v.startswith("./"):
                host = os.path.join(base, v.split(":", 1)[0])
                if not os.path.exists(host):
                    problems.append(f"{path}: service {name}: {host} does not exist")
    return problems, 1


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "crds":
        problems, n = crds(sys.argv[2])
        what = f"{n} KEDA objects"
    elif len(sys.argv) == 4 and sys.argv[1] == "compose":
        problems, n = compose(sys.argv[2], sys.argv[3])
        what = sys.argv[2]
    else:
        sys.exit(__doc__)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"ok: {what}")


if __name__ == "__main__":
    main()
