#!/usr/bin/env bash
# Runs every benchmark workload of issue #6 and regenerates
# docs/performance.md from the JSON records (docs/bench-results.jsonl).
#   scripts/bench.sh            # the full set (about 30 minutes here)
#   scripts/bench.sh --quick    # small counts, to see the harness work
# Each line is one `go run ./scripts/bench` invocation; run one alone to
# repeat a figure. Run on a machine with nothing else busy.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
records=docs/bench-results.jsonl
idle=1000000 timers=100000 hello=3000 signals=1000 duration=30s
if [[ ${1:-} == --quick ]]; then
	records=$(mktemp -d)/bench-results.jsonl
	idle=5000 timers=500 hello=300 signals=50 duration=12s
fi
bin=$(mktemp -d)/bench
go build -o "$bin" ./scripts/bench
run() { echo "+ bench $*"; "$bin" --json "$records" "$@"; }
run --mode cluster --workload hello --workflows "$hello" --concurrency 100
run --mode cluster --workload leaderkill --duration "$duration" --concurrency 100
run --mode dev --workload signals --workflows "$signals" --concurrency 100
run --mode dev --workload idle,timers,install --idle "$idle" --workflows "$timers" --rate 400 --concurrency 200
run --mode dev --workload hello --workflows "$hello" --concurrency 100 --compare-temporal
out=docs/performance.md
[[ ${1:-} == --quick ]] && out=${records%.jsonl}.md
"$bin" --json "$records" --report "$out"
echo "wrote $out"
