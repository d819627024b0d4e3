package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/zone"
)

// Invariant: a node that bootstraps and two that join its address form one
// three-voter cluster; every node names the same leader, and Status (from
// any node) lists the three voters, sorted, reachable, not read-only.
func TestFormViaJoin(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)

	select {
	case v := <-l.node.LeaderEvents():
		if !v {
			t.Fatalf("leader's first leadership event is %v", v)
		}
	default:
		if l.id == "n1" {
			t.Fatal("the bootstrapping leader got no leadership event")
		}
	}
	for _, tn := range c.nodes[1:] {
		waitFor(t, 5*time.Second, tn.id+"'s join loop to finish", tn.node.joined.Load)
	}

	// A node whose join RPC has returned may not yet have received the
	// leader's first append; until it does it rightly reports read-only and
	// an empty configuration. So each node's status is polled until it
	// settles; each unsettled status seen is logged.
	for _, tn := range c.nodes {
		var st Status
		var problem string
		waitFor(t, 5*time.Second, tn.id+"'s status to settle", func() bool {
			st = tn.node.Status(context.Background())
			problem = statusProblem(st, l)
			if problem != "" {
				t.Logf("%s not settled: %s in %+v", tn.id, problem, st)
			}
			return problem == ""
		})
	}
}

// statusProblem says what is wrong with st for a settled three-node
// cluster led by l, or "" if nothing is.
func statusProblem(st Status, l *testNode) string {
	if st.Leader != l.id || st.LeaderAddress != l.node.Addr() || st.ReadOnly || st.IsLeader != (st.NodeID == l.id) {
		return "wrong leader or read-only"
	}
	if got := ids(st.Nodes); got != "n1=leader/voter,n2=follower/voter,n3=follower/voter" &&
		got != "n1=follower/voter,n2=leader/voter,n3=follower/voter" &&
		got != "n1=follower/voter,n2=follower/voter,n3=leader/voter" {
		return "nodes " + got
	}
	for _, ns := range st.Nodes {
		if ns.LastContact == "" || ns.APIAddress != "api-"+ns.ID || ns.DNSAddress != "dns-"+ns.ID || ns.IsLeader != (ns.ID == l.id) {
			return "node " + ns.ID + " incomplete"
		}
	}
	return ""
}

// Invariant: a write through a follower is committed by Raft, returns its
// Raft index, is applied on that follower before Apply returns (read your
// writes), and reaches every node. A command the FSM rejects comes back with
// its code, whether proposed on the leader or forwarded.
func TestWriteThroughFollower(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	f := c.followers(l)[0]

	idx := f.mustWrite("example.com.")
	if !f.hasZone("example.com.") || f.fsm.AppliedIndex() < idx {
		t.Fatalf("follower has not applied its own write (applied %d, index %d)", f.fsm.AppliedIndex(), idx)
	}
	if z := l.fsm.State().Zones.Zone("example.com."); z == nil || z.CreatedIndex() != idx {
		t.Fatalf("leader's zone was not created at raft index %d: %v", idx, z)
	}
	if last := l.node.raft.LastIndex(); idx > last {
		t.Fatalf("index %d beyond the leader's last log index %d", idx, last)
	}
	converged(t, 5*time.Second, idx, "example.com.", c.nodes...)

	for _, tc := range []struct {
		via  *testNode
		cmd  []byte
		code string
		is   error
	}{
		{f, invalidCmd, "VALIDATION_ERROR", zone.ErrInvalid},
		{l, invalidCmd, "VALIDATION_ERROR", zone.ErrInvalid},
		{f, createZone(t, "example.com."), "ALREADY_EXISTS", zone.ErrExists},
		{l, createZone(t, "example.com."), "ALREADY_EXISTS", zone.ErrExists},
	} {
		_, err := tc.via.write(tc.cmd)
		if zone.CodeOf(err) != tc.code || !errors.Is(err, tc.is) {
			t.Fatalf("through %s: got %v (code %q), want %s", tc.via.id, err, zone.CodeOf(err), tc.code)
		}
	}

	// Reads: stale returns at once; leader and linearizable make a
	// follower catch up with the leader's applied state.
	idx2 := l.mustWrite("example.net.")
	for _, lvl := range []Consistency{Leader, Linearizable} {
		for _, tn := range c.nodes {
			if err := tn.node.ReadBarrier(context.Background(), lvl); err != nil {
				t.Fatalf("%s ReadBarrier(%s): %v", tn.id, lvl, err)
			}
			if tn.fsm.AppliedIndex() < idx2 || !tn.hasZone("example.net.") {
				t.Fatalf("%s after ReadBarrier(%s): applied %d < %d", tn.id, lvl, tn.fsm.AppliedIndex(), idx2)
			}
		}
	}
	if err := f.node.ReadBarrier(context.Background(), Stale); err != nil {
		t.Fatal(err)
	}
	if err := f.node.ReadBarrier(context.Background(), "bogus"); zone.CodeOf(err) != "INVALID_REQUEST" {
		t.Fatalf("bogus level: %v", err)
	}

	// fsm.Writer over the node: the interface the API uses.
	var _ fsm.Applier = f.node
	w := fsm.NewWriter(f.fsm, f.node)
	widx, err := w.CreateZone(context.Background(), "example.org.")
	if err != nil || !f.hasZone("example.org.") || widx <= idx2 {
		t.Fatalf("writer through follower: %d %v", widx, err)
	}
}

// Invariant: when the leader crashes (no transfer), the survivors elect a
// new leader and writes keep working; the old node, restarted on its data
// dir with the same Join, catches up, and its join changes nothing (no
// duplicate or new configuration entry). Status shows a dead member as
// unreachable.
func TestLeaderCrashFailoverAndRejoin(t *testing.T) {
	c := startThree(t)
	old := c.leader(5 * time.Second)
	before := old.node.raft.Stats()["latest_configuration_index"]
	idx := old.mustWrite("before.example.")

	start := time.Now()
	old.kill()
	nl := c.leader(10 * time.Second)
	t.Logf("failover after leader crash: new leader %s in %v", nl.id, time.Since(start).Round(time.Millisecond))
	if nl == old {
		t.Fatal("dead node still leader")
	}

	var other *testNode
	for _, tn := range c.followers(nl) {
		other = tn
	}
	st := other.node.Status(context.Background())
	for _, ns := range st.Nodes {
		if ns.ID == old.id && (ns.Status != "unreachable" || ns.LastContact != "") {
			t.Fatalf("dead node shown as %+v", ns)
		}
	}

	idx2 := other.mustWrite("after.example.")
	if idx2 <= idx {
		t.Fatalf("index went backwards: %d after %d", idx2, idx)
	}

	// Restart the old leader on its data dir, with a Join list (n1 had
	// none: give it the new leader's address so the join loop runs).
	old.cfg.Join = []string{other.node.Addr()}
	old.boot()
	converged(t, 10*time.Second, idx2, "after.example.", c.nodes...)
	if !old.hasZone("before.example.") {
		t.Fatal("restarted node lost its state")
	}
	waitFor(t, 10*time.Second, "the restarted node's join to succeed", old.node.joined.Load)
	c.leader(5 * time.Second)

	servers, err := nl.node.configuration()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range servers {
		if seen[string(s.ID)] {
			t.Fatalf("duplicate entry for %s: %v", s.ID, servers)
		}
		seen[string(s.ID)] = true
	}
	if len(servers) != 3 {
		t.Fatalf("configuration %v", servers)
	}
	if after := nl.node.raft.Stats()["latest_configuration_index"]; after != before {
		t.Fatalf("rejoin changed the configuration: index %s → %s", before, after)
	}
	// Writes work through the restarted node too.
	old.mustWrite("rejoined.example.")
}

// Invariant: with two of three nodes stopped, the survivor refuses writes
// with NO_QUORUM in well under two seconds (never acknowledging one it
// could not commit), reports read-only, and refuses leader reads.
func TestMinorityRefusesWrites(t *testing.T) {
	for _, survivorWasLeader := range []bool{true, false} {
		name := "survivor-was-follower"
		if survivorWasLeader {
			name = "survivor-was-leader"
		}
		t.Run(name, func(t *testing.T) {
			c := startThree(t)
			l := c.leader(5 * time.Second)
			l.mustWrite("before.example.")
			survivor := l
			if !survivorWasLeader {
				survivor = c.followers(l)[0]
			}
			for _, tn := range c.nodes {
				if tn != survivor {
					tn.kill()
				}
			}
			killed := time.Now()
			applied := survivor.fsm.AppliedIndex()

			start := time.Now()
			_, err := survivor.write(createZone(t, "lost.example."))
			took := time.Since(start)
			t.Logf("write on the minority failed after %v: %v", took.Round(time.Millisecond), err)
			if !errors.Is(err, ErrNoQuorum) || zone.CodeOf(err) != "NO_QUORUM" {
				t.Fatalf("got %v, want NO_QUORUM", err)
			}
			if took >= 2*time.Second {
				t.Fatalf("refusing the write took %v", took)
			}
			if survivor.hasZone("lost.example.") {
				t.Fatal("uncommitted write applied")
			}
			waitFor(t, 2*time.Second, "read-only status", func() bool {
				return survivor.node.Status(context.Background()).ReadOnly
			})
			t.Logf("read-only by %v after the majority stopped", time.Since(killed).Round(time.Millisecond))
			st := survivor.node.Status(context.Background())
			if st.Leader != "" || st.IsLeader {
				t.Fatalf("status on the minority: %+v", st)
			}

			start = time.Now()
			_, err = survivor.write(createZone(t, "lost2.example."))
			if !errors.Is(err, ErrNoQuorum) || time.Since(start) >= 2*time.Second {
				t.Fatalf("second write: %v after %v", err, time.Since(start))
			}
			if err := survivor.node.ReadBarrier(context.Background(), Leader); !errors.Is(err, ErrNoQuorum) {
				t.Fatalf("leader read on the minority: %v", err)
			}
			if err := survivor.node.ReadBarrier(context.Background(), Stale); err != nil {
				t.Fatalf("stale read on the minority: %v", err)
			}
			if survivor.fsm.AppliedIndex() != applied {
				t.Fatalf("applied index moved on the minority: %d → %d", applied, survivor.fsm.AppliedIndex())
			}
		})
	}
}

// Invariant: Remove of an unknown id is NOT_FOUND; Leave takes a follower
// out; Remove of the leader (asked through a follower) moves leadership
// first and then removes it; the remaining node keeps serving writes.
func TestRemoveAndLeave(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	fs := c.followers(l)
	ctx := context.Background()

	err := fs[0].node.Remove(ctx, "nope")
	if !errors.Is(err, ErrNotFound) || zone.CodeOf(err) != "NOT_FOUND" {
		t.Fatalf("remove unknown (via follower): %v", err)
	}
	if err := l.node.Remove(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove unknown (on leader): %v", err)
	}

	leaver := fs[1]
	if err := leaver.node.Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	waitFor(t, 5*time.Second, "two voters", func() bool { return voters(t, l.node) == 2 })
	if err := leaver.node.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.leader(5*time.Second, l, fs[0])

	start := time.Now()
	if err := fs[0].node.Remove(ctx, l.id); err != nil {
		t.Fatalf("remove the leader: %v", err)
	}
	t.Logf("removing the leader (transfer + remove) took %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, 5*time.Second, "one voter", func() bool { return voters(t, fs[0].node) == 1 })
	c.leader(5*time.Second, fs[0])
	fs[0].mustWrite("alone.example.")

	if err := fs[0].node.Leave(ctx); zone.CodeOf(err) != "INVALID_REQUEST" {
		t.Fatalf("last member leaving: %v", err)
	}
}

// Invariant: a graceful Shutdown of the leader hands leadership over before
// stopping, so another node leads (and takes writes) without waiting out an
// election timeout.
func TestGracefulShutdownTransfersLeadership(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	idx := l.mustWrite("example.com.")

	start := time.Now()
	if err := l.node.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	nl := c.leader(5 * time.Second)
	t.Logf("graceful leader shutdown: Shutdown took %v, new leader %s after %v",
		took.Round(time.Millisecond), nl.id, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(c.logs.String(), "leadership transferred before shutdown") {
		t.Fatal("shutdown did not transfer leadership")
	}
	if err := l.node.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	idx2 := nl.mustWrite("example.net.")
	if idx2 <= idx {
		t.Fatalf("index %d after %d", idx2, idx)
	}
}

// Invariant: a whole cluster stopped and restarted on the same data dirs
// (no bootstrap: existing state) elects a leader and keeps every committed
// write.
func TestWholeClusterRestart(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	var last uint64
	for _, name := range []string{"a.example.", "b.example.", "c.example."} {
		last = l.mustWrite(name)
	}
	converged(t, 5*time.Second, last, "c.example.", c.nodes...)
	for _, tn := range c.nodes {
		if err := tn.node.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tn := range c.nodes {
		tn.boot()
	}
	start := time.Now()
	nl := c.leader(10 * time.Second)
	t.Logf("whole-cluster restart: leader %s after %v", nl.id, time.Since(start).Round(time.Millisecond))
	converged(t, 10*time.Second, last, "c.example.", c.nodes...)
	for _, tn := range c.nodes {
		for _, name := range []string{"a.example.", "b.example."} {
			if !tn.hasZone(name) {
				t.Fatalf("%s lost %s", tn.id, name)
			}
		}
		if v := voters(t, tn.node); v != 3 {
			t.Fatalf("%s sees %d voters", tn.id, v)
		}
	}
	if idx := nl.mustWrite("d.example."); idx <= last {
		t.Fatalf("index %d after %d", idx, last)
	}
}

// Invariant: unusable data dirs, a locked raft.db, bad addresses and bad
// timings are refused with errors that name the culprit.
func TestNewErrors(t *testing.T) {
	logger, _ := testLogger(t)
	base := func(dir string) Config {
		return Config{NodeID: "x", DataDir: dir, Listen: "127.0.0.1:0", Logger: logger}
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	under := filepath.Join(file, "data")
	if _, err := New(base(under), fsm.New(nil)); err == nil || !strings.Contains(err.Error(), under) {
		t.Fatalf("data dir under a file: %v", err)
	}

	dir := t.TempDir()
	n, err := New(base(dir), fsm.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killNode(n) })
	if _, err := New(base(dir), fsm.New(nil)); err == nil || !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second node on a data dir in use: %v", err)
	}

	cfg := base(t.TempDir())
	cfg.Listen = n.Addr()
	if _, err := New(cfg, fsm.New(nil)); err == nil || !strings.Contains(err.Error(), n.Addr()) {
		t.Fatalf("busy port: %v", err)
	}
	reuse := t.TempDir()
	cfg = base(reuse)
	cfg.ElectionTimeout = time.Millisecond
	if _, err := New(cfg, fsm.New(nil)); err == nil || !strings.Contains(err.Error(), "timings") {
		t.Fatalf("bad timings: %v", err)
	}
	cfg = base(t.TempDir())
	cfg.NodeID = ""
	if _, err := New(cfg, fsm.New(nil)); err == nil {
		t.Fatal("empty node id accepted")
	}
	// A failed New releases the data dir (raft.db is not left locked).
	n2, err := New(base(reuse), fsm.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	killNode(n2)
}

// Invariant: Leave on the leader hands leadership to another voter first,
// then the new leader removes the old one; the two left keep taking writes.
func TestLeaderLeave(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	start := time.Now()
	if err := l.node.Leave(context.Background()); err != nil {
		t.Fatalf("leader leave: %v", err)
	}
	t.Logf("leader leave (transfer + remove) took %v", time.Since(start).Round(time.Millisecond))
	rest := c.followers(l)
	nl := c.leader(5*time.Second, rest...)
	waitFor(t, 5*time.Second, "two voters", func() bool { return voters(t, nl.node) == 2 })
	if err := l.node.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	idx := rest[0].mustWrite("after-leave.example.")
	converged(t, 5*time.Second, idx, "after-leave.example.", rest...)
}

// Invariant: a member that comes back under the same id at a new address
// is re-added at the new address (one entry for the id, no stale one), and
// catches up.
func TestRejoinWithNewAddress(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	f := c.followers(l)[0]
	oldAddr := f.node.Addr()
	f.kill()
	idx := l.mustWrite("while-away.example.")

	f.cfg.Listen = "127.0.0.1:0"
	f.cfg.Join = []string{l.node.Addr()}
	f.boot()
	if f.node.Addr() == oldAddr {
		t.Fatal("the kernel gave the same port back; the test needs a new address")
	}
	waitFor(t, 10*time.Second, "the join at the new address", f.node.joined.Load)
	servers, err := l.node.configuration()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range servers {
		if string(s.ID) == f.id {
			n++
			if string(s.Address) != f.node.Addr() {
				t.Fatalf("%s still at %s", f.id, s.Address)
			}
		}
	}
	if n != 1 || len(servers) != 3 {
		t.Fatalf("configuration %v", servers)
	}
	converged(t, 10*time.Second, idx, "while-away.example.", c.nodes...)
	f.mustWrite("from-new-address.example.")
}

// Invariant: a leader that stops working but keeps its port open (a frozen
// process: connections are accepted, nothing answers) does not hold a
// write sent through a follower past about a second: the follower abandons
// the forwarded request once it stops seeing that leader, and answers
// NO_QUORUM (outcome unknown) or, if a new leader took the write, success.
func TestFrozenLeaderDoesNotHoldWrites(t *testing.T) {
	c := startThree(t)
	l := c.leader(5 * time.Second)
	f := c.followers(l)[0]
	f.mustWrite("before.example.")

	// Freeze: stop raft on the leader but keep its RPC port answering
	// nothing.
	if err := l.node.raft.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	hang := func(ctx context.Context, _ json.RawMessage) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	l.node.mux.Handle(methodApply, hang)
	l.node.mux.Handle(methodReadIndex, hang)

	start := time.Now()
	_, err := f.write(createZone(t, "during.example."))
	took := time.Since(start)
	t.Logf("write through a follower of a frozen leader: %v after %v", err, took.Round(time.Millisecond))
	if err != nil && !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("got %v, want success or NO_QUORUM", err)
	}
	if took >= 2*time.Second {
		t.Fatalf("the write was held %v", took)
	}

	// Reads are idempotent: they go on to the new leader.
	nl := c.leader(5*time.Second, c.followers(l)...)
	if err := f.node.ReadBarrier(context.Background(), Linearizable); err != nil {
		t.Fatalf("read after failover: %v", err)
	}
	nl.mustWrite("after.example.")
}
