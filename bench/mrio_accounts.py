#!/usr/bin/env python3
"""Benchmark: Carbon Butler's MRIO accounts against pymrio's calc_all() on the same data.

Builds a SYNTHETIC multi-regional input-output system of EXIOBASE size (49 regions x 200
sectors = 9,800 industries, 21 stressors, final demand 9,800 x 245), and smaller ones (50 and
100 sectors per region), writes each as raw float64 matrices, then in one run, for each size:

  * pymrio 0.7 `calc_all()` in a child process (time and peak memory),
  * `bench_accounts` (the project's engine, release build) in a child process, twice: the
    regional accounts as `cbutler mrio accounts` computes them, and `--full` which adds
    M = S*L and every per-sector account (all that calc_all computes except L itself),

checks that both give the same D_cba_reg, D_pba_reg, D_imp_reg, D_exp_reg (relative 1e-8) and
prints wall time, peak memory (max RSS of each child) and the ratios.

Usage: python3 bench/mrio_accounts.py [--sizes 50,100,200] [--keep]
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
        subprocess.run([py, "-m", "pip", "install", "-q", "pymrio==0.7.0"], check=True)
    return py


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
io = pymrio.IOSystem(Z=Z, Y=Y)
io.emissions = pymrio.Extension(name="emissions", F=F, F_Y=F_Y)
t0 = time.perf_counter()
io.calc_all()
t = time.perf_counter() - t0
e = io.emissions
out = np.stack([e.D_cba_reg.values, e.D_pba_reg.values, e.D_imp_reg.values, e.D_exp_reg.values])
# Same layout as the Rust side: each k x R matrix column-major, one after the other.
np.concatenate([a.ravel(order="F") for a in out]).astype("<f8").tofile(f"{d}/pymrio_reg.bin")
print(json.dumps({"calc_all_s": t, "pymrio": pymrio.__version__, "numpy": np.__version__}))
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
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    py = venv_python()
    print("building bench_accounts (release)", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cb-trade", "--example", "bench_accounts"],
                   cwd=ROOT, check=True)
    ours = os.path.join(ROOT, "target", "release", "examples", "bench_accounts")
    env_note = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")}
    print(f"machine: {os.cpu_count()} cores; env {env_note}")
    results = []
    for ns in [int(s) for s in args.sizes.split(",")]:
        n = N_REGIONS * ns
        d = os.path.join(OUT, f"data-{n}")
        os.makedirs(d, exist_ok=True)
        print(f"\n== {N_REGIONS} regions x {ns} sectors = {n} industries; {N_STRESSORS} stressors; "
              f"Y {n} x {N_REGIONS * N_CATEGORIES} (SYNTHETIC data) ==", flush=True)
        subprocess.run([py, "-c", GENERATE, d, str(N_REGIONS), str(ns), str(N_CATEGORIES), str(N_STRESSORS)],
                       check=True)
        pm, pm_wall, pm_rss = measured([py, "-c", PYMRIO, d])
        rg, rg_wall, rg_rss = measured([ours, d])
        fu, fu_wall, fu_rss = measured([ours, d, "--full"])
        check = subprocess.run([py, "-c", (
            "import numpy as np,sys;d=sys.argv[1];a=np.fromfile(d+'/ours_reg.bin');b=np.fromfile(d+'/pymrio_reg.bin');"
            "print(float(np.max(np.abs(a-b)/np.maximum(np.abs(b),1e-300))))"), d], capture_output=True, text=True, check=True)
        worst = float(check.stdout)
        agree = worst <= 1e-8
        print(f"  pymrio calc_all():                 {pm['calc_all_s']:8.2f} s   peak {gib(pm_rss)}  (process {pm_wall:.1f} s)")
        print(f"  ours, regional accounts:           {rg['compute_s']:8.2f} s   peak {gib(rg_rss)}  (process {rg_wall:.1f} s, load {rg['load_s']:.1f} s)")
        print(f"  ours, + M and per-sector accounts: {fu['compute_s']:8.2f} s   peak {gib(fu_rss)}")
        print(f"    steps: " + ", ".join(f"{s} {t:.2f} s" for s, t in rg["steps_s"]))
        print(f"  ratio (pymrio / ours): regional {pm['calc_all_s'] / rg['compute_s']:.1f}x faster, "
              f"full {pm['calc_all_s'] / fu['compute_s']:.1f}x faster; memory {rg_rss / pm_rss:.2f} / {fu_rss / pm_rss:.2f} of pymrio's")
        print(f"  agreement of D_*_reg: worst relative difference {worst:.2e} -> {'OK' if agree else 'MISMATCH'}")
        results.append({"n": n, "pymrio_s": pm["calc_all_s"], "pymrio_rss": pm_rss, "ours_regional_s": rg["compute_s"],
                        "ours_regional_rss": rg_rss, "ours_full_s": fu["compute_s"], "ours_full_rss": fu_rss,
                        "worst_rel_diff": worst, "pymrio_version": pm["pymrio"]})
        if not args.keep:
            shutil.rmtree(d)
        if not agree:
            sys.exit("the two results disagree")
    print("\nGrowth with size (compute seconds):")
    print(f"  {'industries':>10} {'pymrio':>10} {'ours (regional)':>16} {'ours (full)':>12}")
    for r in results:
        print(f"  {r['n']:>10} {r['pymrio_s']:>10.2f} {r['ours_regional_s']:>16.2f} {r['ours_full_s']:>12.2f}")
    json.dump(results, open(os.path.join(OUT, "mrio_accounts.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
