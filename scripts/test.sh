#!/usr/bin/env bash
# The project's test command (README).
#  1. every package except jepsen/, with the race detector;
#  2. jepsen/ on its own (real processes in network namespaces under faults;
#     it needs root, ip and iptables and skips with a message otherwise), so
#     its timing-sensitive schedules get the machine to themselves.
# Arguments are passed to both go test runs (e.g. -short, -run X).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 -timeout 25m $(go list ./... | grep -v '/jepsen') "$@"
go test -count=1 -timeout 25m ./jepsen/... "$@"
