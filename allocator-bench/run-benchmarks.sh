#!/usr/bin/env bash
# Runs the full JMH suite with the settings docs/benchmarks.md is measured with, and renders the tables.
#
#   allocator-bench/run-benchmarks.sh                 # everything: about 25 minutes on 2 cores
#   allocator-bench/run-benchmarks.sh 'AllocFreePair' # a subset: benchmarks whose Class.method matches the regex
#   allocator-bench/run-benchmarks.sh . --quick       # every benchmark once, briefly (about 4 minutes): a smoke test
#
# Writes JMH JSON, the memory log and environment.json to allocator-bench/target/bench-results/ (or
# $SPANHEAP_BENCH_OUT), then the markdown tables to <that directory>/benchmarks-tables.md, ready to paste
# into docs/benchmarks.md. Run it on a quiet machine: nothing else running, the benchmarks use both cores.
# Needs what ./spanheap needs (a JDK 25, Maven to build the jar); optional baselines:
#   apt-get install -y libmimalloc2.0 libtcmalloc-minimal4 libjemalloc2
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REGEX="${1:-.}"
shift || true
OUT="${SPANHEAP_BENCH_OUT:-$ROOT/allocator-bench/target/bench-results}"

cd "$ROOT"
start=$(date +%s)
./spanheap bench --regex "$REGEX" --output "$OUT" "$@"
./spanheap render --input "$OUT" --output "$OUT/benchmarks-tables.md"
end=$(date +%s)
echo "suite took $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s; tables in $OUT/benchmarks-tables.md"
