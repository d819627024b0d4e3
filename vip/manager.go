package vip

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vishvananda/netns"
)

// backend is what the Manager does to the host: one address on one
// interface. The system implementation uses netlink, ARP and NDP; tests use
// a fake.
type backend interface {
	// Install adds the address, or refreshes it, with the given kernel
	// lifetime (whole seconds).
	Install(ctx context.Context, lifetime time.Duration) error
	// Remove deletes the address; an address that is not there is not an
	// error.
	Remove(ctx context.Context) error
	// Announce sends one gratuitous ARP (IPv4) or unsolicited neighbour
	// advertisement (IPv6) for the address.
	Announce(ctx context.Context) error
}

// removeTimeout bounds the removal when Run ends.
const removeTimeout = time.Second

// Manager keeps the VIP on this host exactly while its Gate allows it.
type Manager struct {
	cfg    Config
	gate   Gate
	be     backend
	logger *slog.Logger

	lifetime time.Duration
	// refreshEvery paces the reconcile (and so the refresh) while holding
	// or following: a quarter of the lifetime.
	refreshEvery time.Duration
	// claimPoll paces the reconcile while this node leads without holding
	// the VIP: the gate turns true when the previous holder's lease has run
	// out, and the claim should follow within a few tens of milliseconds.
	claimPoll time.Duration
	// minRefreshGap: a burst of leadership events does not refresh more
	// often than this.
	minRefreshGap time.Duration
	burstSpacing  time.Duration
	maxDecision   time.Duration

	kick chan struct{} // wakes the reconcile loop (capacity 1)

	mu           sync.Mutex
	held         bool      // installed by us and not removed since
	maybePresent bool      // the address may be on the interface (unknown at start)
	lastInstall  time.Time // end of the last successful install
	released     bool      // Release was called: never claim again
	gen          uint64    // bumped by every forced removal; stale decisions are dropped
	leading      bool      // the last leadership event
	burstLeft    int       // claim announcements still to send
	nextAnnounce time.Time // when the next announcement is due (zero: none)
}

// NewManager checks cfg and prepares a Manager that drives the address
// through netlink in this process's network namespace. It changes nothing
// on the host until Run.
func NewManager(cfg Config, gate Gate) (*Manager, error) {
	if gate == nil {
		return nil, fmt.Errorf("%w: a gate is required", ErrConfig)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	be, err := newSystemBackend(cfg, netns.None())
	if err != nil {
		return nil, err
	}
	return newManager(cfg, gate, be), nil
}

// newManager builds a Manager over any backend (cfg already defaulted).
func newManager(cfg Config, gate Gate, be backend) *Manager {
	lifetime := cfg.Lifetime()
	return &Manager{
		cfg:           cfg,
		gate:          gate,
		be:            be,
		logger:        cfg.Logger.With("vip", cfg.Address.String(), "interface", cfg.Interface),
		lifetime:      lifetime,
		refreshEvery:  lifetime / 4,
		claimPoll:     25 * time.Millisecond,
		minRefreshGap: lifetime / 8,
		burstSpacing:  BurstSpacing,
		maxDecision:   MaxDecisionAge,
		kick:          make(chan struct{}, 1),
		maybePresent:  true,
	}
}

// Address returns the VIP with its prefix length.
func (m *Manager) Address() string { return m.cfg.Address.String() }

// Holding reports whether this node holds the VIP now: it installed it,
// has not removed it, and the last refresh is younger than the lifetime.
func (m *Manager) Holding() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.held && time.Since(m.lastInstall) < m.lifetime
}

// Run removes a left-over VIP, then reconciles on every leadership event
// and on a timer until ctx ends; then it removes the VIP. It returns nil
// when ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if err := m.removeLocked(ctx, "startup"); err != nil {
		m.logger.Warn("vip: removing a left-over VIP at startup failed", "err", err)
	}
	m.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.watchLeadership(ctx)
	}()
	defer wg.Wait()

	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			m.mu.Lock()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
			if err := m.removeLocked(rctx, "stopping"); err != nil {
				m.logger.Warn("vip: removing the VIP on stop failed; the kernel drops it when its lifetime ends", "err", err)
			}
			cancel()
			m.mu.Unlock()
			return nil
		case <-m.kick:
		case <-timer.C:
		}
		m.reconcile(ctx)
		timer.Reset(m.nextWait())
	}
}

// watchLeadership removes the VIP at once when this node stops leading —
// without waiting for a reconcile that may be blocked in the gate — and
// wakes the loop on every event.
func (m *Manager) watchLeadership(ctx context.Context) {
	events := m.gate.LeaderEvents()
	for {
		select {
		case <-ctx.Done():
			return
		case leading := <-events:
			m.mu.Lock()
			m.leading = leading
			if !leading {
				m.gen++
				if err := m.removeLocked(ctx, "step-down"); err != nil {
					m.logger.Warn("vip: removing the VIP on step-down failed; retrying", "err", err)
				}
			}
			m.mu.Unlock()
			m.wake()
		}
	}
}

func (m *Manager) wake() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// nextWait is the time to the next reconcile.
func (m *Manager) nextWait() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	wait := m.refreshEvery
	if m.leading && !m.held && !m.released {
		wait = m.claimPoll
	}
	if !m.nextAnnounce.IsZero() {
		wait = min(wait, max(time.Until(m.nextAnnounce), 0))
	}
	return wait
}

// reconcile asks the gate and brings the host in line with its answer.
func (m *Manager) reconcile(ctx context.Context) {
	m.mu.Lock()
	if m.released {
		m.mu.Unlock()
		return
	}
	if m.held && time.Since(m.lastInstall) < m.minRefreshGap {
		m.announceIfDue(ctx)
		m.mu.Unlock()
		return
	}
	gen := m.gen
	m.mu.Unlock()

	start := time.Now()
	want := m.gate.MayHoldVIP(ctx)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released || m.gen != gen {
		return // removed while the gate was deciding: decide again
	}
	if !want {
		if err := m.removeLocked(ctx, "not allowed"); err != nil {
			m.logger.Warn("vip: removing the VIP failed; retrying", "err", err)
		}
		return
	}
	if age := time.Since(start); age > m.maxDecision {
		m.logger.Warn("vip: the gate's answer came too late to act on; not refreshing this time", "took", age.Round(time.Millisecond), "limit", m.maxDecision)
		return
	}
	m.maybePresent = true
	err := m.be.Install(ctx, m.lifetime)
	if age := time.Since(start); age > m.maxDecision {
		// The refresh landed later than the gate's bound covers: undo it.
		m.logger.Warn("vip: a refresh finished too late after the gate's answer; removing the VIP", "took", age.Round(time.Millisecond))
		if rerr := m.removeLocked(ctx, "late refresh"); rerr != nil {
			m.logger.Warn("vip: removing the VIP failed", "err", rerr)
		}
		return
	}
	if err != nil {
		m.logger.Warn("vip: installing the VIP failed", "err", err)
		if m.held && time.Since(m.lastInstall) >= m.lifetime {
			m.held = false
			m.nextAnnounce = time.Time{}
		}
		return
	}
	m.lastInstall = time.Now()
	if !m.held {
		m.held = true
		m.logger.Info("vip: claimed the VIP", "lifetime", m.lifetime)
		if !m.cfg.NoAnnounce {
			m.burstLeft = m.cfg.GratuitousARPCount
			m.nextAnnounce = m.lastInstall
		}
	}
	m.announceIfDue(ctx)
}

// announceIfDue sends the next announcement when one is due. Called with
// m.mu held and the VIP held.
func (m *Manager) announceIfDue(ctx context.Context) {
	if !m.held || m.nextAnnounce.IsZero() || time.Now().Before(m.nextAnnounce) {
		return
	}
	if err := m.be.Announce(ctx); err != nil {
		m.logger.Warn("vip: announcing the VIP failed", "err", err)
	}
	if m.burstLeft > 0 {
		m.burstLeft--
	}
	if m.burstLeft > 0 {
		m.nextAnnounce = time.Now().Add(m.burstSpacing)
	} else {
		m.nextAnnounce = time.Now().Add(m.cfg.AnnounceInterval)
	}
}

// removeLocked removes the address if it may be there. Called with m.mu
// held.
func (m *Manager) removeLocked(ctx context.Context, why string) error {
	if !m.held && !m.maybePresent {
		return nil
	}
	wasHeld := m.held
	m.held = false
	m.burstLeft = 0
	m.nextAnnounce = time.Time{}
	if err := m.be.Remove(ctx); err != nil {
		return err
	}
	m.maybePresent = false
	if wasHeld {
		m.logger.Info("vip: removed the VIP", "why", why)
	}
	return nil
}

// Release removes the VIP at once and stops claiming it for good (the
// SIGTERM path). It is idempotent; it returns an error only when the
// address could not be removed (the kernel then drops it when its lifetime
// ends, since it is never refreshed again).
func (m *Manager) Release(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.released = true
	m.gen++
	if err := m.removeLocked(ctx, "released"); err != nil {
		return fmt.Errorf("vip: releasing %s: %w", m.cfg.Address, err)
	}
	return nil
}

// Drop removes the VIP at once; the Manager claims it again only when the
// gate allows. A decision the gate made before Drop is not acted upon.
func (m *Manager) Drop(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	if err := m.removeLocked(ctx, "dropped"); err != nil {
		return fmt.Errorf("vip: dropping %s: %w", m.cfg.Address, err)
	}
	return nil
}
