package cluster

import (
	"runtime"
	"testing"
	"time"
)

// Invariant: a node's goroutines all end when it is shut down (every
// goroutine has an owner): after a cluster that formed, failed over and
// served writes is stopped, the goroutine count returns to where it was.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("cluster", func(t *testing.T) {
		c := startThree(t)
		l := c.leader(5 * time.Second)
		c.followers(l)[0].mustWrite("example.com.")
		l.kill()
		c.leader(5 * time.Second)
	})
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left (had %d):\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		<-tick.C
	}
}
