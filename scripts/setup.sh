#!/usr/bin/env bash
# Installs what building and testing Carbon Butler needs, on a fresh machine, once.
# Idempotent: a second run finds everything in place and does nothing.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "error: Rust (cargo) is not installed. Install it with rustup (https://rustup.rs), then run this again." >&2
        exit 1
    fi
fi

# fmt and clippy are part of the test command.
if command -v rustup >/dev/null 2>&1; then
    for component in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
            rustup component add "$component" >&2
        fi
    done
fi

# The factory agent links HiGHS (the `highs` crate builds it from source): that needs cmake, a
# C++ compiler and libclang (for bindgen). Installed from Debian's packages where missing.
need_pkgs=()
command -v cmake >/dev/null 2>&1 || need_pkgs+=(cmake)
command -v c++ >/dev/null 2>&1 || need_pkgs+=(g++)
# libclang.so (not libclang-cpp.so, which other packages bring and bindgen cannot use).
have_libclang=false
for f in /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* \
    /usr/lib/*/libclang.so* /usr/lib/*/libclang-[0-9]*.so*; do
    if [ -e "$f" ]; then have_libclang=true; break; fi
done
if [ "$have_libclang" = false ] && [ -z "${LIBCLANG_PATH:-}" ]; then
    need_pkgs+=(libclang-dev)
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "installing ${need_pkgs[*]} (needed to build HiGHS)" >&2
        if [ "$(id -u)" -eq 0 ]; then
            apt-get install -y -q "${need_pkgs[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${need_pkgs[@]}" >&2; }
        else
            sudo apt-get install -y -q "${need_pkgs[@]}" >&2
        fi
    else
        echo "error: install ${need_pkgs[*]} (cmake, a C++ compiler and libclang build the HiGHS solver), then run this again." >&2
        exit 1
    fi
fi

