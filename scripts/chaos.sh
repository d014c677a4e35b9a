#!/usr/bin/env bash
# Long chaos runs against three real engine processes in network namespaces
# (root only). Examples:
#   scripts/chaos.sh --nemesis all --time-limit 30m --seed 7
#   scripts/chaos.sh --nemesis partition,kill --time-limit 5m --seed 3 --out /tmp/run1
#   scripts/chaos.sh --repro /tmp/run1          # replay run1's recorded schedule
#   scripts/chaos.sh --bug drop-signal --time-limit 30s   # watch the checkers fail
# Exit status: 0 all checkers passed, 1 a checker failed, 2 the harness failed.
# See jepsen/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
if [[ $EUID -ne 0 ]]; then
	echo "chaos.sh: needs root (network namespaces, iptables)" >&2
	exit 2
fi
bin=$(mktemp -d)/chaos
go build -o "$bin" ./jepsen/cmd/chaos
exec "$bin" "$@"
