#!/usr/bin/env python3
"""Benchmark: Monte Carlo LCA, Carbon Butler against bw2calc 3.1 on the same data in one run.

The SYNTHETIC ecoinvent-size system of bench/lca.py (20,000 activities, Zipf(1.5) suppliers), every
technosphere input lognormal with GSD 1.2 (outputs on the diagonal fixed), biosphere fixed, one demand:

  * bw2calc 3.1: LCA(use_distributions=True) and next() per iteration (direct solves), and
    IterativeLCA (bicgstab warm-started), iterations per second;
  * bench_lca_mc (release build), the product's own path (cb_lca::uncertainty::PerturbedSystem
    through the uncertainty engine's propagate): lognormal multipliers by Ziggurat normals, each
    draw's perturbed system solved by iteration preconditioned with the base LU (corrections solved
    with its single-precision copy, residuals in double), 32 draws' residuals per
    multi-right-hand-side triangular solve (refactorised with the symbolic analysis reused where the
    iteration does not converge), batches in parallel over the machine's cores.

Prints both, the ratio, and compares mean and standard deviation within sampling error.
Usage: python3 bench/lca_mc.py [--iterations-bw 30] [--iterations 1000]
"""

import argparse
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lca  # noqa: E402  (the generator and the venv of the LCA benchmark)

BW_MC = r"""
import json, sys, time
import numpy as np
import bw_processing as bwp
import bw2calc as bc
d, iterations = sys.argv[1], int(sys.argv[2])
meta = json.load(open(f"{d}/meta.json")); n, k = meta["n_activities"], meta["n_flows"]
ld = lambda name, t: np.fromfile(f"{d}/{name}.bin", dtype=t)
def idx(r, c):
    a = np.zeros(len(r), dtype=bwp.INDICES_DTYPE); a["row"] = r + 1; a["col"] = c + 1; return a
rows, cols, vals = ld("A_rows", "<i8"), ld("A_cols", "<i8"), ld("A_vals", "<f8")
dist = np.zeros(len(vals), dtype=bwp.UNCERTAINTY_DTYPE)
inputs = rows != cols
dist["uncertainty_type"] = np.where(inputs, 2, 0)          # 2 = lognormal (stats_arrays)
dist["loc"] = np.where(inputs, np.log(np.abs(vals)), vals)
dist["scale"] = np.where(inputs, np.log(1.2), np.nan)
dist["negative"] = vals < 0
for f in ("shape", "minimum", "maximum"):
    dist[f] = np.nan
dp = bwp.create_datapackage()
dp.add_persistent_vector(matrix="technosphere_matrix", indices_array=idx(rows, cols), data_array=vals,
                         distributions_array=dist)
dp.add_persistent_vector(matrix="biosphere_matrix", indices_array=idx(ld("B_rows", "<i8") + n, ld("B_cols", "<i8")),
                         data_array=ld("B_vals", "<f8"))
c = ld("c", "<f8"); nz = np.nonzero(c)[0]
dp.add_persistent_vector(matrix="characterization_matrix", indices_array=idx(nz + n, nz + n), data_array=c[nz])
demand = {int(ld("sample", "<i8")[0]) + 1: 1}
out = {}
for name, cls in (("direct", bc.LCA), ("iterative", getattr(bc, "IterativeLCA", None))):
    if cls is None:
        continue
    lca = cls(demand=demand, data_objs=[dp], use_distributions=True, seed_override=1)
    lca.lci(); lca.lcia()
    scores = []
    t0 = time.perf_counter()
    for _ in range(iterations):
        next(lca)
        scores.append(lca.score)
    secs = time.perf_counter() - t0
    s = np.array(scores)
    out[name] = {"iterations_per_s": iterations / secs, "mean": float(s.mean()), "sd": float(s.std(ddof=1)), "n": iterations}
print(json.dumps(out))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--activities", type=int, default=20000)
    ap.add_argument("--iterations-bw", type=int, default=30)
    ap.add_argument("--iterations", type=int, default=1000)
    args = ap.parse_args()
    py = os.path.join(lca.VENV, "bin", "python")
    d = os.path.join(lca.OUT, f"lca-{args.activities}")
    if not os.path.exists(os.path.join(d, "meta.json")) or not os.path.exists(py):
        sys.exit("run python3 bench/lca.py first (it sets up bw2calc and writes the synthetic system)")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cb-lca", "--example", "bench_lca_mc"], cwd=lca.ROOT, check=True)
    print(f"SYNTHETIC technosphere, {args.activities} activities, every input lognormal GSD 1.2")
    bw = json.loads(subprocess.run([py, "-c", BW_MC, d, str(args.iterations_bw)], check=True, capture_output=True,
                                   text=True).stdout.strip().splitlines()[-1])
    ours = json.loads(subprocess.run([os.path.join(lca.ROOT, "target", "release", "examples", "bench_lca_mc"), d,
                                      str(args.iterations)], check=True, capture_output=True, text=True).stdout)
    best = max(v["iterations_per_s"] for v in bw.values())
    for name, v in bw.items():
        print(f"  bw2calc 3.1 {name:9}: {v['iterations_per_s']:.2f} it/s; mean {v['mean']:.6g}, sd {v['sd']:.4g} ({v['n']} it)")
    print(f"  ours ({ours['threads']} threads): {ours['iterations_per_s']:.1f} it/s; mean {ours['mean']:.6g}, "
          f"sd {ours['sd']:.4g} ({ours['iterations']} it; {ours['mean_preconditioned_steps']:.1f} preconditioned steps "
          f"on average, {ours['refactorised']} refactorised; base factorisation {ours['factorize_s']:.2f} s)")
    print(f"  ratio to bw2calc's best: {ours['iterations_per_s'] / best:.1f}x (target 10x)")
    for name, v in bw.items():
        se = math.sqrt(v["sd"] ** 2 / v["n"] + ours["sd"] ** 2 / ours["iterations"])
        z = abs(v["mean"] - ours["mean"]) / se if se > 0 else 0.0
        print(f"  means vs {name}: difference {z:.2f} standard errors -> {'OK' if z < 3 else 'DIFFERENT'}; "
              f"sd ratio {ours['sd'] / v['sd']:.3f}")


if __name__ == "__main__":
    main()
