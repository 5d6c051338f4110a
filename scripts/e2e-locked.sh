#!/usr/bin/env bash
# Builds and runs Playwright under a lock, so two people (or agents) on one machine never rebuild
# `build/` under each other's running server. Arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec flock /tmp/asc-e2e.lock bash -c 'npx vite build > /tmp/asc-e2e-build.log 2>&1 || { tail -30 /tmp/asc-e2e-build.log; exit 1; }; npx playwright test "$@"' _ "$@"
