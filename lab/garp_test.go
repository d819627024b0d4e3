package lab

import (
	"testing"
	"time"
)

// TestGARP: after a leader's kill -9, the client's neighbour (ARP) entry
// for the VIP must point at the new leader's MAC right away, with the
// announcements on (default); the contrast run with announcements off
// (cluster.vip.announce: false) shows the entry left on the dead leader's
// MAC. Before the kill the entry is flushed and resolved again, so it is
// fresh (REACHABLE for 15–45 s): without an announcement nothing would
// move it for that long.
//
// Invariants: announce on — within 1 s of the VIP appearing on the new
// leader, the entry names the new leader's MAC and the client gets answers
// at the VIP; announce off — 1 s after the VIP appeared on the new leader
// the entry still names the old leader's MAC (the client's answers have
// not come back); in both runs the sampler never sees two holders.
func TestGARP(t *testing.T) {
	for _, announce := range []bool{true, false} {
		name := "announce-on"
		cfg := ""
		if !announce {
			name = "announce-off"
			cfg = "cluster:\n  vip:\n    announce: false\n"
		}
		t.Run(name, func(t *testing.T) {
			requireVIP(t)
			l := newLab(t, labOptions{nodes: 3, vip: true, config: cfg})
			p := startProber(t, l, 20*time.Millisecond, 50*time.Millisecond)
			old := l.waitLeader(10*time.Second, l.nodes, nil)
			l.waitVIPOn(old, 5*time.Second)

			// A fresh entry for the VIP, resolved to the current leader.
			if _, err := runCmd(5*time.Second, "ip", "-n", l.client, "neigh", "flush", "to", vipIP, "dev", ifName); err != nil {
				t.Fatal(err)
			}
			eventually(t, 5*time.Second, "the client's entry for the VIP resolved to "+old.id, func() (bool, string) {
				mac, state := l.clientNeigh()
				return mac == old.mac && state == "REACHABLE", mac + " " + state
			})
			p.answeredAfter(t, time.Now(), 5*time.Second)

			killed := old.kill()
			next := l.waitLeader(10*time.Second, l.others(old), []*Node{old})
			l.waitVIPOn(next, 5*time.Second)
			claimed := l.claimedAt(next, killed)
			t.Logf("kill -9 %s: %s holds the VIP %v after the kill", old.id, next.id, claimed.Sub(killed).Round(time.Millisecond))

			if announce {
				eventually(t, time.Until(claimed.Add(time.Second)), "the client's entry for the VIP names "+next.id+"'s MAC", func() (bool, string) {
					mac, state := l.clientNeigh()
					return mac == next.mac, mac + " " + state
				})
				moved := time.Since(claimed)
				answered := p.answeredAfter(t, killed, 5*time.Second)
				t.Logf("announce on: entry → %s (%s) ≤ %v after the VIP appeared on it; answers %v after the kill",
					next.id, next.mac, moved.Round(time.Millisecond), answered.Sub(killed).Round(time.Millisecond))
				addFigure("GARP, kill -9 (3 nodes)", "announce on: client ARP entry → new MAC", "≤ "+moved.Round(time.Millisecond).String()+" after claim", "right away")
				return
			}
			// Announcements off: watch the entry for a second after the claim.
			until := claimed.Add(time.Second)
			for time.Now().Before(until) {
				if mac, state := l.clientNeigh(); mac != old.mac {
					t.Fatalf("announce off: the client's entry moved to %s (%s) %v after the claim without an announcement; the contrast run shows nothing",
						mac, state, time.Since(claimed).Round(time.Millisecond))
				}
				time.Sleep(20 * time.Millisecond) // sampling rate, not a wait for state
			}
			mac, state := l.clientNeigh()
			_, answered := p.counts(claimed, until)
			t.Logf("announce off: 1 s after the VIP appeared on %s the client's entry still names %s's MAC %s (%s); %d answers at the VIP since the claim",
				next.id, old.id, mac, state, answered)
			if answered > 0 {
				t.Errorf("announce off: the client got %d answers at the VIP while its entry named the dead leader", answered)
			}
			stale := "≥ 1s (still old MAC)"
			if benchMode() {
				// How long the client stays cut off without announcements.
				back := p.answeredAfter(t, killed, 90*time.Second)
				stale = back.Sub(killed).Round(100*time.Millisecond).String() + " until answers"
			}
			addFigure("GARP, kill -9 (3 nodes)", "announce off: client stuck on dead MAC", stale, "contrast")
		})
	}
}
