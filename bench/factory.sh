#!/usr/bin/env bash
# Benchmark: the factory optimiser (HiGHS MILP) on the bundled scrap-EAF plant, a day to a year of
# hourly steps: model size, build and solve time, and how they grow with the horizon. The hourly
# profile is the bundled SYNTHETIC one. No peer tool: the growth with the horizon is the figure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/scripts/setup.sh"
cargo run --release --quiet --locked -p cb-factory --example bench_factory --manifest-path "$here/Cargo.toml"
