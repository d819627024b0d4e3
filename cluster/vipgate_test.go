package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mayHold asks tn's gate with a test deadline.
func (tn *testNode) mayHold() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return tn.node.MayHoldVIP(ctx)
}

// holder plays tn's VIP manager: it asks the gate every 20 ms and remembers
// the start of the last call that said yes — the instant the safety bound
// counts from.
type holder struct {
	mu       sync.Mutex
	lastTrue time.Time
	stop     chan struct{}
	done     chan struct{}
}

func startHolder(tn *testNode) *holder {
	h := &holder{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			start := time.Now()
			if tn.mayHold() {
				h.mu.Lock()
				h.lastTrue = start
				h.mu.Unlock()
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	tn.t.Cleanup(h.close)
	return h
}

func (h *holder) last() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastTrue
}

func (h *holder) close() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
}

// firstTrue polls tn's gate every 5 ms and returns when it first said yes.
func firstTrue(t *testing.T, tn *testNode, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, timeout, tn.id+"'s gate to allow the VIP", func() bool {
		start := time.Now()
		if tn.mayHold() {
			at = start
			return true
		}
		return false
	})
	return at
}

func vipConfig(lease time.Duration) func(*Config) {
	return func(c *Config) {
		c.VIPLease = lease
		c.VIPAddress = "10.213.0.100/24"
	}
}

// Invariant: only the leader may hold the VIP, only once its wait is over;
// followers never; a node with the VIP disabled never.
func TestVIPGateOnlyOnTheLeader(t *testing.T) {
	c := startThreeWith(t, vipConfig(500*time.Millisecond))
	l := c.leader(5 * time.Second)
	firstTrue(t, l, 5*time.Second)
	for _, f := range c.followers(l) {
		if f.mayHold() {
			t.Fatalf("follower %s may hold the VIP", f.id)
		}
	}
	off := newTestCluster(t)
	solo := off.start("solo", t.TempDir(), "", false)
	off.leader(5*time.Second, solo)
	holdsFor(t, 300*time.Millisecond, "a node without a VIP lease refusing it", func() bool { return !solo.mayHold() })
}

// Invariant (the VIP lease): after the holder crashes, the new leader's
// gate allows the VIP only once VIPLease has passed since the start of the
// old holder's last allowed refresh — and, thanks to the quorum's contact
// bounds, not much later than that, whatever the election took.
// Printed: the claim delay after the crash.
func TestVIPGateWaitsOutTheLeaseAfterACrash(t *testing.T) {
	const lease = time.Second
	c := startThreeWith(t, vipConfig(lease))
	l := c.leader(5 * time.Second)
	h := startHolder(l)
	waitFor(t, 5*time.Second, "the first holder's claim", func() bool { return !h.last().IsZero() })
	killed := time.Now()
	l.kill()
	h.close()
	last := h.last()

	n := c.leader(5*time.Second, c.followers(l)...)
	claim := firstTrue(t, n, 5*time.Second)
	t.Logf("old holder's last allowed refresh %s before the crash; new leader %s claims %s after the crash",
		killed.Sub(last).Round(time.Millisecond), n.id, claim.Sub(killed).Round(time.Millisecond))
	if claim.Before(last.Add(lease)) {
		t.Fatalf("new leader claimed %s after the old holder's last refresh; the lease is %s", claim.Sub(last), lease)
	}
	if d := claim.Sub(killed); d > lease+400*time.Millisecond {
		t.Fatalf("claim %s after the crash: the quorum contact bound should allow it about %s after", d, lease)
	}
}

// Invariant: a graceful stop of the holder removes its VIP (BeforeTransfer)
// before the transfer, records vip.release, and the next leader claims at
// once instead of waiting out the lease. When the VIP cannot be removed
// there is no transfer and no release, and the next leader waits.
func TestVIPGateReleaseOnGracefulStop(t *testing.T) {
	const lease = 3 * time.Second
	var mu sync.Mutex
	var calls []string
	fail := atomic.Bool{}
	c := startThreeWith(t, func(cfg *Config) {
		vipConfig(lease)(cfg)
		id := cfg.NodeID
		cfg.BeforeTransfer = func(context.Context) error {
			mu.Lock()
			calls = append(calls, id)
			mu.Unlock()
			if fail.Load() {
				return errors.New("netlink says no")
			}
			return nil
		}
	})
	l := c.leader(5 * time.Second)
	firstTrue(t, l, 10*time.Second)
	stopped := time.Now()
	if err := l.node.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := c.leader(5*time.Second, c.followers(l)...)
	claim := firstTrue(t, n, 5*time.Second)
	t.Logf("graceful stop: %s claims %s after the old leader began to stop", n.id, claim.Sub(stopped).Round(time.Millisecond))
	if d := claim.Sub(stopped); d > lease/3 {
		t.Fatalf("new leader waited %s after a graceful stop (lease %s)", d, lease)
	}
	rel, ok := n.fsm.State().LastVIPRelease()
	if !ok || rel.NodeID != l.id || rel.Term+1 != n.node.raft.CurrentTerm() {
		t.Fatalf("release %+v %v (new term %d)", rel, ok, n.node.raft.CurrentTerm())
	}
	mu.Lock()
	if len(calls) != 1 || calls[0] != l.id {
		t.Fatalf("BeforeTransfer calls %v", calls)
	}
	mu.Unlock()

	// The VIP cannot be removed: no transfer, no release, and the next
	// leader waits for the lease. (The first leader comes back, so two of
	// three remain after the next stop.)
	l.boot()
	c.leader(10 * time.Second)
	n = c.leader(5 * time.Second)
	fail.Store(true)
	h := startHolder(n)
	waitFor(t, 5*time.Second, "the holder's refreshes", func() bool { return !h.last().IsZero() })
	term := n.node.raft.CurrentTerm()
	if err := n.node.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.close()
	last := h.last()
	m := c.leader(10*time.Second, c.live()...)
	claim = firstTrue(t, m, 10*time.Second)
	if claim.Before(last.Add(lease)) {
		t.Fatalf("claimed %s after the last refresh of a holder that could not remove its VIP (lease %s)", claim.Sub(last), lease)
	}
	if rel, _ := m.fsm.State().LastVIPRelease(); rel.Term == term {
		t.Fatalf("a release was recorded although the VIP could not be removed: %+v", rel)
	}
}

// Invariant: a leader that loses its quorum is refused the VIP within one
// quorum check (well before the leader lease steps it down, here 150 ms),
// not only when Raft steps it down. One check may still pass on a
// heartbeat reply that was in flight when the followers died: raft's
// VerifyLeader counts it.
func TestVIPGateRefusesWithoutQuorum(t *testing.T) {
	c := startThreeWith(t, vipConfig(300*time.Millisecond))
	l := c.leader(5 * time.Second)
	firstTrue(t, l, 5*time.Second)
	for _, f := range c.followers(l) {
		f.kill()
	}
	start := time.Now()
	for l.mayHold() {
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Fatalf("a leader without a quorum may still hold the VIP %s after losing it", d)
		}
	}
}

// Invariant: Status.VIP shows the address exactly while some member reports
// holding it, on every node; each node reports vip_held for itself.
func TestVIPStatus(t *testing.T) {
	var heldBy atomic.Value
	heldBy.Store("")
	c := startThreeWith(t, func(cfg *Config) {
		vipConfig(300 * time.Millisecond)(cfg)
		id := cfg.NodeID
		cfg.VIPHeld = func() bool { return heldBy.Load() == id }
	})
	l := c.leader(5 * time.Second)
	for _, tn := range c.nodes {
		if st := tn.node.Status(context.Background()); st.VIP != "" {
			t.Fatalf("%s reports VIP %q while nobody holds it", tn.id, st.VIP)
		}
	}
	heldBy.Store(l.id)
	for _, tn := range c.nodes {
		st := tn.node.Status(context.Background())
		if st.VIP != "10.213.0.100/24" {
			t.Fatalf("%s reports VIP %q", tn.id, st.VIP)
		}
		for _, ns := range st.Nodes {
			if ns.VIPHeld != (ns.ID == l.id) {
				t.Fatalf("%s sees %s vip_held=%v", tn.id, ns.ID, ns.VIPHeld)
			}
		}
	}
}

// Invariant: a member answers a leader's contact question only once its
// own term has reached the leader's (its answer is then final), and never
// while it leads itself.
func TestVIPContactAnswers(t *testing.T) {
	c := startThreeWith(t, vipConfig(300*time.Millisecond))
	l := c.leader(5 * time.Second)
	f := c.followers(l)[0]
	ask := func(tn *testNode, term uint64) vipContactResponse {
		raw, _ := json.Marshal(vipContactRequest{Term: term})
		resp, err := tn.node.handleVIPContact(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return resp.(vipContactResponse)
	}
	term := l.node.raft.CurrentTerm()
	if r := ask(f, term+1); r.Known {
		t.Fatalf("a follower in term %d answered for term %d: %+v", term, term+1, r)
	}
	if r := ask(l, term); r.Known {
		t.Fatalf("the leader answered: %+v", r)
	}
	waitFor(t, 5*time.Second, f.id+" in the leader's term", func() bool { return f.node.raft.CurrentTerm() >= term })
	r := ask(f, term)
	if !r.Known || r.AgeNS < 0 {
		t.Fatalf("follower's answer %+v", r)
	}
}

// Invariant: the contact log bounds every earlier term's contact, folds old
// terms into a floor (never earlier), and counts this node's own
// leadership in what it tells others.
func TestContactLog(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	c := newContactLog(t0)
	if got := c.lastBefore(5); !got.Equal(t0) {
		t.Fatalf("empty log: %v", got)
	}
	c.heard(2, at(10))
	c.heard(3, at(30))
	c.heard(3, at(20)) // out of order: the later one stays
	c.heard(5, at(50))
	if got := c.lastBefore(4); !got.Equal(at(30)) {
		t.Fatalf("before term 4: %v", got.Sub(t0))
	}
	if got := c.lastBefore(6); !got.Equal(at(50)) {
		t.Fatalf("before term 6: %v", got.Sub(t0))
	}
	c.becameLeader(6, at(60))
	if _, ok := c.boundFor(7); ok {
		t.Fatal("answered while leading")
	}
	if got := c.leaderSinceFor(6, at(99)); !got.Equal(at(60)) {
		t.Fatalf("leader since %v", got.Sub(t0))
	}
	c.steppedDown(at(70))
	if b, ok := c.boundFor(7); !ok || !b.Equal(at(70)) {
		t.Fatalf("bound after stepping down: %v %v", b.Sub(t0), ok)
	}
	for term := uint64(10); term < 10+2*contactTermsKept; term++ {
		c.heard(term, at(int(term)*10))
	}
	if len(c.terms) > contactTermsKept {
		t.Fatalf("%d terms kept", len(c.terms))
	}
	if got := c.lastBefore(12); got.Before(at(110)) {
		t.Fatalf("folding made a bound earlier: %v", got.Sub(t0))
	}
}

// holdsFor checks that cond holds throughout d (polled every 10 ms).
func holdsFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(end) {
		if !cond() {
			t.Fatalf("%s: stopped holding", what)
		}
		<-tick.C
	}
}

// Invariant: the quorum bound takes the best set of answers that meets
// every possible verify quorum — a majority of voters, more when nonvoters
// could acknowledge too — and nothing when too few answered.
func TestQuorumBound(t *testing.T) {
	t0 := time.Now()
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	for _, tc := range []struct {
		members, voters int
		bounds          []time.Time
		want            int // ms, -1 = none
	}{
		{1, 1, at(5), 5},
		{3, 3, at(50, 10), 50},
		{3, 3, at(50, 10, 30), 30},
		{3, 3, at(50), -1},
		{5, 5, at(40, 10, 30, 20), 30},
		{5, 5, at(40, 10), -1},
		{4, 3, at(40, 10, 30), 40}, // a nonvoter: three of four needed
	} {
		need := meetsEveryQuorum(tc.members, tc.voters)
		got, ok := quorumBound(tc.bounds, need)
		if tc.want < 0 {
			if ok {
				t.Errorf("%+v: got %v, want none", tc, got.Sub(t0))
			}
			continue
		}
		if !ok || !got.Equal(t0.Add(time.Duration(tc.want)*time.Millisecond)) {
			t.Errorf("%d members, %d voters, %d answers: got %v %v, want %dms", tc.members, tc.voters, len(tc.bounds), got.Sub(t0), ok, tc.want)
		}
	}
}
