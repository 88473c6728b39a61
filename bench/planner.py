#!/usr/bin/env python3
"""Benchmark: how well, and how fast, a planner turns the question corpus into plans.

Plans every question of `orchestrator/planner/corpus/questions.jsonl` with `cbutler plan --jsonl`
(one process; questions marked `"mrio": true` get pymrio's test system, the corpus's MRIO), judges
each plan against its golden plan the way `cargo test -p cb-planner --test corpus` does, and
prints accuracy by agent, language and composition, the share of wrong answers (a plan where a
refusal is due, or other tasks than the golden ones), and planning latency p50/p99 as cbutler
measures it around the planner (process start and JSON excluded).

Usage:
  python3 bench/planner.py                                  # the rule planner (embedded default)
  python3 bench/planner.py --llm-url URL --llm-model NAME   # an OpenAI-compatible endpoint, with
                                                            # the rules as fallback
Options: --corpus FILE, --bin PATH (a built cbutler; default: cargo build --release),
         --show-misses (print every question not answered right).
"""

import argparse
import collections
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "orchestrator", "planner", "corpus", "questions.jsonl")
TEST_MRIO = os.path.join(ROOT, "actors", "trade", "tests", "fixtures", "pymrio-test", "input")


def build():
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-q", "-p", "cbutler"], cwd=ROOT, check=True
    )
    return os.path.join(ROOT, "target", "release", "cbutler")


def task_matches(golden, planned):
    """Every key of the golden task holds in the planned one (`agent` at the top, the rest
    among the parameters). The MRIO's path is the bench's, so `mrio` is not compared."""
    for key, want in golden.items():
        got = planned.get("agent") if key == "agent" else planned.get("params", {}).get(key)
        if isinstance(want, (int, float)) and isinstance(got, (int, float)):
            if float(want) != float(got):
                return False
        elif got != want:
            return False
    return True


def judge(entry, result):
    """'right', 'missed' (refused where a plan was due) or 'wrong' (a different question answered)."""
    plan, refusal = result.get("plan"), result.get("refusal")
    if "tasks" in entry:
        if plan is None:
            return "missed", f"refused: {refusal}"
        tasks = plan["tasks"]
        golden = entry["tasks"]
        ok = len(tasks) == len(golden) and all(task_matches(g, t) for g, t in zip(golden, tasks))
        return ("right", "") if ok else ("wrong", "planned " + json.dumps(tasks)[:300])
    if plan is not None:
        return "wrong", f"answered {plan.get('intent')!r}"
    if entry["refuse"] in refusal:
        return "right", ""
    return "missed", f"refused without {entry['refuse']!r}: {refusal}"


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def table(title, counts):
    print(f"\n{title:<28} {'right':>7} {'of':>5} {'share':>7} {'wrong':>6}")
    for key in sorted(counts):
        c = counts[key]
        n = c["right"] + c["missed"] + c["wrong"]
        print(f"  {key:<26} {c['right']:>7} {n:>5} {100 * c['right'] / n:>6.1f}% {c['wrong']:>6}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--bin")
    ap.add_argument("--llm-url")
    ap.add_argument("--llm-model")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    if bool(args.llm_url) != bool(args.llm_model):
        sys.exit("--llm-url and --llm-model go together")

    entries = [json.loads(line) for line in open(args.corpus, encoding="utf-8") if line.strip()]
    held_out = 0
    if args.llm_url:
        # The LLM is shown the `shot` questions as worked examples: they are not measured.
        held_out = sum(1 for e in entries if e.get("shot"))
        entries = [e for e in entries if not e.get("shot")]
    binary = args.bin or build()
    cmd = [binary, "plan", "--jsonl", "--mrio", TEST_MRIO]
    if args.llm_url:
        cmd += ["--llm-url", args.llm_url, "--llm-model", args.llm_model, "--llm-no-prose"]
    stdin = "".join(json.dumps({"q": e["q"], "mrio": e.get("mrio", False)}) + "\n" for e in entries)
    env = dict(os.environ, OTEL_SDK_DISABLED="true")
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"cbutler plan failed:\n{out.stderr}")
    results = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    if len(results) != len(entries):
        sys.exit(f"{len(entries)} questions, {len(results)} answers")

    by = {k: collections.defaultdict(lambda: collections.Counter()) for k in ("agent", "language", "composition")}
    totals = collections.Counter()
    planners = collections.Counter()
    latencies = []
    misses = []
    for entry, result in zip(entries, results):
        verdict, why = judge(entry, result)
        totals[verdict] += 1
        planners[result["planner"]] += 1
        latencies.append(result["ms"])
        if "tasks" in entry:
            agents = sorted({t["agent"] for t in entry["tasks"]})
            agent = "+".join(agents)
            composition = "one task" if len(entry["tasks"]) == 1 else f"{len(entry['tasks'])} tasks"
        else:
            agent = "(refusal)"
            composition = "refusal"
        for key, value in (("agent", agent), ("language", entry["lang"]), ("composition", composition)):
            by[key][value][verdict] += 1
        if verdict != "right":
            misses.append((verdict, entry, why))

    n = len(entries)
    print(
        f"corpus: {os.path.relpath(args.corpus, ROOT)}, {n} questions"
        + (f" ({held_out} worked examples shown to the LLM held out)" if held_out else "")
    )
    print("planner: " + ", ".join(f"{k} decided {v}" for k, v in planners.most_common()))
    for key in ("agent", "language", "composition"):
        table(f"by {key}", by[key])
    print(
        f"\nright {totals['right']}/{n} ({100 * totals['right'] / n:.1f} %), "
        f"missed {totals['missed']}, wrong (a different question answered) {totals['wrong']}"
    )
    print(
        f"planning latency: p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
        f"max {max(latencies):.2f} ms (in-process, one thread, {n} questions)"
    )
    if args.show_misses:
        for verdict, entry, why in misses:
            print(f"{verdict.upper():<6} [{entry['lang']}] {entry['q']}\n       {why}")


if __name__ == "__main__":
    main()
