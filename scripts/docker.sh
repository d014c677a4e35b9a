#!/usr/bin/env bash
# Builds the raftflow image locally (no image is pulled: the static binary is
# built on the host and copied into a FROM scratch image), starts the
# three-node docker-compose cluster, runs Temporal's hello world against it
# through a follower, prints `engine cluster status`, and takes it down.
#
#   scripts/docker.sh            build, up, hello world, down
#   scripts/docker.sh build|up|down|hello
set -euo pipefail
cd "$(dirname "$0")/.."
compose() {
  if docker compose version >/dev/null 2>&1; then docker compose -p raftflow "$@"; else docker-compose -p raftflow "$@"; fi
}
export RAFTFLOW_N1_GRPC=${RAFTFLOW_N1_GRPC:-17233} RAFTFLOW_N2_GRPC=${RAFTFLOW_N2_GRPC:-17243} RAFTFLOW_N3_GRPC=${RAFTFLOW_N3_GRPC:-17253}
export RAFTFLOW_N1_HTTP=${RAFTFLOW_N1_HTTP:-17235} RAFTFLOW_N2_HTTP=${RAFTFLOW_N2_HTTP:-17245} RAFTFLOW_N3_HTTP=${RAFTFLOW_N3_HTTP:-17255}
export RAFTFLOW_UI=${RAFTFLOW_UI:-18233}

build() {
  ctx=$(mktemp -d); trap 'rm -rf "$ctx"' RETURN
  CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ctx/engine" .
  mkdir "$ctx/data"
  cp Dockerfile "$ctx/"
  docker build -q -t raftflow/engine:local "$ctx"
  docker image ls raftflow/engine:local
}

wait_ready() {
  for port in "$RAFTFLOW_N1_HTTP" "$RAFTFLOW_N2_HTTP" "$RAFTFLOW_N3_HTTP"; do
    for _ in $(seq 1 120); do
      curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && continue 2
      sleep 0.5
    done
    echo "node on HTTP port $port never became ready" >&2; compose logs --tail=50 >&2; return 1
  done
}

up() { compose up -d; wait_ready; }
down() { compose down -v; }

hello() {
  bin=$(mktemp -d)
  go build -o "$bin/hello-worker" ./samples/helloworld/worker
  go build -o "$bin/hello-starter" ./samples/helloworld/starter
  go build -o "$bin/engine" .
  "$bin/engine" cluster --address "127.0.0.1:$RAFTFLOW_N2_GRPC" status
  TEMPORAL_ADDRESS="127.0.0.1:$RAFTFLOW_N3_GRPC" "$bin/hello-worker" >"$bin/worker.log" 2>&1 &
  wpid=$!
  trap 'kill $wpid 2>/dev/null || true; rm -rf "$bin"' RETURN
  TEMPORAL_ADDRESS="127.0.0.1:$RAFTFLOW_N2_GRPC" timeout 60 "$bin/hello-starter" 2>&1 | tee "$bin/starter.log"
  grep -q "Hello Temporal!" "$bin/starter.log"
  curl -fsS "http://127.0.0.1:$RAFTFLOW_N1_HTTP/metrics" | grep '^raftflow_workflow_closed_total'
  # The Web UI on n1 serves its settings and lists the workflow just run.
  curl -fsS "http://127.0.0.1:$RAFTFLOW_UI/api/v1/settings" >/dev/null
  curl -fsS "http://127.0.0.1:$RAFTFLOW_UI/api/v1/namespaces/default/workflows" | grep -q hello_world_workflowID
  echo "web UI: http://127.0.0.1:$RAFTFLOW_UI"
}

case "${1:-all}" in
  build) build ;;
  up) up ;;
  down) down ;;
  hello) hello ;;
  all)
    build
    trap down EXIT
    up
    hello
    echo "docker cluster: hello world OK"
    ;;
  *) echo "usage: $0 [build|up|hello|down]" >&2; exit 2 ;;
esac
