package jepsen

import "github.com/raftflow/engine/internal/testutil/enginebin"

// EngineBinary builds the engine (with the given build tags) once per
// process and returns its path. RAFTFLOW_ENGINE_BIN (no tags) and
// RAFTFLOW_ENGINE_CHAOS_BIN (tag chaos) name prebuilt binaries instead.
// It is enginebin.Path, the builder internal/e2e shares.
func EngineBinary(tags string) (string, error) { return enginebin.Path(tags) }
