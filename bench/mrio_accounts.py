#!/usr/bin/env python3
"""Benchmark: Carbon Butler's MRIO accounts against pymrio on the same data, at equal threads.

Builds a SYNTHETIC multi-regional input-output system of EXIOBASE size (49 regions x 200
sectors = 9,800 industries, 21 stressors, final demand 9,800 x 245), and smaller ones (50 and
100 sectors per region), writes each as raw float64 matrices, then in one run, for each size:

  * pymrio 0.7 `calc_all()` in a child process (time and peak memory);
  * pymrio 0.7 doing only what our regional path needs, in a child process: its own iomath
    functions calc_x, calc_A, calc_L, calc_S and calc_accounts on the final demand summed by
    region, then the same regional sums calc_all makes. pymrio has no factorised path: its
    accounts need L = (I - A)^-1 (a dense inverse) and the per-sector accounts, which it must form
    where ours solves with the LU of (I - A) and sums by region;
  * `bench_accounts` (the project's engine, release build) in a child process, twice: the
    regional accounts as `cbutler mrio accounts` computes them, and `--full` which adds
    M = S*L and every per-sector account (all that calc_all computes except L itself),

each at 1 thread and at 2 threads for both sides (OpenBLAS, MKL, OpenMP and rayon pinned by
environment); checks that all give the same D_cba_reg, D_pba_reg, D_imp_reg, D_exp_reg
(relative 1e-8) and prints wall time, peak memory (max RSS of each child) and the ratios.

Usage: python3 bench/mrio_accounts.py [--sizes 50,100,200] [--threads 1,2] [--keep]
Sets up its own virtual environment (bench/out/venv) with pymrio from PyPI.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
VENV = os.path.join(OUT, "venv")
N_REGIONS = 49
N_CATEGORIES = 5
N_STRESSORS = 21


def venv_python():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        print("setting up", VENV, "(pymrio 0.7.0 from PyPI)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    have = subprocess.run([py, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    # threadpoolctl reports the thread pools each run really had.
    if "pymrio==0.7.0" not in have or "threadpoolctl" not in have:
        subprocess.run([py, "-m", "pip", "install", "-q", "pymrio==0.7.0", "threadpoolctl"], check=True)
    return py


def thread_env(threads):
    """The environment that pins every threaded library of both sides to `threads`."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[var] = str(threads)
    return env


GENERATE = r"""
import json, sys
import numpy as np
out, nr, ns, nc, k = sys.argv[1], *map(int, sys.argv[2:6])
n, m = nr * ns, nr * nc
rng = np.random.default_rng(20261128)
# Inter-industry flows: dense domestic blocks, sparser and smaller trade blocks, lognormal sizes.
# Any non-negative Z with positive final demand gives a productive economy (A x < x).
Z = rng.lognormal(mean=0.0, sigma=2.0, size=(n, n))
region = np.arange(n) // ns
domestic = region[:, None] == region[None, :]
keep = np.where(domestic, rng.random((n, n)) < 0.6, rng.random((n, n)) < 0.15)
Z *= keep
Z[~domestic] *= 0.1
# Final demand: mostly domestic, five categories per consuming region.
Y = rng.lognormal(mean=2.0, sigma=1.5, size=(n, m))
y_region = np.arange(m) // nc
Y[region[:, None] != y_region[None, :]] *= 0.05
x = Z.sum(1) + Y.sum(1)
# Stressors proportional to output with lognormal intensities; some F_Y for households.
F = rng.lognormal(mean=0.0, sigma=1.0, size=(k, n)) * x[None, :]
F_Y = np.zeros((k, m))
F_Y[:, ::nc] = rng.lognormal(mean=8.0, sigma=1.0, size=(k, nr))
for name, a in (("Z", Z), ("Y", Y), ("F", F), ("F_Y", F_Y)):
    a.ravel(order="F").astype("<f8").tofile(f"{out}/{name}.bin")
json.dump({"n_regions": nr, "n_sectors": ns, "n_categories": nc, "n_stressors": k,
           "synthetic": True}, open(f"{out}/meta.json", "w"))
"""

PYMRIO = r"""
import json, sys, time
import numpy as np, pandas as pd, pymrio
d = sys.argv[1]
meta = json.load(open(f"{d}/meta.json"))
nr, ns, nc, k = meta["n_regions"], meta["n_sectors"], meta["n_categories"], meta["n_stressors"]
n, m = nr * ns, nr * nc
def load(name, r, c):
    return np.fromfile(f"{d}/{name}.bin", dtype="<f8").reshape((r, c), order="F")
regions = [f"R{r}" for r in range(nr)]
rows = pd.MultiIndex.from_product([regions, [f"S{s}" for s in range(ns)]], names=["region", "sector"])
fd = pd.MultiIndex.from_product([regions, [f"C{c}" for c in range(nc)]], names=["region", "category"])
st = pd.Index([f"stressor{i}" for i in range(k)], name="stressor")
Z = pd.DataFrame(load("Z", n, n), index=rows, columns=rows)
Y = pd.DataFrame(load("Y", n, m), index=rows, columns=fd)
F = pd.DataFrame(load("F", k, n), index=st, columns=rows)
F_Y = pd.DataFrame(load("F_Y", k, m), index=st, columns=fd)
if sys.argv[2] == "calc_all":
    io = pymrio.IOSystem(Z=Z, Y=Y)
    io.emissions = pymrio.Extension(name="emissions", F=F, F_Y=F_Y)
    t0 = time.perf_counter()
    io.calc_all()
    t = time.perf_counter() - t0
    e = io.emissions
    reg = [e.D_cba_reg, e.D_pba_reg, e.D_imp_reg, e.D_exp_reg]
else:
    # Only what the regional accounts need, with pymrio's own functions.
    from pymrio.tools import iomath
    t0 = time.perf_counter()
    x = iomath.calc_x(Z, Y)
    A = iomath.calc_A(Z, x)
    L = iomath.calc_L(A)
    S = iomath.calc_S(F, x)
    Y_agg = Y.T.groupby(level="region", sort=False).sum().T
    D_cba, D_pba, D_imp, D_exp = iomath.calc_accounts(S, L, Y_agg)
    F_Y_agg = F_Y.T.groupby(level="region", sort=False).sum().T
    by_region = lambda D: D.T.groupby(level="region", sort=False).sum().T
    reg = [by_region(D_cba) + F_Y_agg, by_region(D_pba) + F_Y_agg, by_region(D_imp), by_region(D_exp)]
    t = time.perf_counter() - t0
out = np.stack([r.values for r in reg])
# Same layout as the Rust side: each k x R matrix column-major, one after the other.
np.concatenate([a.ravel(order="F") for a in out]).astype("<f8").tofile(f"{d}/pymrio_reg.bin")
from threadpoolctl import threadpool_info
print(json.dumps({"seconds": t, "pymrio": pymrio.__version__, "numpy": np.__version__,
                  "thread_pools": sorted({(p["internal_api"], p["num_threads"]) for p in threadpool_info()})}))
"""


def measured(cmd, env=None):
    """Runs cmd under a tiny Python wrapper that reports the child's own peak RSS."""
    wrapper = (
        "import resource,subprocess,sys,json;"
        "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
        "sys.stderr.write(p.stderr);"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(p.stdout.strip().splitlines()[-1] if p.returncode==0 else '');"
        "print(json.dumps({'rc':p.returncode,'maxrss_kib':r}))"
    )
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    lines = p.stdout.strip().splitlines()
    info = json.loads(lines[-1])
    if info["rc"] != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return json.loads(lines[-2]), wall, info["maxrss_kib"] * 1024


def gib(b):
    return f"{b / 2**30:.2f} GiB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50,100,200", help="sectors per region (49 regions each)")
    ap.add_argument("--threads", default="1,2", help="thread counts, each used by both sides")
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    py = venv_python()
    print("building bench_accounts (release)", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cb-trade", "--example", "bench_accounts"],
                   cwd=ROOT, check=True)
    ours = os.path.join(ROOT, "target", "release", "examples", "bench_accounts")
    print(f"machine: {os.cpu_count()} cores")
    results = []
    failed = False
    for ns in [int(s) for s in args.sizes.split(",")]:
        n = N_REGIONS * ns
        d = os.path.join(OUT, f"data-{n}")
        os.makedirs(d, exist_ok=True)
        print(f"\n== {N_REGIONS} regions x {ns} sectors = {n} industries; {N_STRESSORS} stressors; "
              f"Y {n} x {N_REGIONS * N_CATEGORIES} (SYNTHETIC data) ==", flush=True)
        subprocess.run([py, "-c", GENERATE, d, str(N_REGIONS), str(ns), str(N_CATEGORIES), str(N_STRESSORS)],
                       check=True)
        for threads in [int(t) for t in args.threads.split(",")]:
            env = thread_env(threads)
            runs = {}
            for name, cmd in (("pymrio calc_all()", [py, "-c", PYMRIO, d, "calc_all"]),
                              ("pymrio, regional only", [py, "-c", PYMRIO, d, "regional"]),
                              ("ours, regional accounts", [ours, d]),
                              ("ours, + M and per-sector", [ours, d, "--full"])):
                out, wall, rss = measured(cmd, env)
                seconds = out.get("seconds", out.get("compute_s"))
                # Each run's regional accounts, kept for the agreement check.
                written = os.path.join(d, "pymrio_reg.bin" if name.startswith("pymrio") else "ours_reg.bin")
                kept = os.path.join(d, f"reg-{len(runs)}.bin")
                os.replace(written, kept)
                runs[name] = {"seconds": seconds, "rss": rss, "wall": wall, "out": out, "file": kept}
            check = subprocess.run([py, "-c", (
                "import numpy as np,sys;b=np.fromfile(sys.argv[1]);"
                "print(max(float(np.max(np.abs(np.fromfile(f)-b)/np.maximum(np.abs(b),1e-300))) for f in sys.argv[2:]))"),
                runs["pymrio calc_all()"]["file"], *[r["file"] for r in runs.values()]],
                capture_output=True, text=True, check=True)
            worst = float(check.stdout)
            pools = runs["pymrio calc_all()"]["out"]["thread_pools"]
            print(f"  -- {threads} thread(s) each (pymrio's pools: {pools}; ours: rayon {threads})")
            for name, r in runs.items():
                print(f"  {name:26} {r['seconds']:8.2f} s   peak {gib(r['rss'])}  (process {r['wall']:.1f} s)")
            rg = runs["ours, regional accounts"]
            print(f"    our steps: " + ", ".join(f"{s} {t:.2f} s" for s, t in rg["out"]["steps_s"]))
            row = {"n": n, "threads": threads, "worst_rel_diff": worst}
            for peer in ("pymrio calc_all()", "pymrio, regional only"):
                p = runs[peer]
                speed, mem = p["seconds"] / rg["seconds"], rg["rss"] / p["rss"]
                print(f"  ours (regional) vs {peer:22}: {speed:5.1f}x faster (target 5x), "
                      f"{mem:.2f} of its memory (target <= 0.33)")
                row[peer] = {"seconds": p["seconds"], "rss": p["rss"], "speedup": speed, "memory_fraction": mem}
            row["ours_regional"] = {"seconds": rg["seconds"], "rss": rg["rss"]}
            row["ours_full"] = {"seconds": runs["ours, + M and per-sector"]["seconds"],
                                "rss": runs["ours, + M and per-sector"]["rss"]}
            print(f"  agreement of D_*_reg (all four against calc_all): worst relative difference {worst:.2e} -> "
                  f"{'OK' if worst <= 1e-8 else 'MISMATCH'}")
            failed |= worst > 1e-8
            results.append(row)
        if not args.keep:
            shutil.rmtree(d)
    json.dump(results, open(os.path.join(OUT, "mrio_accounts.json"), "w"), indent=1)
    if failed:
        sys.exit("the results disagree")


if __name__ == "__main__":
    main()
