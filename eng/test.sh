#!/usr/bin/env bash
# Builds the solution, runs every test project, and prints the totals alone on the last line: "N passed, N failed".
# Installs the real datasets first (eng/setup.sh is idempotent).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash eng/setup.sh || exit 1

results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet test FashionVision.sln -c Release --nologo \
  --logger "trx;LogFilePrefix=results" --logger "console;verbosity=minimal" \
  --results-directory "$results" "$@"
status=$?

# Sum the counters of every test run's TRX file.
passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the build or the test host failed before any test could report
fi

# The benchmark project must start whatever inputs are missing: listing its benchmarks (seconds) evaluates every class's
# parameter sources, as any --filter does. A project that cannot start counts as one failed test.
listing="$results/benchmarks-list.txt"
if dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --list flat >"$listing" 2>&1 \
    && grep -q '^FashionVision.Benchmarks.IdxBenchmarks.Raw$' "$listing"; then
  passed=$((passed + 1))
else
  echo "FAILED: the benchmark project does not start (dotnet run --project benchmarks/FashionVision.Benchmarks -- --list flat):" >&2
  tail -n 20 "$listing" >&2
  failed=$((failed + 1)); status=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
