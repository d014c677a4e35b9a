//go:build !chaos

package rpc

// chaosDropSignal is the deliberately broken build's switch (chaos_on.go);
// ordinary builds never drop anything.
func chaosDropSignal() bool { return false }
