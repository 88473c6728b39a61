#!/usr/bin/env python3
"""Benchmark: Carbon Butler's matrix LCA against bw2calc 3.1 (Brightway 2.5) with pypardiso, same data.

Builds a SYNTHETIC ecoinvent-size system: 20,000 activities, ~9 inputs per column whose suppliers
follow a Zipf(1.5) distribution (a few hubs supply most), inputs summing to 0.6 per column;
1,000 biosphere flows with 5 exchanges per activity (~100,000 nonzeros); characterisation factors
for a third of the flows. Then, in one run, at 1 thread and at 2 threads for both sides (MKL, OpenMP,
OpenBLAS and rayon pinned by environment):

  * bw2calc 3.1.0 as its users run it: pypardiso installed (the solver Brightway recommends; bw2calc
    then keeps the PARDISO factorisation between solves) and `lci(factorize=True)`;
  * bench_lca (release build): faer's sparse LU, factorised once;

and times, for each:

  * the first footprint: from reading the arrays to the first score (building the matrices,
    factorising, solving, characterising) -- Python's start and imports, and our process start,
    are outside the clock;
  * each further footprint: a new demand solved with the kept factorisation, forming what
    bw2calc's `redo_lci` + `redo_lcia` form (the supply, the inventory matrix B*diag(s), the
    characterised inventory); our inventory-vector path (g = B*s, the product's) is printed beside;
  * ours only: all 20,000 activities' footprints at once (one transposed solve, lambda = A^-T B^T c).

Checks that both give the same scores for the sample (relative 1e-8) and prints times and ratios.
Sets up its own virtual environment (bench/out/venv-lca) with bw2calc 3.1.0 and pypardiso from PyPI.

Usage: python3 bench/lca.py [--activities 20000] [--sample 50] [--threads 1,2]
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
VENV = os.path.join(OUT, "venv-lca")
PEERS = ["bw2calc==3.1.0", "pypardiso==0.4.7"]


def thread_env(threads):
    """The environment that pins every threaded library of both sides to `threads`."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[var] = str(threads)
    env["MKL_DYNAMIC"] = "FALSE"
    return env


def venv_python():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        print("setting up", VENV, "(" + ", ".join(PEERS) + " from PyPI)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    have = subprocess.run([py, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    # threadpoolctl reports the thread pools each run really had.
    if any(p not in have for p in PEERS) or "threadpoolctl" not in have:
        subprocess.run([py, "-m", "pip", "install", "-q", *PEERS, "threadpoolctl"], check=True)
    return py


def generate(py, activities, flows, sample):
    d = os.path.join(OUT, f"lca-{activities}")
    os.makedirs(d, exist_ok=True)
    nnz = subprocess.run([py, "-c", GENERATE, d, str(activities), str(flows), str(sample)],
                         check=True, capture_output=True, text=True).stdout.split()
    return d, nnz


GENERATE = r"""
import json, sys
import numpy as np
out, n, k, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(20261128)
rank = rng.permutation(n)                     # which activity is the i-th most popular supplier
rows, cols, vals = [np.arange(n)], [np.arange(n)], [np.ones(n)]
for j in range(n):
    m = max(1, rng.poisson(9))
    sup = set()
    while len(sup) < m:
        z = rng.zipf(1.5)
        if z <= n:
            s = int(rank[z - 1])
            if s != j:
                sup.add(s)
    sup = np.fromiter(sup, dtype=np.int64)
    x = rng.random(len(sup)) + 0.05
    x *= 0.6 / x.sum()
    rows.append(sup); cols.append(np.full(len(sup), j)); vals.append(-x)
A = (np.concatenate(rows), np.concatenate(cols), np.concatenate(vals))
brow = rng.integers(0, k, size=5 * n); bcol = np.repeat(np.arange(n), 5)
bval = rng.lognormal(0.0, 1.0, size=5 * n)
c = np.where(rng.random(k) < 1 / 3, rng.lognormal(0.0, 1.0, size=k), 0.0)
for name, (r, cc, v) in (("A", A), ("B", (brow, bcol, bval))):
    r.astype("<i8").tofile(f"{out}/{name}_rows.bin"); cc.astype("<i8").tofile(f"{out}/{name}_cols.bin")
    v.astype("<f8").tofile(f"{out}/{name}_vals.bin")
c.astype("<f8").tofile(f"{out}/c.bin")
rng.choice(n, size=sample, replace=False).astype("<i8").tofile(f"{out}/sample.bin")
json.dump({"n_activities": n, "n_flows": k, "synthetic": True}, open(f"{out}/meta.json", "w"))
print(len(A[0]), len(brow))
"""

BW = r"""
import json, sys, time
import numpy as np
import bw_processing as bwp
import bw2calc as bc
from threadpoolctl import threadpool_info
d = sys.argv[1]
assert bc.PYPARDISO, "pypardiso is not importable: bw2calc would fall back to SciPy"
# First footprint: from reading the arrays to the first score.
t0 = time.perf_counter()
meta = json.load(open(f"{d}/meta.json")); n, k = meta["n_activities"], meta["n_flows"]
ld = lambda name, t: np.fromfile(f"{d}/{name}.bin", dtype=t)
def idx(r, c):
    a = np.zeros(len(r), dtype=bwp.INDICES_DTYPE); a["row"] = r + 1; a["col"] = c + 1; return a
dp = bwp.create_datapackage()
dp.add_persistent_vector(matrix="technosphere_matrix", indices_array=idx(ld("A_rows", "<i8"), ld("A_cols", "<i8")),
                         data_array=ld("A_vals", "<f8"))
# Biosphere flow ids must not collide with product ids.
dp.add_persistent_vector(matrix="biosphere_matrix", indices_array=idx(ld("B_rows", "<i8") + n, ld("B_cols", "<i8")),
                         data_array=ld("B_vals", "<f8"))
c = ld("c", "<f8"); nz = np.nonzero(c)[0]
dp.add_persistent_vector(matrix="characterization_matrix", indices_array=idx(nz + n, nz + n), data_array=c[nz])
sample = ld("sample", "<i8")
lca = bc.LCA(demand={int(sample[0]) + 1: 1}, data_objs=[dp])
lca.lci(factorize=True); lca.lcia()
first = time.perf_counter() - t0
first_score = lca.score
scores = []
t0 = time.perf_counter()
for j in sample:
    lca.redo_lci({int(j) + 1: 1}); lca.redo_lcia()
    scores.append(lca.score)
per = (time.perf_counter() - t0) / len(sample)
assert abs(scores[0] - first_score) <= 1e-12 * abs(first_score)
np.array(scores, dtype="<f8").tofile(f"{d}/bw_scores.bin")
pools = sorted({(p["internal_api"], p["num_threads"]) for p in threadpool_info()})
print(json.dumps({"first_footprint_s": first, "per_solve_s": per, "pypardiso": bc.PYPARDISO,
                  "thread_pools": pools}))
"""


def run_side(cmd, threads):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=thread_env(threads))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--activities", type=int, default=20000)
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=50)
    ap.add_argument("--threads", default="1,2", help="thread counts, each used by both sides")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    py = venv_python()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cb-lca", "--example", "bench_lca"], cwd=ROOT, check=True)
    d, nnz = generate(py, args.activities, args.flows, args.sample)
    print(f"SYNTHETIC technosphere: {args.activities} activities, {nnz[0]} nonzeros in A, {nnz[1]} in B, "
          f"{args.flows} biosphere flows; bw2calc 3.1.0 + pypardiso 0.4.7 (MKL PARDISO), lci(factorize=True); "
          f"both sides form the inventory matrix per solve")
    import array
    failed = False
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        bw = run_side([py, "-c", BW, d], threads)
        ours = run_side([os.path.join(ROOT, "target", "release", "examples", "bench_lca"), d], threads)
        a = array.array("d"); a.frombytes(open(f"{d}/ours_scores.bin", "rb").read())
        b = array.array("d"); b.frombytes(open(f"{d}/bw_scores.bin", "rb").read())
        worst = max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b))
        first_ratio = bw["first_footprint_s"] / ours["first_footprint_s"]
        solve_ratio = bw["per_solve_s"] / ours["per_solve_s"]
        print(f"\n== {threads} thread(s) each (bw2calc's pools: {bw['thread_pools']}; ours: rayon {ours['threads']}) ==")
        print(f"  first footprint  bw2calc {bw['first_footprint_s'] * 1000:8.1f} ms   ours {ours['first_footprint_s'] * 1000:8.1f} ms"
              f"   ratio {first_ratio:5.2f}x (target 2x)   [ours: load {ours['load_s'] * 1000:.0f} ms, "
              f"factorisation {ours['factorize_s'] * 1000:.0f} ms]")
        print(f"  further solve    bw2calc {bw['per_solve_s'] * 1000:8.2f} ms   ours {ours['per_solve_s'] * 1000:8.2f} ms"
              f"   ratio {solve_ratio:5.2f}x (target 3x)   [ours, inventory vector only: "
              f"{ours['per_solve_vector_s'] * 1000:.2f} ms]")
        print(f"  ours: all {args.activities} footprints at once (one transposed solve) "
              f"{ours['all_by_one_transposed_solve_s'] * 1000:.1f} ms")
        print(f"  agreement on {args.sample} activities: worst relative difference {worst:.2e} -> "
              f"{'OK' if worst <= 1e-8 else 'MISMATCH'}")
        failed |= worst > 1e-8
        rows.append({"threads": threads, "bw2calc": bw, "ours": ours, "first_ratio": first_ratio,
                     "solve_ratio": solve_ratio, "worst_rel_diff": worst})
    json.dump(rows, open(os.path.join(OUT, "lca.json"), "w"), indent=1)
    if failed:
        sys.exit("the two results disagree")


if __name__ == "__main__":
    main()
