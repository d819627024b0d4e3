package cluster

import (
	"context"
	"testing"
	"time"
)

// Invariant: AllApplied(index) holds once every member has applied index,
// never for an index beyond the log, and not while a member is down.
func TestAllApplied(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	idx := l.mustWrite("example.com.")
	ctx := context.Background()
	waitFor(t, 5*time.Second, "every member applied the write", func() bool { return l.node.AllApplied(ctx, idx) })
	if l.node.AllApplied(ctx, idx+1000) {
		t.Fatal("AllApplied holds for an index beyond the log")
	}
	c.followers(l)[0].kill()
	if l.node.AllApplied(ctx, idx) {
		t.Fatal("AllApplied holds with a member down")
	}
}
