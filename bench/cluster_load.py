#!/usr/bin/env python3
"""Load: N concurrent questions through `cbutler serve` + 3 `cbutler worker`s over Redis Streams.

In one run:
  1. starts a Redis of its own (a free port, no persistence), `cbutler serve --redis` and three
     workers (every agent kind, --concurrency 1 each);
  2. posts N questions at once (default 1,000 small MRIO questions on pymrio's test system, the
     accounts of one region each; a semaphore keeps at most --inflight HTTP requests open), follows
     each run until its answer, and prints throughput, p50/p99 latency, and the counts of lost
     runs (not done by the deadline) and duplicated results (a task whose result was announced more
     than once on the `done` stream, or a run with more or fewer results than tasks);
  3. measures the transport's per-task overhead: the same question asked one at a time through the
     cluster and through an embedded `cbutler serve` (agents in process), mean latency each, and
     the difference per task.

Usage: python3 bench/cluster_load.py [--questions 1000] [--inflight 200] [--sequential 100]
Needs .venv (scripts/pyenv.sh: the openai client brings httpx2, httpx's API) and builds `cbutler` in release mode.
"""

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MRIO = os.path.join(ROOT, "actors/trade/tests/fixtures/pymrio-test/input")
REGIONS = ["reg1", "reg2", "reg3", "reg4", "reg5", "reg6"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def question(i):
    return {"question": f"What are the consumption-based emissions of {REGIONS[i % len(REGIONS)]}?", "mrio": MRIO}


def wait_port(port, timeout=30):
    start = time.time()
    while time.time() - start < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


async def wait_done(client, base, run_id, deadline):
    # Follow the run's events (server-sent events) until the answer or failure.
    while time.time() < deadline:
        try:
            async with client.stream("GET", f"{base}/v1/runs/{run_id}/events", timeout=None) as r:
                async for line in r.aiter_lines():
                    if line.startswith("event: answer"):
                        return "done"
                    if line.startswith("event: failed"):
                        return "failed"
        except Exception:
            await asyncio.sleep(0.2)
    return "lost"


async def one(client, base, i, sem, deadline):
    async with sem:
        t0 = time.perf_counter()
        while True:
            r = await client.post(f"{base}/v1/questions", json=question(i))
            if r.status_code == 429:
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                continue
            r.raise_for_status()
            break
        run_id = r.json()["run_id"]
    status = await wait_done(client, base, run_id, deadline)
    return run_id, status, time.perf_counter() - t0


async def drive(base, n, inflight, timeout):
    try:
        import httpx
    except ImportError:  # the openai client in .venv brings httpx2 (same API)
        import httpx2 as httpx

    limits = httpx.Limits(max_connections=inflight + n, max_keepalive_connections=inflight)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        sem = asyncio.Semaphore(inflight)
        deadline = time.time() + timeout
        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(client, base, i, sem, deadline) for i in range(n)))
        wall = time.perf_counter() - t0
        runs = {}
        for run_id, _, _ in results:
            r = await client.get(f"{base}/v1/runs/{run_id}")
            runs[run_id] = r.json()
    return results, wall, runs


async def sequential(base, n):
    try:
        import httpx
    except ImportError:  # the openai client in .venv brings httpx2 (same API)
        import httpx2 as httpx

    async with httpx.AsyncClient(timeout=60) as client:
        lat = []
        for i in range(n):
            _, status, dt = await one(client, base, i, asyncio.Semaphore(1), time.time() + 60)
            assert status == "done", status
            lat.append(dt)
    return lat


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True).stdout


def duplicates(port, prefix, runs):
    # Count announcements per task uid on the done stream.
    seen = {}
    last = "-"
    while True:
        out = redis_cli(port, "XRANGE", f"{prefix}:done", last, "+", "COUNT", "10000").split("\n")
        uids = [out[i + 1] for i in range(len(out) - 1) if out[i] == "uid"]
        ids = [l for l in out if l and l[0].isdigit() and "-" in l and l.split("-")[0].isdigit()]
        for u in uids:
            seen[u] = seen.get(u, 0) + 1
        if len(ids) < 10000:
            break
        last = "(" + ids[-1]
    dup = sum(c - 1 for c in seen.values() if c > 1)
    mismatched = 0
    for run_id, state in runs.items():
        plan = state.get("plan") or {"tasks": []}
        results = (state.get("answer") or {}).get("results", [])
        if state.get("status") == "done" and len(results) != len(plan["tasks"]):
            mismatched += 1
    return dup, mismatched


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--inflight", type=int, default=200)
    ap.add_argument("--sequential", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    try:
        try:
            import httpx  # noqa: F401
        except ImportError:
            import httpx2  # noqa: F401
    except ImportError:
        venv_py = os.path.join(ROOT, ".venv", "bin", "python")
        if sys.executable != venv_py and os.path.exists(venv_py):
            os.execv(venv_py, [venv_py] + sys.argv)
        raise SystemExit("httpx is missing: run scripts/pyenv.sh")

    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked", "-p", "cbutler"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "cbutler")
    tmp = tempfile.mkdtemp(prefix="cbutler-load-")
    env = dict(os.environ, CBUTLER_HOME=tmp)
    procs = []

    def start(cmd, **kw):
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, f"log{len(procs)}"), "w"), **kw)
        procs.append(p)
        return p

    try:
        rport = free_port()
        start(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        wait_port(rport)
        url = f"redis://127.0.0.1:{rport}"
        prefix = "load"
        sport = free_port()
        # One caller without a token asks everything: its per-token quotas are raised to match,
        # and the test MRIO's folder is a data root of the server and the workers.
        roots = ["--data-root", os.path.dirname(MRIO)]
        quota = ["--max-runs-per-token", str(max(1000, args.questions)),
                 "--max-streams-per-token", str(max(1000, args.questions))]
        start([exe, "serve", "--listen", f"127.0.0.1:{sport}", "--redis", url, "--prefix", prefix,
               "--max-active-runs", str(max(1000, args.questions))] + quota + roots)
        for w in range(3):
            start([exe, "worker", "--redis", url, "--prefix", prefix, "--name", f"w{w}"] + roots)
        wait_port(sport)
        base = f"http://127.0.0.1:{sport}"
        # Warm up: each worker loads and factorises the MRIO once.
        asyncio.run(sequential(base, 6))

        results, wall, runs = asyncio.run(drive(base, args.questions, args.inflight, args.timeout))
        lat = sorted(dt for _, s, dt in results if s == "done")
        lost = sum(1 for _, s, _ in results if s != "done")
        dup, mismatched = duplicates(rport, prefix, runs)
        n = args.questions
        print(f"cluster: {n} questions, serve + 3 workers, Redis Streams")
        print(f"  throughput   {n / wall:8.1f} questions/s  ({wall:.2f} s wall)")
        if lat:
            print(f"  latency p50  {1000 * lat[len(lat) // 2]:8.1f} ms")
            print(f"  latency p99  {1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))]:8.1f} ms")
        print(f"  lost         {lost:8d}")
        print(f"  duplicated   {dup + mismatched:8d}  ({dup} announced twice, {mismatched} runs with a wrong result count)")

        cluster_seq = asyncio.run(sequential(base, args.sequential))
        eport = free_port()
        start([exe, "serve", "--listen", f"127.0.0.1:{eport}"] + quota + roots)
        wait_port(eport)
        ebase = f"http://127.0.0.1:{eport}"
        asyncio.run(sequential(ebase, 3))
        embedded_seq = asyncio.run(sequential(ebase, args.sequential))
        tasks = len(next(iter(runs.values()))["plan"]["tasks"])
        c, e = statistics.mean(cluster_seq), statistics.mean(embedded_seq)
        print(f"one at a time ({args.sequential} questions, {tasks} task(s) each):")
        print(f"  cluster      {1000 * c:8.2f} ms mean   (median {1000 * statistics.median(cluster_seq):.2f})")
        print(f"  embedded     {1000 * e:8.2f} ms mean   (median {1000 * statistics.median(embedded_seq):.2f})")
        print(f"  transport overhead per task {1000 * (c - e) / tasks:8.2f} ms  (ratio {c / e:.2f}x)")
        if lost or dup or mismatched:
            sys.exit(1)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGKILL)
            p.wait()


if __name__ == "__main__":
    main()
