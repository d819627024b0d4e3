package lab

import (
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Failover goals from the issue; the kill -9 test fails when they are
// missed, the figures are printed either way.
const (
	goalKillP50 = 1500 * time.Millisecond
	goalKillMax = 3 * time.Second
	goalTermGap = 300 * time.Millisecond
)

// TestFailoverKill: kill -9 of the leader, repeated (10 times in make test,
// 30 under RESOLVX_LAB_BENCH=1) on three nodes, the killed node restarted
// each time, while the client asks the VIP every 20 ms (50 ms timeout).
//
// Invariants: after every kill the client gets answers at the VIP again,
// from a new leader that holds the VIP alone; failover (kill → first
// answer) p50 ≤ 1.5 s and max ≤ 3 s; the VIP sampler never sees two
// holders.
func TestFailoverKill(t *testing.T) {
	requireVIP(t)
	l := newLab(t, labOptions{nodes: 3, vip: true})
	p := startProber(t, l, 20*time.Millisecond, 50*time.Millisecond)
	p.answeredAfter(t, time.Now(), 5*time.Second)

	n := reps(10, 30)
	var failovers, claims []time.Duration
	for i := range n {
		old := l.waitLeader(10*time.Second, l.nodes, nil)
		l.waitVIPOn(old, 5*time.Second)
		p.answeredAfter(t, time.Now(), 5*time.Second)

		killed := old.kill()
		answered := p.answeredAfter(t, killed, 10*time.Second)
		next := l.waitLeader(10*time.Second, l.others(old), []*Node{old})
		l.waitVIPOn(next, 5*time.Second)
		claim := l.claimedAt(next, killed).Sub(killed)
		failover := answered.Sub(killed)
		failovers = append(failovers, failover)
		claims = append(claims, claim)
		t.Logf("kill -9 #%d at %s: %s → %s, VIP on %s after %v, client answered after %v",
			i+1, killed.UTC().Format("15:04:05.000"), old.id, next.id, next.id, claim.Round(time.Millisecond), failover.Round(time.Millisecond))

		old.start()
		l.waitLeader(15*time.Second, l.nodes, nil)
	}
	p50, pmax := percentile(failovers, 50), percentile(failovers, 100)
	c50, cmax := percentile(claims, 50), percentile(claims, 100)
	t.Logf("kill -9 ×%d: failover p50 %v max %v; VIP claimed p50 %v max %v", n,
		p50.Round(time.Millisecond), pmax.Round(time.Millisecond), c50.Round(time.Millisecond), cmax.Round(time.Millisecond))
	name := fmt.Sprintf("leader kill -9 ×%d (3 nodes)", n)
	addFigure(name, "failover p50 (kill → answer at VIP)", p50.Round(time.Millisecond).String(), "≤ 1.5s")
	addFigure(name, "failover max", pmax.Round(time.Millisecond).String(), "≤ 3s")
	addFigure(name, "VIP on new leader p50 / max", c50.Round(time.Millisecond).String()+" / "+cmax.Round(time.Millisecond).String(), "")
	if p50 > goalKillP50 || pmax > goalKillMax {
		t.Errorf("failover p50 %v max %v misses the goal p50 ≤ %v, max ≤ %v", p50, pmax, goalKillP50, goalKillMax)
	}
}

// percentile is the nearest-rank percentile of ds (q in 1..100).
func percentile(ds []time.Duration, q int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := (q*len(s) + 99) / 100
	return s[max(k, 1)-1]
}

// TestFailoverStop: the leader is frozen with SIGSTOP for 5 s, then resumed
// with SIGCONT, while the client asks the VIP and writers write through the
// other nodes; writes sent to the frozen leader wait in its socket and are
// served the instant it resumes, when it may still believe it leads.
//
// Invariants: the kernel removes the frozen node's VIP by lease expiry (no
// process runs to remove it), within lease + 1 s; a new leader takes over
// and the client gets answers at the VIP again; after SIGCONT the resumed
// node steps down (the others keep their leader) and does not take the VIP
// back; every write it acknowledges (it may forward) is durable on every
// node: none is acknowledged and lost; the sampler never sees two holders.
func TestFailoverStop(t *testing.T) {
	requireVIP(t)
	l := newLab(t, labOptions{nodes: 3, vip: true})
	p := startProber(t, l, 20*time.Millisecond, 50*time.Millisecond)
	p.answeredAfter(t, time.Now(), 5*time.Second)
	old := l.waitLeader(10*time.Second, l.nodes, nil)
	l.waitVIPOn(old, 5*time.Second)
	rest := l.others(old)
	w := l.startWriters(t, rest, 20*time.Millisecond)

	stopped := old.signal(syscall.SIGSTOP)
	l.waitVIPOff(old, 3*time.Second)
	vipGone := time.Since(stopped)
	next := l.waitLeader(10*time.Second, rest, []*Node{old})
	l.waitVIPOn(next, 5*time.Second)
	answered := p.answeredAfter(t, stopped, 10*time.Second)
	t.Logf("SIGSTOP %s: its VIP expired after %v; %s leads and holds the VIP; client answered %v after the stop",
		old.id, vipGone.Round(time.Millisecond), next.id, answered.Sub(stopped).Round(time.Millisecond))

	// Writes queued at the frozen node: the kernel accepts the connections,
	// the requests wait in the socket until SIGCONT.
	var mu sync.Mutex
	var atResume []writeResult
	var wg sync.WaitGroup
	// The freeze lasts 5 s by definition of the scenario: these sleeps time
	// the fault, they do not wait for any state.
	resumeAt := stopped.Add(5 * time.Second)
	time.Sleep(time.Until(resumeAt.Add(-time.Second)))
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := old.createRecord(fmt.Sprintf("frozen%d", i), "A", fmt.Sprintf("203.0.113.%d", 10+i))
			mu.Lock()
			atResume = append(atResume, r)
			mu.Unlock()
		}()
	}
	time.Sleep(time.Until(resumeAt))
	resumed := old.signal(syscall.SIGCONT)
	r := old.createRecord("resumed", "A", "203.0.113.20")
	wg.Wait()
	atResume = append(atResume, r)
	for _, r := range atResume {
		t.Logf("write %s through the resumed %s: status %d %s index %d after %v", r.name, old.id, r.status, r.code, r.index, r.duration.Round(time.Millisecond))
	}

	// It steps down: everyone, itself included, names the new leader.
	final := l.waitLeader(10*time.Second, l.nodes, nil)
	if final == old {
		t.Errorf("the resumed %s leads again: it should have stepped down to the leader elected while it was frozen", old.id)
	}
	steppedDown := time.Since(resumed)
	if last := l.sampler.lastHeldBy(old); last.After(resumed) && final != old {
		t.Errorf("the resumed %s held the VIP again at %s, %v after SIGCONT", old.id, last.Format("15:04:05.000"), last.Sub(resumed))
	}
	l.waitVIPOn(final, 5*time.Second)

	w.close()
	all := append(w.snapshot(), atResume...)
	acked := ackedWrites(all)
	l.waitConverged(t, l.nodes, maxIndex(acked), 10*time.Second)
	lost := l.checkAcked(t, acked, l.nodes)
	t.Logf("writes: %s", writeSummary(all))
	addFigure("leader SIGSTOP 5s (3 nodes)", "frozen node's VIP gone (lease expiry)", vipGone.Round(time.Millisecond).String(), "≤ lease+1s")
	addFigure("leader SIGSTOP 5s (3 nodes)", "client answered after stop", answered.Sub(stopped).Round(time.Millisecond).String(), "")
	addFigure("leader SIGSTOP 5s (3 nodes)", "resumed node agrees on leader after", steppedDown.Round(time.Millisecond).String(), "")
	addFigure("leader SIGSTOP 5s (3 nodes)", "acknowledged writes lost", fmt.Sprintf("%d of %d", lost, len(acked)), "0")
}

// TestFailoverTerm: graceful stop (SIGTERM) of the leader, repeated (3
// times in make test, 10 under RESOLVX_LAB_BENCH=1), the node restarted
// each time, the client asking the VIP every 20 ms.
//
// Invariants: the leader hands over and exits; the new leader holds the
// VIP alone; the longest gap between two answers at the VIP around the
// stop is ≤ 300 ms (each run); the sampler never sees two holders.
func TestFailoverTerm(t *testing.T) {
	requireVIP(t)
	l := newLab(t, labOptions{nodes: 3, vip: true})
	p := startProber(t, l, 20*time.Millisecond, 50*time.Millisecond)
	p.answeredAfter(t, time.Now(), 5*time.Second)

	n := reps(3, 10)
	var gaps []time.Duration
	for i := range n {
		old := l.waitLeader(10*time.Second, l.nodes, nil)
		l.waitVIPOn(old, 5*time.Second)
		before := p.answeredAfter(t, time.Now(), 5*time.Second)
		termed := old.signal(syscall.SIGTERM)
		exited := time.Now()
		next := l.waitLeader(10*time.Second, l.others(old), []*Node{old})
		l.waitVIPOn(next, 5*time.Second)
		after := p.answeredAfter(t, time.Now(), 5*time.Second)
		gap, at := p.maxGap(before, after)
		gaps = append(gaps, gap)
		t.Logf("SIGTERM #%d: %s exited %v after the signal; %s holds the VIP; longest gap at the VIP %v (from %v after the signal)",
			i+1, old.id, exited.Sub(termed).Round(time.Millisecond), next.id, gap.Round(time.Millisecond), at.Sub(termed).Round(time.Millisecond))
		if gap > goalTermGap {
			t.Errorf("SIGTERM #%d: gap of %v in answers at the VIP, want ≤ %v", i+1, gap.Round(time.Millisecond), goalTermGap)
		}
		old.start()
		l.waitLeader(15*time.Second, l.nodes, nil)
	}
	name := fmt.Sprintf("leader SIGTERM ×%d (3 nodes)", n)
	addFigure(name, "gap in answers at VIP p50", percentile(gaps, 50).Round(time.Millisecond).String(), "")
	addFigure(name, "gap in answers at VIP max", percentile(gaps, 100).Round(time.Millisecond).String(), "≤ 300ms")
}
