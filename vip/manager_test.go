package vip

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/resolvx/resolvx/internal/testwait"
)

// fakeGate answers what the test sets; a blocked gate (a frozen leader)
// holds MayHoldVIP until unblocked.
type fakeGate struct {
	mu      sync.Mutex
	allow   bool
	calls   int
	delay   time.Duration
	blocked chan struct{} // non-nil: MayHoldVIP waits until it is closed
	events  chan bool
}

func newFakeGate() *fakeGate { return &fakeGate{events: make(chan bool, 16)} }

func (g *fakeGate) MayHoldVIP(ctx context.Context) bool {
	g.mu.Lock()
	g.calls++
	blocked, delay := g.blocked, g.delay
	g.mu.Unlock()
	if blocked != nil {
		select {
		case <-blocked:
		case <-ctx.Done():
			return false
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.allow
}

func (g *fakeGate) LeaderEvents() <-chan bool { return g.events }

func (g *fakeGate) set(allow bool) {
	g.mu.Lock()
	g.allow = allow
	g.mu.Unlock()
}

func (g *fakeGate) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

// fakeBackend records what the Manager did.
type fakeBackend struct {
	mu       sync.Mutex
	present  bool
	installs []time.Time
	removes  []time.Time
	announce []time.Time
	first    string // the first operation
}

func (b *fakeBackend) Install(context.Context, time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == "" {
		b.first = "install"
	}
	b.present = true
	b.installs = append(b.installs, time.Now())
	return nil
}

func (b *fakeBackend) Remove(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == "" {
		b.first = "remove"
	}
	b.present = false
	b.removes = append(b.removes, time.Now())
	return nil
}

func (b *fakeBackend) Announce(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.announce = append(b.announce, time.Now())
	return nil
}

func (b *fakeBackend) snapshot() (present bool, installs, removes, announces int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.present, len(b.installs), len(b.removes), len(b.announce)
}

// timings for the fake tests: a 1 s lifetime (the minimum), with the
// reconcile sped up so tests take milliseconds.
func fastManager(t *testing.T, g Gate, be backend, mutate func(*Config)) *Manager {
	t.Helper()
	cfg := Config{Address: netip.MustParsePrefix("10.213.0.100/24"), Interface: "va", AnnounceInterval: 200 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	m := newManager(cfg.withDefaults(), g, be)
	m.refreshEvery = 20 * time.Millisecond
	m.claimPoll = 5 * time.Millisecond
	m.minRefreshGap = 10 * time.Millisecond
	m.burstSpacing = 10 * time.Millisecond
	return m
}

// run starts m.Run and stops it at the end of the test.
func run(t *testing.T, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// holdsFor checks that cond holds throughout d (polled every millisecond).
func holdsFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(end) {
		if !cond() {
			t.Fatalf("%s: stopped holding", what)
		}
		<-tick.C
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, timeout, what, cond)
}

// Invariant: a left-over VIP is removed before anything else, and nothing
// is installed while the gate says no, however often it is asked.
func TestNoClaimUntilTheGateAllows(t *testing.T) {
	g, be := newFakeGate(), &fakeBackend{present: true}
	m := fastManager(t, g, be, nil)
	run(t, m)
	g.events <- true // leading, but not yet allowed (the lease wait)
	waitFor(t, 2*time.Second, "20 gate calls", func() bool { return g.callCount() >= 20 })
	present, installs, removes, _ := be.snapshot()
	if present || installs != 0 || removes != 1 || be.first != "remove" || m.Holding() {
		t.Fatalf("before the gate allowed: present=%v installs=%d removes=%d first=%q holding=%v", present, installs, removes, be.first, m.Holding())
	}
	g.set(true)
	waitFor(t, time.Second, "the claim", m.Holding)
	if present, _, _, _ := be.snapshot(); !present {
		t.Fatal("holding, but the address is not installed")
	}
}

// Invariant: when this node stops leading the VIP goes at once — driven by
// the event, not by the next timer — and when the gate turns false
// without an event (quorum lost) it goes at the next reconcile.
func TestRemovedAtOnceWhenTheGateSaysNo(t *testing.T) {
	g, be := newFakeGate(), &fakeBackend{}
	m := fastManager(t, g, be, nil)
	m.refreshEvery = 10 * time.Second // only events can wake the loop quickly
	m.claimPoll = 10 * time.Second
	g.set(true)
	run(t, m)
	waitFor(t, time.Second, "the claim", m.Holding)

	g.set(false)
	start := time.Now()
	g.events <- false
	waitFor(t, time.Second, "the removal", func() bool { p, _, _, _ := be.snapshot(); return !p })
	if d := time.Since(start); d > 100*time.Millisecond || m.Holding() {
		t.Fatalf("removal took %s after step-down (holding %v)", d, m.Holding())
	}

	// Quorum lost without a leadership event: the next reconcile removes.
	m2 := fastManager(t, g, &fakeBackend{}, nil)
	be2 := m2.be.(*fakeBackend)
	g.set(true)
	run(t, m2)
	waitFor(t, time.Second, "the claim", m2.Holding)
	g.set(false)
	waitFor(t, time.Second, "the removal on quorum loss", func() bool { p, _, _, _ := be2.snapshot(); return !p })
}

// Invariant: operations are idempotent — repeated leadership events claim
// once, Release twice is fine, and after Release nothing is installed even
// when the gate allows it.
func TestIdempotentAndReleaseIsFinal(t *testing.T) {
	g, be := newFakeGate(), &fakeBackend{}
	m := fastManager(t, g, be, nil)
	g.set(true)
	run(t, m)
	for range 10 {
		g.events <- true
	}
	waitFor(t, time.Second, "the claim", m.Holding)
	waitFor(t, time.Second, "the claim burst", func() bool { _, _, _, a := be.snapshot(); return a >= DefaultGratuitousARPCount })
	for range 2 {
		if err := m.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, installs, _, _ := be.snapshot()
	calls := g.callCount()
	g.events <- true
	holdsFor(t, 150*time.Millisecond, "nothing installed after Release", func() bool {
		present, after, _, _ := be.snapshot()
		return !present && after == installs && !m.Holding() && g.callCount() == calls
	})
}

// Invariant: the refresh cadence is bounded: a storm of leadership events
// does not refresh more often than minRefreshGap, and the timer refreshes
// about every refreshEvery.
func TestRefreshCadenceBounded(t *testing.T) {
	g, be := newFakeGate(), &fakeBackend{}
	m := fastManager(t, g, be, nil)
	g.set(true)
	run(t, m)
	waitFor(t, time.Second, "the claim", m.Holding)
	start := time.Now()
	stop := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(stop) {
		select {
		case g.events <- true:
		default:
		}
	}
	elapsed := time.Since(start)
	be.mu.Lock()
	var n int
	var prev time.Time
	for _, at := range be.installs {
		if at.After(start) && at.Before(start.Add(elapsed)) {
			n++
			if !prev.IsZero() && at.Sub(prev) < m.minRefreshGap {
				t.Errorf("two refreshes %s apart (gap limit %s)", at.Sub(prev), m.minRefreshGap)
			}
			prev = at
		}
	}
	be.mu.Unlock()
	if limit := int(elapsed/m.minRefreshGap) + 1; n > limit {
		t.Fatalf("%d refreshes in %s with an event storm; limit %d", n, elapsed, limit)
	}
	if want := int(elapsed / m.refreshEvery / 2); n < want {
		t.Fatalf("%d refreshes in %s; want at least %d (every %s)", n, elapsed, want, m.refreshEvery)
	}
}

// Invariant: announcements go out only on a claim (GratuitousARPCount of
// them, BurstSpacing apart) and then once per AnnounceInterval; none with
// NoAnnounce.
func TestAnnouncementsOnClaimAndLowRate(t *testing.T) {
	g, be := newFakeGate(), &fakeBackend{}
	m := fastManager(t, g, be, nil)
	g.set(true)
	run(t, m)
	waitFor(t, time.Second, "the claim", m.Holding)
	be.mu.Lock()
	claimed := be.installs[0]
	be.mu.Unlock()
	window := 3*m.cfg.AnnounceInterval + m.cfg.AnnounceInterval/2
	waitFor(t, 5*time.Second, "three repeat intervals", func() bool { return time.Since(claimed) > window })
	be.mu.Lock()
	ann := append([]time.Time(nil), be.announce...)
	be.mu.Unlock()
	var burst, repeats int
	for _, at := range ann {
		if at.Sub(claimed) < m.cfg.AnnounceInterval/2 {
			burst++
		} else if at.Sub(claimed) <= window {
			repeats++
		}
	}
	if burst != m.cfg.GratuitousARPCount || repeats < 2 || repeats > 4 {
		t.Fatalf("claim burst %d (want %d), repeats %d in %s (want about 3): %v", burst, m.cfg.GratuitousARPCount, repeats, window, ann)
	}

	g2, be2 := newFakeGate(), &fakeBackend{}
	quiet := fastManager(t, g2, be2, func(c *Config) { c.NoAnnounce = true })
	g2.set(true)
	run(t, quiet)
	waitFor(t, time.Second, "the quiet claim", quiet.Holding)
	waitFor(t, time.Second, "a few refreshes", func() bool { _, i, _, _ := be2.snapshot(); return i >= 10 })
	if _, _, _, a := be2.snapshot(); a != 0 {
		t.Fatalf("NoAnnounce sent %d announcements", a)
	}
}

// Invariant: a decision the gate made before a step-down (or a Drop) is
// never acted upon, and a gate answer older than MaxDecisionAge is not
// either — the refresh's safety bound starts when the gate is asked.
func TestStaleDecisionsAreDropped(t *testing.T) {
	g, be := newFakeGate(), &fakeBackend{}
	m := fastManager(t, g, be, nil)
	g.set(true)
	g.blocked = make(chan struct{})
	run(t, m)
	waitFor(t, time.Second, "a gate call in flight", func() bool { return g.callCount() >= 1 })
	g.events <- false
	waitFor(t, time.Second, "the step-down to be handled", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.gen >= 1
	})
	g.mu.Lock()
	calls := g.calls
	close(g.blocked)
	g.blocked = nil
	g.delay = 2 * MaxDecisionAge // every later answer is too old
	g.mu.Unlock()
	waitFor(t, 3*time.Second, "later gate calls", func() bool { return g.callCount() >= calls+3 })
	if _, installs, _, _ := be.snapshot(); installs != 0 || m.Holding() {
		t.Fatalf("installed %d times from stale decisions", installs)
	}
	g.mu.Lock()
	g.delay = 0
	g.mu.Unlock()
	waitFor(t, time.Second, "the claim once answers are fresh", m.Holding)
}

// Invariant: the configuration's defaults and bounds.
func TestConfigDefaultsAndBound(t *testing.T) {
	for _, tc := range []struct {
		lease, lifetime time.Duration
	}{{0, time.Second}, {300 * time.Millisecond, time.Second}, {time.Second, time.Second}, {1500 * time.Millisecond, 2 * time.Second}} {
		c := Config{Lease: tc.lease}
		if got := c.Lifetime(); got != tc.lifetime {
			t.Errorf("lease %s: lifetime %s, want %s", tc.lease, got, tc.lifetime)
		}
		if got := c.ExpiryBound(); got != tc.lifetime+ExpirySlack+MaxDecisionAge {
			t.Errorf("lease %s: bound %s", tc.lease, got)
		}
	}
	d := Config{}.withDefaults()
	if d.GratuitousARPCount != 3 || d.AnnounceInterval != 5*time.Second || d.NoAnnounce {
		t.Fatalf("defaults: %+v", d)
	}
	for _, bad := range []Config{
		{Interface: "eth0"},
		{Address: netip.MustParsePrefix("10.0.0.1/24")},
		{Address: netip.MustParsePrefix("224.0.0.1/32"), Interface: "eth0"},
		{Address: netip.MustParsePrefix("::ffff:10.0.0.1/128"), Interface: "eth0"},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if _, err := NewManager(Config{Address: netip.MustParsePrefix("10.0.0.1/24"), Interface: "eth0"}, nil); err == nil {
		t.Error("NewManager without a gate: no error")
	}
}
