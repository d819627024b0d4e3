// Package testwait is the one way tests wait for state: poll a condition
// on a short ticker until it holds, and fail the test at a deadline.
package testwait

import (
	"testing"
	"time"
)

// interval is how often the condition is polled.
const interval = 5 * time.Millisecond

// For polls cond until it holds, or fails t after timeout saying what it
// waited for.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}
