#!/usr/bin/env python3
"""Benchmark: Carbon Butler's matrix LCA against bw2calc 3.1 (Brightway 2.5) on the same data.

Builds a SYNTHETIC ecoinvent-size system: 20,000 activities, ~9 inputs per column whose suppliers
follow a Zipf(1.5) distribution (a few hubs supply most), inputs summing to 0.6 per column;
1,000 biosphere flows with 5 exchanges per activity (~100,000 nonzeros); characterisation factors
for a third of the flows. Then, in one run:

  * bw2calc: LCA.lci() + lcia() for one demand, then redo_lci/redo_lcia for a sample of
    activities (time per solve); the time to footprint all 20,000 activities one after another is
    extrapolated from the sample and labelled so;
  * bench_lca (release build): sparse LU, single solves on the same sample, all 20,000 activities
    by single solves, and all 20,000 at once by one transposed solve (lambda = A^-T B^T c);

checks that both give the same scores for the sample (relative 1e-8), and prints times and ratios.
Sets up its own virtual environment (bench/out/venv-lca) with bw2calc 3.1.0 from PyPI.

Usage: python3 bench/lca.py [--activities 20000] [--sample 50]
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
VENV = os.path.join(OUT, "venv-lca")

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
d = sys.argv[1]
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
t0 = time.perf_counter()
lca = bc.LCA(demand={int(sample[0]) + 1: 1}, data_objs=[dp])
lca.lci(); lca.lcia()
first = time.perf_counter() - t0
scores = []
t0 = time.perf_counter()
for j in sample:
    lca.redo_lci({int(j) + 1: 1}); lca.redo_lcia()
    scores.append(lca.score)
per = (time.perf_counter() - t0) / len(sample)
np.array(scores, dtype="<f8").tofile(f"{d}/bw_scores.bin")
print(json.dumps({"first_lci_lcia_s": first, "per_solve_s": per, "bw2calc": bc.__version__ if hasattr(bc, "__version__") else "3.1"}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--activities", type=int, default=20000)
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=50)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        print("setting up", VENV, "(bw2calc 3.1.0 from PyPI)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "bw2calc==3.1.0"], check=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cb-lca", "--example", "bench_lca"], cwd=ROOT, check=True)
    d = os.path.join(OUT, f"lca-{args.activities}")
    os.makedirs(d, exist_ok=True)
    nnz = subprocess.run([py, "-c", GENERATE, d, str(args.activities), str(args.flows), str(args.sample)],
                         check=True, capture_output=True, text=True).stdout.split()
    print(f"SYNTHETIC technosphere: {args.activities} activities, {nnz[0]} nonzeros in A, {nnz[1]} in B, "
          f"{args.flows} biosphere flows")
    bw = json.loads(subprocess.run([py, "-c", BW, d], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    ours = json.loads(subprocess.run([os.path.join(ROOT, "target", "release", "examples", "bench_lca"), d],
                                     check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    import array
    a = array.array("d"); a.frombytes(open(f"{d}/ours_scores.bin", "rb").read())
    b = array.array("d"); b.frombytes(open(f"{d}/bw_scores.bin", "rb").read())
    worst = max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b))
    n = args.activities
    print(f"  bw2calc 3.1: first lci+lcia {bw['first_lci_lcia_s']:.2f} s; per solve (redo_lci+redo_lcia) "
          f"{bw['per_solve_s'] * 1000:.1f} ms; all {n} one by one ≈ {bw['per_solve_s'] * n:.0f} s (extrapolated from "
          f"{args.sample})")
    print(f"  ours: factorisation {ours['factorize_s'] * 1000:.1f} ms; per solve {ours['per_solve_s'] * 1000:.2f} ms; "
          f"all {n} by single solves {ours['all_by_single_solves_s']:.2f} s"
          f"{' (extrapolated from the sample)' if ours['all_by_single_solves_extrapolated'] else ''}; all {n} at once (one transposed solve) "
          f"{ours['all_by_one_transposed_solve_s'] * 1000:.1f} ms")
    print(f"  ratio per solve: {bw['per_solve_s'] / ours['per_solve_s']:.1f}x faster; all activities: "
          f"{bw['per_solve_s'] * n / ours['all_by_single_solves_s']:.0f}x (single solves), "
          f"{bw['per_solve_s'] * n / ours['all_by_one_transposed_solve_s']:.0f}x (transposed solve)")
    print(f"  agreement on {args.sample} activities: worst relative difference {worst:.2e} -> {'OK' if worst <= 1e-8 else 'MISMATCH'}")
    if worst > 1e-8:
        sys.exit(1)


if __name__ == "__main__":
    main()
