#!/usr/bin/env bash
# Quick start on a fresh Debian/Ubuntu machine: installs what is missing, builds the binary, starts a throwaway
# PostgreSQL of its own and runs init -> init -> validate -> backup -> verify -> list -> restore -> validate against
# it, printing what happens. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update && apt-get install -y postgresql
  else
    echo "The PostgreSQL server package is missing: run  sudo apt-get install -y postgresql  and try again." >&2
    exit 1
  fi
fi
[ -x node_modules/.bin/bun ] || npm ci --no-audit --no-fund
npm run --silent build
exec node_modules/.bin/bun scripts/demo.ts
