#!/usr/bin/env bash
# Fails when fsm/ (the replicated state machine) reads a clock, randomness or
# the network: Apply must be deterministic (DESIGN-GUIDE §3.1). Wall time and
# ids are stamped by the leader into the command before raft.Apply.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(grep -nE 'time\.(Now|Since|Until|After|AfterFunc|Tick|NewTimer|NewTicker|Sleep)\(|"math/rand|"crypto/rand|"net"|"net/http"|uuid\.New|go func' \
  $(git ls-files 'fsm/*.go' | grep -v '_test.go$' | grep -v '\.pb\.go$') || true)
if [ -n "$bad" ]; then
  echo "fsm/ must be deterministic; found clock/randomness/network/goroutines:"
  echo "$bad"
  exit 1
fi
echo "fsm purity check: ok"
