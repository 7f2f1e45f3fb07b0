package e2etest

import (
	"context"
	"errors"
	"testing"
	"time"
)

// AwaitStop waits, after a test cancelled the context of its in-process server, for server.Run
// (which reports on done) to return, within timeout, and reports anything but a clean stop.
func AwaitStop(t testing.TB, done <-chan error, timeout time.Duration) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server.Run: %v", err)
		}
	case <-time.After(timeout):
		t.Errorf("server.Run did not return within %v of its context being cancelled", timeout)
	}
}
