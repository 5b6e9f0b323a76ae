#!/usr/bin/env bash
# The whole test suite, exactly what CI runs: build the binary, run every bun test against a real PostgreSQL
# (a throwaway local cluster unless DATABASE_URL is set), run the Deno suite, check that the run left nothing in
# the temp dir, and print "N passed, N failed".
# Needs the PostgreSQL server package (apt-get install -y postgresql) unless DATABASE_URL points at a server.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

[ -x node_modules/.bin/bun ] || npm ci --no-audit --no-fund || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"

build_target=${NETRAVEN_DB_BUILD:-build}   # CI sets build:all to build and smoke-test every target
npm run --silent "$build_target" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

# Not a terminal (CI, a pipe, a log file): no colour codes from bun or deno.
[ -t 1 ] || export NO_COLOR=1

mkdir -p .tmp
rm -f .tmp/junit-*.xml

# The run's own temp dir: tests, the binary (tests/harness/binary.ts passes TMPDIR on) and every child process put
# their temp files here, so scripts/leftovers.mjs finds exactly what this run left behind and nothing of other
# processes. World-writable and sticky like /tmp, because the throwaway PostgreSQL runs as nobody.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/netraven-test-run.XXXXXX") || { echo "cannot create a temp dir"; echo "0 passed, 1 failed"; exit 1; }
chmod 1777 "$run_tmp"
trap 'rm -rf "$run_tmp"' EXIT

TMPDIR="$run_tmp" bun test --timeout 120000 --reporter=junit --reporter-outfile=.tmp/junit-bun.xml "$@"
# Each report goes with its runner's exit status: an error outside any test (a file that throws while loading, a
# failing hook) makes the runner fail without a failed <testcase> in the report.
reports=(".tmp/junit-bun.xml=$?")
if [ "$#" -eq 0 ] && [ -d tests/deno ]; then
  TMPDIR="$run_tmp" deno test -A --no-check --junit-path=.tmp/junit-deno.xml tests/deno/*.deno.ts
  reports+=(".tmp/junit-deno.xml=$?")
fi
node scripts/leftovers.mjs "$run_tmp" .tmp/junit-leftovers.xml
reports+=(.tmp/junit-leftovers.xml)
node scripts/junit-summary.mjs "${reports[@]}"
