package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestPartition cuts the segment with nftables inside the node namespaces:
// 1|2 on three nodes and 2|3 on five, the old leader on the minority side.
//
// Invariants:
//   - minority: a write issued right after the cut is refused with 503
//     NO_QUORUM within a second, as is every later one; cluster status
//     (API and CLI) shows read_only; its DNS keeps answering on the node's
//     own address; no write that started after the cut is acknowledged by
//     it; it does not hold the VIP;
//   - majority: elects a leader, which holds the VIP (the client's answers
//     at the VIP resume) and accepts writes;
//   - after healing, every node applies the same index within 5 s and
//     every acknowledged write (before, during, after the cut, through
//     any node) is on every node, in its state and in its DNS answers;
//   - the VIP sampler never sees two holders.
func TestPartition(t *testing.T) {
	for _, tc := range []struct{ nodes, minority int }{{3, 1}, {5, 2}} {
		t.Run(fmt.Sprintf("%d-nodes-%d|%d", tc.nodes, tc.minority, tc.nodes-tc.minority), func(t *testing.T) {
			partitionScenario(t, tc.nodes, tc.minority)
		})
	}
}

// refusalSlack is what the lab allows beyond one second for a refusal to
// travel back over HTTP on a loaded two-core host.
const refusalSlack = 100 * time.Millisecond

func partitionScenario(t *testing.T, size, minoritySize int) {
	requireVIP(t)
	l := newLab(t, labOptions{nodes: size, vip: true})
	name := fmt.Sprintf("partition %d|%d", minoritySize, size-minoritySize)
	p := startProber(t, l, 20*time.Millisecond, 50*time.Millisecond)

	oldLeader := l.waitLeader(10*time.Second, l.nodes, nil)
	minority := []*Node{oldLeader}
	for _, n := range l.others(oldLeader) {
		if len(minority) == minoritySize {
			break
		}
		minority = append(minority, n)
	}
	majority := l.others(minority...)

	w := l.startWriters(t, l.nodes, 20*time.Millisecond)
	eventually(t, 10*time.Second, "writes acknowledged through every node before the cut", func() (bool, string) {
		per := map[string]int{}
		for _, r := range ackedWrites(w.snapshot()) {
			per[r.node]++
		}
		return len(per) == size, writeSummary(w.snapshot())
	})

	cut := l.partition(minority, majority)

	// Timed at once from the cut: the minority turns read-only, the
	// majority agrees on a new leader.
	var roWatches []<-chan time.Time
	for _, n := range minority {
		roWatches = append(roWatches, watch(10*time.Second, func() bool {
			s, err := n.status()
			return err == nil && s.ReadOnly
		}))
	}
	// The first majority node that says it leads (its own view, fast).
	elected := watch(15*time.Second, func() bool {
		for _, n := range majority {
			if role, err := n.localRole(); err == nil && role == "leader" {
				return true
			}
		}
		return false
	})

	// The minority refuses a write issued right after the cut, with
	// NO_QUORUM, within a second (plus refusalSlack for HTTP and a loaded
	// host); no write through it is ever acknowledged.
	firstWrites := make(chan writeResult, len(minority))
	for _, n := range minority {
		go func() { firstWrites <- n.createRecord("minority-"+n.id, "A", "203.0.113.1") }()
	}
	var worstRefusal, firstRefusal time.Duration
	for range minority {
		r := <-firstWrites
		firstRefusal = max(firstRefusal, r.duration)
		t.Logf("write through %s right after the cut: status %d %s after %v", r.node, r.status, r.code, r.duration.Round(time.Millisecond))
		if r.acked() {
			t.Errorf("INVARIANT BROKEN: minority node %s acknowledged a write issued after the cut (index %d)", r.node, r.index)
		}
		if r.status != http.StatusServiceUnavailable || r.code != "NO_QUORUM" {
			t.Errorf("minority write through %s: status %d code %q (%v), want 503 NO_QUORUM", r.node, r.status, r.code, r.err)
		}
		worstRefusal = max(worstRefusal, r.duration)
	}
	roAt := latest(roWatches)
	if roAt.IsZero() {
		t.Fatalf("the minority %s did not show read_only within 10 s of the cut", ids(minority))
	}
	readOnlyAfter := roAt.Sub(cut)
	var readOnlyRefusal time.Duration
	for _, n := range minority {
		out, err := n.cli("cluster", "status", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var s clusterStatus
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		if !s.ReadOnly {
			t.Errorf("resolvx cluster status on minority node %s: read_only false", n.id)
		}
		for _, m := range s.Nodes {
			if m.ID == n.id && m.VIPHeld != nil && *m.VIPHeld {
				t.Errorf("minority node %s says it holds the VIP", n.id)
			}
		}
		// Once read-only, a write is refused the same way.
		r := n.createRecord("minority2-"+n.id, "A", "203.0.113.2")
		if r.acked() || r.code != "NO_QUORUM" {
			t.Errorf("read-only %s: write got status %d %q (acked %v), want NO_QUORUM", n.id, r.status, r.code, r.acked())
		}
		worstRefusal = max(worstRefusal, r.duration)
		readOnlyRefusal = max(readOnlyRefusal, r.duration)
		// And its DNS keeps answering from what it has.
		got, err := l.queryA(n.ip, probeName)
		if err != nil || len(got) != 1 || got[0] != probeValue {
			t.Errorf("minority node %s DNS: %v %v, want %s", n.id, got, err, probeValue)
		}
	}
	if worstRefusal > time.Second+refusalSlack {
		t.Errorf("the minority took %v to refuse a write, want ≤ 1 s (+%v slack)", worstRefusal.Round(time.Millisecond), refusalSlack)
	}

	// The majority elects a leader that takes the VIP and accepts writes.
	elAt := <-elected
	if elAt.IsZero() {
		t.Fatalf("no node of the majority %s became leader within 15 s of the cut", ids(majority))
	}
	electedAfter := elAt.Sub(cut)
	newLeader := l.waitLeader(5*time.Second, majority, nil)
	l.waitVIPOn(newLeader, 10*time.Second)
	// The old leader let go of the VIP: at once on losing quorum, or at
	// the latest when its lease ran out.
	if last := l.sampler.lastHeldBy(oldLeader); last.After(cut) {
		t.Logf("the old leader %s held the VIP until %v after the cut", oldLeader.id, last.Sub(cut).Round(time.Millisecond))
		addFigure(name, "old leader's VIP last seen after cut", last.Sub(cut).Round(time.Millisecond).String(), "≤ 1.5s")
	}
	for _, n := range minority {
		if last := l.sampler.lastHeldBy(n); last.After(cut.Add(1500 * time.Millisecond)) {
			t.Errorf("minority node %s still held the VIP at %s, %v after the cut",
				n.id, last.Format("15:04:05.000"), last.Sub(cut).Round(time.Millisecond))
		}
	}
	at := p.answeredAfter(t, time.Now(), 5*time.Second)
	gap, _ := p.maxGap(cut, at)
	t.Logf("the client gets answers at the VIP again; longest gap %v", gap.Round(time.Millisecond))
	addFigure(name, "client gap at the VIP", gap.Round(time.Millisecond).String(), "")
	eventually(t, 10*time.Second, "writes acknowledged through every majority node", func() (bool, string) {
		per := map[string]int{}
		for _, r := range ackedWrites(w.snapshot()) {
			if r.start.After(cut) {
				per[r.node]++
			}
		}
		return len(per) == len(majority), writeSummary(w.snapshot())
	})

	w.close()
	results := w.snapshot()
	for _, r := range results {
		for _, n := range minority {
			if r.node == n.id && r.start.After(cut) && r.acked() {
				t.Errorf("INVARIANT BROKEN: minority node %s acknowledged %s (index %d) during the partition", n.id, r.name, r.index)
			}
		}
	}
	acked := ackedWrites(results)
	t.Logf("writes: %s", writeSummary(results))

	healed := l.heal()
	l.waitConverged(t, l.nodes, maxIndex(acked), 5*time.Second)
	converged := time.Since(healed)
	lost := l.checkAcked(t, acked, l.nodes)
	final := l.waitLeader(10*time.Second, l.nodes, nil)
	l.waitVIPOn(final, 10*time.Second)
	t.Logf("%s: minority refused writes within %v, read_only %v after the cut; majority leader %s elected %v after the cut; converged %v after healing; %d acknowledged writes all present on %d nodes",
		name, worstRefusal.Round(time.Millisecond), readOnlyAfter.Round(time.Millisecond), newLeader.id,
		electedAfter.Round(time.Millisecond), converged.Round(time.Millisecond), len(acked), size)
	addFigure(name, "minority refusal, write sent at the cut", firstRefusal.Round(time.Millisecond).String(), "≤ 1s")
	addFigure(name, "minority refusal, write to a read-only node", readOnlyRefusal.Round(time.Millisecond).String(), "≤ 1s")
	addFigure(name, "minority read_only after cut", readOnlyAfter.Round(time.Millisecond).String(), "")
	addFigure(name, "majority leader elected after cut", electedAfter.Round(time.Millisecond).String(), "")
	addFigure(name, "convergence after heal", converged.Round(time.Millisecond).String(), "≤ 5s")
	addFigure(name, "acknowledged writes lost", fmt.Sprintf("%d of %d", lost, len(acked)), "0")
}
