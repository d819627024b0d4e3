package vip

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Config configures a Manager.
type Config struct {
	// Address is the VIP with its prefix length, IPv4 or IPv6 (for
	// example 10.0.0.100/24 or 2001:db8::100/64). With the prefix of the
	// interface's own subnet it is added as a secondary address; a /32
	// (/128) adds no route.
	Address netip.Prefix
	// Interface is the name of the interface that carries the VIP. For
	// IPv4 announcements the interface needs an IPv4 address, which the
	// VIP itself provides once installed.
	Interface string
	// Lease is the kernel lifetime of the address; the kernel counts
	// whole seconds, so it is rounded up to a whole number of seconds, at
	// least one. 0 = DefaultLease.
	Lease time.Duration
	// GratuitousARPCount is how many gratuitous ARPs (IPv4) or unsolicited
	// neighbour advertisements (IPv6) are sent on a claim, spaced
	// BurstSpacing apart. 0 = DefaultGratuitousARPCount.
	GratuitousARPCount int
	// AnnounceInterval is the pace of the single announcement repeated
	// while the VIP is held. 0 = DefaultAnnounceInterval.
	AnnounceInterval time.Duration
	// NoAnnounce turns every announcement off (the lab uses it to show what
	// clients do without them). The zero value announces.
	NoAnnounce bool
	// Logger receives the manager's logs; nil discards them.
	Logger *slog.Logger
}

// Defaults and the bounds the Manager keeps.
const (
	// DefaultLease is one second: the shortest lifetime the kernel knows.
	DefaultLease = time.Second
	// DefaultGratuitousARPCount announcements on a claim.
	DefaultGratuitousARPCount = 3
	// DefaultAnnounceInterval: while held, one announcement every 5 s. A
	// client that missed the claim (a lost frame, a link that was down,
	// a healed partition) corrects its neighbour entry within 5 s, before
	// the kernel's own recovery of a stale entry (5 s delay plus three
	// unicast probes) would, at a cost of one broadcast frame per 5 s.
	DefaultAnnounceInterval = 5 * time.Second
	// BurstSpacing separates the announcements of a claim, so one lost
	// burst does not lose them all.
	BurstSpacing = 100 * time.Millisecond
	// MaxDecisionAge bounds the time from the start of a Gate call to the
	// end of the refresh it allowed. A decision older than that is not
	// acted upon; a refresh that finished later is undone at once.
	MaxDecisionAge = 100 * time.Millisecond
	// ExpirySlack is how late the kernel may remove an expired address:
	// IPv4 (check_lifetime) and IPv6 (addrconf_verify) both reschedule
	// their lifetime check rounded up to a whole second when that adds
	// less than HZ/4, and count an address expired up to HZ/50 early.
	ExpirySlack = 250 * time.Millisecond
)

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.GratuitousARPCount <= 0 {
		c.GratuitousARPCount = DefaultGratuitousARPCount
	}
	if c.AnnounceInterval <= 0 {
		c.AnnounceInterval = DefaultAnnounceInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate checks the fields a Manager cannot run without.
func (c Config) validate() error {
	switch {
	case !c.Address.IsValid():
		return fmt.Errorf("%w: address: a VIP such as 10.0.0.100/24 is required", ErrConfig)
	case c.Address.Addr().Zone() != "":
		return fmt.Errorf("%w: address %s: a zone is not allowed", ErrConfig, c.Address)
	case c.Address.Addr().Is4In6():
		return fmt.Errorf("%w: address %s: use the plain IPv4 form", ErrConfig, c.Address)
	case !c.Address.Addr().IsGlobalUnicast() && !c.Address.Addr().IsPrivate():
		return fmt.Errorf("%w: address %s: not a unicast address", ErrConfig, c.Address)
	case c.Interface == "":
		return fmt.Errorf("%w: interface: required", ErrConfig)
	}
	return nil
}

// Lifetime is the kernel lifetime the address is installed with: the lease
// rounded up to whole seconds, at least one second.
func (c Config) Lifetime() time.Duration {
	lease := c.withDefaults().Lease
	secs := (lease + time.Second - 1) / time.Second
	return max(secs, 1) * time.Second
}

// ExpiryBound is the longest the address can stay on this host after the
// start of the Gate call that allowed its last refresh: the lifetime, the
// kernel's lateness in removing it, and MaxDecisionAge. A new holder that
// waits at least this long after the old holder's last possible decision
// never overlaps with it.
func (c Config) ExpiryBound() time.Duration {
	return c.Lifetime() + ExpirySlack + MaxDecisionAge
}
