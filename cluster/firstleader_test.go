package cluster

import (
	"testing"
	"time"
)

// Invariant: the first write to a freshly bootstrapped node waits for its
// first election instead of failing with NO_QUORUM, as a user's first
// command right after `resolvx server` would — even when that election
// takes longer than leaderWait.
func TestFirstWriteWaitsForFirstElection(t *testing.T) {
	logger, _ := testLogger(t)
	tn := &testNode{t: t, id: "solo", dir: t.TempDir(), cfg: Config{
		NodeID: "solo", Listen: "127.0.0.1:0", Logger: logger,
		// One heartbeat timeout passes before the first election: longer
		// than leaderWait, so only firstLeaderWait lets the write through.
		HeartbeatTimeout: 1200 * time.Millisecond, ElectionTimeout: 1200 * time.Millisecond, LeaderLeaseTimeout: 500 * time.Millisecond,
	}}
	tn.cfg.DataDir = tn.dir
	start := time.Now()
	tn.boot()
	if _, err := tn.write(createZone(t, "first.example.")); err != nil {
		t.Fatalf("first write %v after start: %v", time.Since(start).Round(time.Millisecond), err)
	}
	took := time.Since(start)
	if took < leaderWait {
		t.Logf("the election was faster than leaderWait (%v): this run did not exercise firstLeaderWait", took)
	}
	t.Logf("first write applied %v after the node started", took.Round(time.Millisecond))
}
