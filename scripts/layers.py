#!/usr/bin/env python3
"""Checks the layering ARCHITECTURE.md states: which crates may depend on which, and no module of
any crate importing in a circle. Exits 1 naming each violation.

Crate edges come from `cargo metadata` (normal dependencies only; tests may reach further).
Module edges are read from the sources: `crate::a::b`, `super::x` and `child::` paths, and a
parent's `pub use` of a child, with `#[cfg(test)]` code left out.
"""
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

AGENTS = {"cb-trade", "cb-lca", "cb-sinks", "cb-factory", "cb-uncertainty"}
ORCHESTRATOR = {"cb-planner", "cb-audit", "cb-core", "cb-cluster", "cb-server", "cbutler"}
# crate -> what it must never depend on (normal dependencies).
FORBIDDEN = {
    "cb-protocol": AGENTS | ORCHESTRATOR | {"cb-agent-runtime", "cb-graphs", "cb-telemetry"},
    "cb-agent-runtime": AGENTS | ORCHESTRATOR,
    # Grid data is a library the agents share: it knows the protocol's enums and nothing above.
    "cb-grid": AGENTS | ORCHESTRATOR | {"cb-agent-runtime", "cb-graphs", "cb-telemetry", "tokio"},
    "cb-uncertainty": (AGENTS - {"cb-uncertainty"}) | ORCHESTRATOR,
    "cb-audit": (ORCHESTRATOR - {"cb-audit"}) | AGENTS | {"cb-agent-runtime", "redis", "axum", "tokio"},
    "cb-planner": (ORCHESTRATOR - {"cb-planner"}) | {"redis", "axum"},
    "cb-core": {"cb-cluster", "cb-server", "cbutler", "redis", "axum"},
    "cb-cluster": {"cb-server", "cbutler"},
    "cb-server": {"cb-cluster", "cbutler", "redis"},
    "cbutler": {"cb-llm-node", "tch", "torch-sys"},
}
for agent in AGENTS - {"cb-uncertainty"}:
    FORBIDDEN[agent] = (AGENTS - {agent, "cb-uncertainty"}) | ORCHESTRATOR


def crate_violations():
    # The host's dependency graph only: other platforms' crates (Windows consoles, …) are never
    # downloaded on a fresh machine, and cargo metadata would fail for want of them.
    host = next(
        line.split(":", 1)[1].strip()
        for line in subprocess.run(
            ["rustc", "-vV"], check=True, capture_output=True, text=True
        ).stdout.splitlines()
        if line.startswith("host:")
    )
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", host],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )
    names = {p["id"]: p["name"] for p in meta["packages"]}
    deps = {}
    for node in meta["resolve"]["nodes"]:
        normal = set()
        for d in node["deps"]:
            if any(k["kind"] is None for k in d["dep_kinds"]):
                normal.add(names[d["pkg"]])
        deps[names[node["id"]]] = normal

    def closure(name):
        seen, todo = set(), [name]
        while todo:
            for d in deps.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    out = []
    for crate, banned in sorted(FORBIDDEN.items()):
        if crate not in deps:
            out.append(f"{crate}: not in the workspace (update scripts/layers.py)")
            continue
        for bad in sorted(closure(crate) & banned):
            out.append(f"crate {crate} depends on {bad}")
    return out


def module_graph(src):
    mods = {}
    for f in glob.glob(os.path.join(src, "**", "*.rs"), recursive=True):
        parts = os.path.relpath(f, src)[:-3].split(os.sep)
        if parts[-1] in ("lib", "main", "mod"):
            parts = parts[:-1]
        mods["::".join(parts)] = f
    if "" not in mods:
        return {}

    def resolve(path):
        parts = path.split("::")
        for n in range(len(parts), -1, -1):
            if "::".join(parts[:n]) in mods:
                return "::".join(parts[:n])
        return ""

    edges = {m: set() for m in mods}
    for m, f in mods.items():
        text = open(f, encoding="utf-8").read()
        cut = text.find("#[cfg(test)]")
        text = re.sub(r"//.*", "", text if cut < 0 else text[:cut])
        for mm in re.finditer(r"\b(crate|super)::((?:\w+::)*(?:\w+|\{[^}]*\}))", text):
            base, rest = mm.groups()
            if base == "super":
                parent = "::".join(m.split("::")[:-1])
                rest = f"{parent}::{rest}" if parent else rest
            if "{" in rest:
                prefix = rest[: rest.index("{")].rstrip(":")
                items = [i.strip().split(" as ")[0] for i in rest[rest.index("{") + 1 : -1].split(",")]
                targets = [f"{prefix}::{i}" if prefix else i for i in items if i]
            else:
                targets = [rest]
            for t in targets:
                r = resolve(t)
                if r != m:
                    edges[m].add(r)
        for mm in re.finditer(r"(?<![:\w])(\w+)::", text):
            child = f"{m}::{mm.group(1)}" if m else mm.group(1)
            if child in mods and child != m:
                edges[m].add(child)
    return edges


def cycles(edges):
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(c or "(crate root)" for c in comp))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def module_violations():
    out = []
    for toml in sorted(glob.glob(os.path.join(ROOT, "**", "Cargo.toml"), recursive=True)):
        crate_dir = os.path.dirname(toml)
        if any(p in crate_dir for p in ("/target", "/node_modules", "/.venv", "/.libtorch")):
            continue
        src = os.path.join(crate_dir, "src")
        if os.path.isdir(src):
            for comp in cycles(module_graph(src)):
                out.append(f"modules of {os.path.relpath(src, ROOT)} import in a circle: {' ↔ '.join(comp)}")
    return out


def main():
    problems = crate_violations() + module_violations()
    for p in problems:
        print(f"layers: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print("layers: crate dependencies point one way; no module imports in a circle")


if __name__ == "__main__":
    main()
