#!/usr/bin/env bash
# Regenerates the committed protobuf code. Needs protoc (apt-get install
# protobuf-compiler), protoc-gen-go and protoc-gen-go-grpc on PATH.
# The Temporal API .proto sources are not shipped in go.temporal.io/api, so we
# dump their compiled descriptors to a FileDescriptorSet and hand that to protoc.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
command -v protoc-gen-go >/dev/null || go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
command -v protoc-gen-go-grpc >/dev/null || go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go run ./scripts/protodesc "$tmp/deps.pb"
protoc --descriptor_set_in="$tmp/deps.pb" -I. \
  --go_out=. --go_opt=paths=source_relative \
  fsm/fsmpb/fsm.proto
protoc -I. --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  rpc/adminpb/admin.proto
