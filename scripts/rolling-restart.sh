#!/usr/bin/env bash
# Rolling restart under load, with real processes: starts a three-node
# cluster from a freshly built binary, runs scripts/rollingload (workflows
# started every 20 ms through a cluster-aware client), then restarts the
# nodes one at a time with SIGTERM (the leader hands leadership over
# first), waiting for the cluster to be ready again before the next one.
# It fails unless every workflow started during the restarts completed,
# and unless all three state machines end on the same digest.
#
#   scripts/rolling-restart.sh        (RAFTFLOW_PORT_BASE=27233 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
base=${RAFTFLOW_PORT_BASE:-27233}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/engine" .
go build -o "$work/rollingload" ./scripts/rollingload

grpc() { echo "127.0.0.1:$((base + 10 * ($1 - 1)))"; }
http() { echo "127.0.0.1:$((base + 10 * ($1 - 1) + 2))"; }
start() {
  local i=$1 join=()
  [ "$i" -gt 1 ] && join=(--join "$(grpc 1)")
  "$work/engine" --node-id "n$i" --data-dir "$work/d$i" --grpc-addr "$(grpc "$i")" \
    --raft-addr "127.0.0.1:$((base + 10 * (i - 1) + 1))" --http-addr "$(http "$i")" "${join[@]}" \
    >>"$work/n$i.log" 2>&1 &
  pids[$i]=$!
}
ready() {
  local n
  for n in 1 2 3; do
    for _ in $(seq 1 300); do
      curl -fsS "http://$(http "$n")/readyz" >/dev/null 2>&1 && continue 2
      sleep 0.1
    done
    echo "n$n not ready" >&2; tail -30 "$work/n$n.log" >&2; return 1
  done
}
leader() { "$work/engine" cluster --address "$(grpc 1)" -o json status | sed -n 's/.*"leader_id": "\(.*\)".*/\1/p'; }

for i in 1 2 3; do start "$i"; done
ready
"$work/engine" cluster --address "$(grpc 1)" status

"$work/rollingload" --endpoints "$(grpc 1),$(grpc 2),$(grpc 3)" --stop-file "$work/stop" &
load=$!
sleep 3
# Restart the followers first and the leader last, so the leader's
# SIGTERM (leadership transfer) is exercised on every run.
l=$(leader); order=()
for i in 1 2 3; do [ "n$i" != "$l" ] && order+=("$i"); done
order+=("${l#n}")
for i in "${order[@]}"; do
  echo "--- restarting n$i (leader: $(leader))"
  kill -TERM "${pids[$i]}"; wait "${pids[$i]}" || true
  start "$i"
  ready
  echo "    n$i back; leader: $(leader)"
  sleep 2
done
grep -h "leadership transferred" "$work"/n*.log || { echo "no leadership transfer logged" >&2; exit 1; }
touch "$work/stop"
wait "$load"
# Every replica ends on the same state (/digest: applied index and digest).
for _ in $(seq 1 300); do
  n=$(for i in 1 2 3; do curl -fsS "http://$(http "$i")/digest" 2>/dev/null || echo "n$i unavailable"; done | sort -u | wc -l)
  [ "$n" = 1 ] && break
  sleep 0.1
done
for i in 1 2 3; do echo "n$i $(curl -fsS "http://$(http "$i")/digest")"; done
[ "$n" = 1 ] || { echo "replicas differ" >&2; exit 1; }
echo "rolling restart: every workflow completed, replicas identical"
