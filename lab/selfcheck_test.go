package lab

import (
	"fmt"
	"testing"
	"time"
)

// TestLabSelfCheck proves the lab's own instruments on a build-independent
// setup (nodes without --vip, the VIP added by hand): the prober gets
// answers only while some node holds the VIP; the sampler sees one holder,
// then two when the VIP is planted on a second node (so the invariant
// checker of the other scenarios can fail); an address added with a 1 s
// lifetime disappears by itself (what the VIP lease relies on); and the
// client's neighbour entry for the VIP names the holder's MAC.
func TestLabSelfCheck(t *testing.T) {
	l := newLab(t, labOptions{nodes: 3})
	s := newSampler(t, l)
	t.Cleanup(s.close)
	l.sampler = s
	p := startProber(t, l, 20*time.Millisecond, 50*time.Millisecond)
	n1, n2 := l.nodes[0], l.nodes[1]

	if h, err := s.holders(); err != nil || len(h) != 0 {
		t.Fatalf("holders before any VIP: %v %v", h, err)
	}
	l.ip("-n", n1.ns, "addr", "add", vipCIDR, "dev", ifName)
	added := time.Now()
	l.waitVIPOn(n1, 2*time.Second)
	// The client may have to retry ARP once (1 s) for an address that did
	// not exist when the prober started.
	p.answeredAfter(t, added, 3*time.Second)
	if mac, state := l.clientNeigh(); mac != n1.mac {
		t.Errorf("client's entry for the VIP: %s %s, want %s", mac, state, n1.mac)
	}

	l.ip("-n", n2.ns, "addr", "add", vipCIDR, "dev", ifName)
	eventually(t, 2*time.Second, "the sampling loop records two holders", func() (bool, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.violations) > 0, fmt.Sprintf("no violation recorded in %d samples", len(s.samples))
	})
	l.ip("-n", n2.ns, "addr", "del", vipCIDR, "dev", ifName)
	l.waitVIPOn(n1, 2*time.Second)
	s.mu.Lock()
	s.violations = nil // planted on purpose
	s.mu.Unlock()

	// With a 1 s lifetime the kernel removes n1's address by itself; then
	// the prober gets no answer any more.
	l.ip("-n", n1.ns, "addr", "change", vipCIDR, "dev", ifName, "valid_lft", "1", "preferred_lft", "1")
	leased := time.Now()
	l.waitVIPOff(n1, 3*time.Second)
	gone := time.Now()
	t.Logf("an address given valid_lft 1 disappeared by itself %v later", gone.Sub(leased).Round(time.Millisecond))
	if gone.Sub(leased) < 900*time.Millisecond {
		t.Errorf("the address went after %v, before its lifetime", gone.Sub(leased))
	}
	from := time.Now().Add(100 * time.Millisecond)
	eventually(t, 2*time.Second, "probes sent after the VIP expired", func() (bool, string) {
		sent, _ := p.counts(from, time.Now())
		return sent >= 5, fmt.Sprintf("%d probes", sent)
	})
	if sent, answered := p.counts(from, time.Now()); answered != 0 {
		t.Errorf("after the VIP expired: %d of %d probes answered, want none", answered, sent)
	}
}

// ipv4In lists the IPv4 addresses on the namespace's eth0.
func ipv4In(ns string) ([]string, error) {
	var out []string
	err := inNetns(ns, func() error {
		ips, err := ifaceIPv4(ifName)
		for _, ip := range ips {
			out = append(out, ip.String())
		}
		return err
	})
	return out, err
}
