#!/usr/bin/env bash
# The official Temporal Go SDK's integration suite as a standing check.
#
# Runs ../shared/sdk-suite/run.sh (a dev engine built from this checkout, the
# SDK's own tests against it) and compares its compare.tsv, the tests that
# pass on Temporal's dev server and their result here, with
# docs/sdk-suite-unsupported.tsv, the tests that may fail because they use a
# feature the README lists as unsupported (one line each: test, feature).
#
#   ./scripts/sdk-suite.sh            # all of it (~15 min on 2 cores)
#   ./scripts/sdk-suite.sh -run 'TestIntegrationSuite/TestUpdate'
#
# Exit 1 when a test outside that list does not pass (a regression, or a bug
# to fix), or when a listed test now passes (take it off the list). It prints
# N of M and the unsupported tests per feature, the figures
# docs/compatibility.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${SDK_SUITE:-../shared/sdk-suite}
list=docs/sdk-suite-unsupported.tsv
[[ -x $suite/run.sh ]] || { echo "sdk-suite: $suite/run.sh not found (set SDK_SUITE)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rc=0
"$suite/run.sh" --out "$out/run" "$@" >"$out/log" 2>&1 || rc=$?
if [[ $rc -ge 2 || ! -s $out/run/compare.tsv ]]; then
	tail -30 "$out/log" >&2
	echo "sdk-suite: the suite did not run (exit $rc)" >&2
	exit 2
fi
awk -F'\t' -v list="$list" '
	BEGIN {
		while ((getline line < list) > 0) {
			if (line ~ /^#/ || line == "") continue
			split(line, col, "\t"); feature[col[1]] = col[2]
		}
	}
	{ total++; result[$1] = $2; why[$1] = $4 }
	$2 == "pass" { passed++ }
	END {
		for (t in result) {
			if (result[t] == "pass" && (t in feature)) {
				stale++; printf "now passes (remove it from %s): %s\n", list, t
			} else if (result[t] != "pass" && !(t in feature)) {
				bad++; printf "FAILS, not an unsupported feature: %s  %s  %s\n", t, result[t], why[t]
			} else if (result[t] != "pass") {
				n[feature[t]]++
			}
		}
		printf "%d of %d tests that pass on Temporal'"'"'s dev server pass here\n", passed, total
		for (name in n) printf "  unsupported %-40s %d\n", name, n[name]
		if (bad || stale) exit 1
	}' "$out/run/compare.tsv"
