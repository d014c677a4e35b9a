package rpc

// GateOf is gateOf's class name ("read", "write", ...) for tests.
func GateOf(fullMethod string) string { return gateOf(fullMethod).String() }

// Gates is the gate table by class name, for tests.
func Gates() map[string]string {
	out := make(map[string]string, len(gates))
	for m, g := range gates {
		out[m] = g.String()
	}
	return out
}
