package cluster

import (
	"testing"
	"time"
)

// Invariant: a node restarted while the rest of the cluster is down answers
// from its last applied state (entries after its last snapshot included)
// before it has contact with anyone — and stays read-only meanwhile.
func TestRestartServesLastStateWithoutQuorum(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	var f *testNode
	for _, tn := range c.followers(l) {
		f = tn
	}
	idx := l.mustWrite("before-crash.example.")
	converged(t, 5*time.Second, idx, "before-crash.example.", c.nodes...)
	// Wait until the follower has persisted its applied index, as it does
	// a few times a second while running.
	waitFor(t, 5*time.Second, "the applied index to be persisted", func() bool { return f.node.persisted.Load() >= idx })

	for _, tn := range c.nodes {
		tn.kill()
	}
	f.boot()
	if !f.hasZone("before-crash.example.") || f.fsm.AppliedIndex() < idx {
		t.Fatalf("restarted alone, %s serves index %d without the zone; want index >= %d with it", f.id, f.fsm.AppliedIndex(), idx)
	}
	if _, err := f.write(createZone(t, "no-quorum.example.")); err == nil {
		t.Fatal("a lone restarted node acknowledged a write")
	}
}
