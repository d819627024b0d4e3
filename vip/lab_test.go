package vip

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// requirePrivileged stops a test that needs root: it fails, loudly, unless
// RESOLVX_SKIP_PRIVILEGED=1 asks to skip it.
func requirePrivileged(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("ip"); err != nil {
			t.Fatalf("this test needs iproute2's ip command: %v", err)
		}
		return
	}
	if os.Getenv("RESOLVX_SKIP_PRIVILEGED") == "1" {
		t.Skip("needs root (network namespaces); skipped because RESOLVX_SKIP_PRIVILEGED=1")
	}
	t.Fatal("this test needs root to create network namespaces; run it as root, or set RESOLVX_SKIP_PRIVILEGED=1 to skip it")
}

// ipCmd runs ip with args and fails the test on error.
func ipCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// segment is two network namespaces joined by a veth pair and nothing
// else: "a" (the claimer, interface va) and "b" (a peer, interface vb).
// Addresses exist only inside them; both are deleted when the test ends,
// also when it fails.
type segment struct {
	a, b     string // namespace names
	nsA, nsB netns.NsHandle
	macA     string
}

// Lab addresses, used only inside the test's namespaces.
const (
	labA4   = "10.213.0.1/24"
	labB4   = "10.213.0.2/24"
	labVIP4 = "10.213.0.100/24"
	labA6   = "fd00:213::1/64"
	labB6   = "fd00:213::2/64"
	labVIP6 = "fd00:213::100/64"
	// fakeMAC is the "previous holder" a peer's neighbour entry points at.
	fakeMAC = "02:00:00:00:02:13"
)

func newSegment(t *testing.T) *segment {
	t.Helper()
	requirePrivileged(t)
	tag := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	s := &segment{a: "rvxvip-a-" + tag, b: "rvxvip-b-" + tag}
	for _, ns := range []string{s.a, s.b} {
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("deleting namespace %s: %v: %s", ns, err, out)
			}
		})
	}
	ipCmd(t, "-n", s.a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", s.b)
	for _, c := range [][]string{
		{"-n", s.a, "link", "set", "lo", "up"},
		{"-n", s.b, "link", "set", "lo", "up"},
		{"-n", s.a, "addr", "add", labA4, "dev", "va"},
		{"-n", s.b, "addr", "add", labB4, "dev", "vb"},
		{"-n", s.a, "addr", "add", labA6, "dev", "va", "nodad"},
		{"-n", s.b, "addr", "add", labB6, "dev", "vb", "nodad"},
		{"-n", s.a, "link", "set", "va", "up"},
		{"-n", s.b, "link", "set", "vb", "up"},
	} {
		ipCmd(t, c...)
	}
	var err error
	if s.nsA, err = netns.GetFromName(s.a); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.nsA.Close() })
	if s.nsB, err = netns.GetFromName(s.b); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.nsB.Close() })
	s.macA = linkMAC(t, s.a, "va")
	return s
}

// linkMAC reads an interface's MAC address in namespace ns.
func linkMAC(t *testing.T, ns, dev string) string {
	t.Helper()
	f := strings.Fields(ipCmd(t, "-n", ns, "-o", "link", "show", "dev", dev))
	for i := range f {
		if f[i] == "link/ether" && i+1 < len(f) {
			return f[i+1]
		}
	}
	t.Fatalf("no MAC address for %s in %s", dev, ns)
	return ""
}

// backendIn returns a system backend for address on va in namespace a.
func (s *segment) backendIn(t *testing.T, address string) (*systemBackend, Config) {
	t.Helper()
	cfg := Config{Address: netip.MustParsePrefix(address), Interface: "va"}.withDefaults()
	be, err := newSystemBackend(cfg, s.nsA)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Close)
	return be, cfg
}

// neighbour returns the MAC of b's neighbour entry for ip ("" if none).
func (s *segment) neighbour(t *testing.T, ip string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", s.b, "neigh", "show", ip, "dev", "vb").CombinedOutput()
	if err != nil {
		t.Fatalf("ip neigh show: %v: %s", err, out)
	}
	f := strings.Fields(string(bytes.TrimSpace(out)))
	for i := range f {
		if f[i] == "lladdr" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return ""
}

// pollUntil polls cond every 2ms until it holds (returning the time it
// first held) or the deadline passes.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// Invariant: an address installed with a lifetime and never refreshed
// disappears by itself about one lifetime later, within ExpirySlack —
// the bound the cluster's gate waits out before a new holder claims.
// Printed: each measured expiry, IPv4 and IPv6.
func TestKernelExpiresTheAddress(t *testing.T) {
	s := newSegment(t)
	for _, address := range []string{labVIP4, labVIP6} {
		be, cfg := s.backendIn(t, address)
		var got []time.Duration
		for range 4 {
			if err := be.Install(context.Background(), cfg.Lifetime()); err != nil {
				t.Fatal(err)
			}
			installed := time.Now()
			if ok, lft, err := be.present(); err != nil || !ok || lft != 1 {
				t.Fatalf("%s after install: present=%v valid_lft=%d err=%v", address, ok, lft, err)
			}
			gone := pollUntil(t, 3*time.Second, address+" to expire", func() bool {
				ok, _, err := be.present()
				if err != nil {
					t.Fatal(err)
				}
				return !ok
			})
			d := gone.Sub(installed)
			got = append(got, d.Round(time.Millisecond))
			if d < cfg.Lifetime()-50*time.Millisecond || d > cfg.Lifetime()+ExpirySlack+50*time.Millisecond {
				t.Errorf("%s expired %s after its install; want %s..%s", address, d, cfg.Lifetime()-50*time.Millisecond, cfg.Lifetime()+ExpirySlack)
			}
		}
		t.Logf("%s with valid_lft 1 expired after %v", address, got)
	}
}

// managerIn runs a Manager for address on va in namespace a, with the
// production timings, until the test ends.
func (s *segment) managerIn(t *testing.T, address string, g Gate, mutate func(*Config)) (*Manager, *systemBackend) {
	t.Helper()
	be, cfg := s.backendIn(t, address)
	if mutate != nil {
		mutate(&cfg)
	}
	m := newManager(cfg, g, be)
	run(t, m)
	return m, be
}

// Invariant: a peer's neighbour entry for the VIP, pointing at another MAC
// (a previous holder), moves to the claimer's MAC right after the claim
// when announcements are on, and stays on the old MAC when they are off.
// Printed: the time from the claim to the moved entry.
func TestAnnouncementMovesTheNeighbourEntry(t *testing.T) {
	s := newSegment(t)
	for _, address := range []string{labVIP4, labVIP6} {
		vip := netip.MustParsePrefix(address).Addr().String()
		ipCmd(t, "-n", s.b, "neigh", "replace", vip, "lladdr", fakeMAC, "dev", "vb", "nud", "stale")

		g := newFakeGate()
		g.set(true)
		quiet, _ := s.managerIn(t, address, g, func(c *Config) { c.NoAnnounce = true })
		pollUntil(t, 2*time.Second, "the quiet claim", quiet.Holding)
		holdsFor(t, 500*time.Millisecond, address+": the neighbour entry stays on the old MAC without announcements", func() bool {
			return s.neighbour(t, vip) == fakeMAC
		})
		if err := quiet.Release(context.Background()); err != nil {
			t.Fatal(err)
		}

		m, _ := s.managerIn(t, address, g, nil)
		claimed := pollUntil(t, 2*time.Second, "the claim", m.Holding)
		moved := pollUntil(t, 2*time.Second, address+": the neighbour entry moving to the claimer", func() bool {
			return s.neighbour(t, vip) == s.macA
		})
		t.Logf("%s: peer's neighbour entry moved from %s to %s %s after the claim", address, fakeMAC, s.macA, moved.Sub(claimed).Round(time.Millisecond))
		if err := m.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// Invariant: a holder that freezes (its gate call never returns, as under
// SIGSTOP) stops refreshing and the kernel removes the VIP about one
// lifetime after the last refresh; Release removes it at once.
// Printed: the time from the freeze to the address being gone.
func TestFrozenHolderLosesTheVIP(t *testing.T) {
	s := newSegment(t)
	g := newFakeGate()
	g.set(true)
	m, be := s.managerIn(t, labVIP4, g, nil)
	pollUntil(t, 2*time.Second, "the claim", m.Holding)
	present := func() bool {
		ok, _, err := be.present()
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !present() {
		t.Fatal("holding, but the address is not on va")
	}
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	g.mu.Lock()
	g.blocked = block
	g.mu.Unlock()
	frozen := time.Now()
	gone := pollUntil(t, 3*time.Second, "the kernel to remove the VIP", func() bool { return !present() })
	d := gone.Sub(frozen)
	t.Logf("VIP gone %s after the holder froze (lifetime %s, refresh every %s)", d.Round(time.Millisecond), m.lifetime, m.refreshEvery)
	if lo, hi := m.lifetime-m.refreshEvery-50*time.Millisecond, m.lifetime+ExpirySlack; d < lo || d > hi {
		t.Fatalf("gone after %s; want %s..%s", d, lo, hi)
	}

	g2 := newFakeGate()
	g2.set(true)
	m2, _ := s.managerIn(t, labVIP4, g2, nil)
	pollUntil(t, 2*time.Second, "the second claim", m2.Holding)
	if err := m2.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if present() {
		t.Fatal("the VIP is still on va after Release returned")
	}
}
