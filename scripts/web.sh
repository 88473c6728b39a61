#!/usr/bin/env bash
# The web page's tools, once: its Node.js packages (orchestrator/server/web/node_modules, exactly as
# package-lock.json says) and Debian's Chromium for the browser test. Then rebuilds the page
# (Vite) and checks that the committed orchestrator/server/web/dist/ — which cbutler compiles in, so
# that building cbutler needs no Node.js — is the build of orchestrator/server/web/src/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/orchestrator/server/web"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "error: Node.js 20 or later with npm is needed to build the web page and run its browser test" >&2
    exit 1
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium for the browser test" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -q chromium >&2 || { apt-get update -q >&2 && apt-get install -y -q chromium >&2; }
    else
        sudo apt-get install -y -q chromium >&2
    fi
fi

want="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
stamp="$web/node_modules/.package-lock.sha256"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "installing the web page's npm packages (npm ci)" >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
fi

(cd "$web" && npx --no-install vite build --logLevel error >&2)
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Against the index (on a fresh clone, the commit): files the build changed or added.
    changed="$(git -C "$root" diff --name-only -- orchestrator/server/web/dist; git -C "$root" ls-files --others --exclude-standard -- orchestrator/server/web/dist)"
    if [ -n "$changed" ]; then
        echo "error: orchestrator/server/web/dist is not the build of orchestrator/server/web/src; commit the rebuilt files:" >&2
        echo "$changed" >&2
        exit 1
    fi
fi
