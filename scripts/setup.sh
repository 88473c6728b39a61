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
