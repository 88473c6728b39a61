# Read by CMake when the `highs-sys` crate builds the HiGHS solver (through the `cmake` crate,
# which passes the CMAKE_TOOLCHAIN_FILE variable set in .cargo/config.toml). HiGHS is the longest
# step of a first build on a 2-core machine, so it is built as a unity build: 16 sources per
# translation unit, each header parsed once per unit instead of once per source.
# HiGHS 1.16 alone, 2 cores, Release (-O3): 151 CPU-s and 83 s of wall time, where the per-source
# build took 282 s of wall time inside a first `cargo build`. 32 sources per unit does not compile
# (two sources define the same name). -O2 would save another fifth but solved the year-long
# factory MILP 40% slower (3.6 s instead of 2.6 s), so Release's -O3 stays.
set(CMAKE_UNITY_BUILD ON CACHE BOOL "HiGHS as a unity build")
set(CMAKE_UNITY_BUILD_BATCH_SIZE 16 CACHE STRING "sources per unity translation unit")
