#!/usr/bin/env bash
# The project's test command (README): every package's tests, race detector on.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -race -count=1 -timeout 25m ./... "$@"
