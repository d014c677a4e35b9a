#!/usr/bin/env bash
# Runs every fuzz target for a bounded time each (CI: FUZZTIME=30s). A
# failing input is written to the package's testdata/fuzz/ by go test, and
# the run fails; commit that input as a regression seed once fixed.
#   scripts/fuzz.sh            # every target, $FUZZTIME each (default 30s)
#   FUZZTIME=10m scripts/fuzz.sh FuzzHostileCommands
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
only=${1:-}
# package target, one per line: every func Fuzz* in the tree.
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
	pkg=./$(dirname "${f#./}")
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r fn; do echo "$pkg $fn"; done
done)
[[ -n "$targets" ]] || { echo "fuzz: no targets found"; exit 1; }
while read -r pkg fn; do
	[[ -z "$only" || "$only" == "$fn" ]] || continue
	echo "fuzz: $pkg $fn for $fuzztime"
	go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" "$pkg" </dev/null
done <<<"$targets"
