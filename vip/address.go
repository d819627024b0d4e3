package vip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netlinkAttempts bounds the retries of a netlink request the kernel
// interrupted (netlink.ErrDumpInterrupted: the answer changed while it was
// being read).
const netlinkAttempts = 5

// systemBackend installs the address through netlink and announces it
// with ARP or NDP, in one network namespace.
type systemBackend struct {
	prefix netip.Prefix
	iface  string
	ns     netns.NsHandle // not open: this process's namespace
	h      *netlink.Handle
	logger *slog.Logger
}

// newSystemBackend opens a netlink handle in ns (netns.None(): this
// process's namespace). The interface is looked up on every operation, so
// one that is re-created keeps working.
func newSystemBackend(cfg Config, ns netns.NsHandle) (*systemBackend, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("vip: opening netlink: %w", err)
	}
	return &systemBackend{prefix: cfg.Address, iface: cfg.Interface, ns: ns, h: h, logger: cfg.Logger}, nil
}

// Close releases the netlink handle.
func (b *systemBackend) Close() { b.h.Close() }

// retry runs op again while netlink reports an interrupted dump.
func retry(op func() error) error {
	var err error
	for range netlinkAttempts {
		if err = op(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return err
		}
	}
	return err
}

func (b *systemBackend) link() (netlink.Link, error) {
	var l netlink.Link
	err := retry(func() error {
		var err error
		l, err = b.h.LinkByName(b.iface)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vip: interface %q: %w", b.iface, err)
	}
	return l, nil
}

// addr builds the netlink address; lifetime 0 leaves the lifetimes out.
func (b *systemBackend) addr(lifetime time.Duration) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   b.prefix.Addr().AsSlice(),
		Mask: net.CIDRMask(b.prefix.Bits(), b.prefix.Addr().BitLen()),
	}}
	if b.prefix.Addr().Is6() {
		// Without NODAD the address sits "tentative" for a second and
		// cannot be used or announced.
		a.Flags = unix.IFA_F_NODAD
	}
	if secs := int(lifetime / time.Second); secs > 0 {
		a.ValidLft, a.PreferedLft = secs, secs
	}
	return a
}

// Install adds or refreshes the address with the lifetime (whole seconds).
func (b *systemBackend) Install(_ context.Context, lifetime time.Duration) error {
	l, err := b.link()
	if err != nil {
		return err
	}
	a := b.addr(lifetime)
	if err := retry(func() error { return b.h.AddrReplace(l, a) }); err != nil {
		return fmt.Errorf("vip: adding %s to %s: %w", b.prefix, b.iface, err)
	}
	return nil
}

// Remove deletes the address; one that is not there (or an interface that
// is gone, with it) is not an error.
func (b *systemBackend) Remove(context.Context) error {
	l, err := b.link()
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	err = retry(func() error { return b.h.AddrDel(l, b.addr(0)) })
	if err == nil || errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	return fmt.Errorf("vip: removing %s from %s: %w", b.prefix, b.iface, err)
}

// present reports whether the address is on the interface, with its
// remaining valid lifetime in seconds (tests and diagnostics).
func (b *systemBackend) present() (bool, int, error) {
	l, err := b.link()
	if err != nil {
		return false, 0, err
	}
	family := netlink.FAMILY_V4
	if b.prefix.Addr().Is6() {
		family = netlink.FAMILY_V6
	}
	var addrs []netlink.Addr
	if err := retry(func() error {
		var err error
		addrs, err = b.h.AddrList(l, family)
		return err
	}); err != nil {
		return false, 0, err
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == b.prefix.Addr() {
			return true, a.ValidLft, nil
		}
	}
	return false, 0, nil
}

// RemoveLeftover removes cfg.Address from cfg.Interface if it is there: an
// address an earlier run left behind (killed while its lifetime was still
// running, or added by hand without one). The server calls it before Raft
// starts, so no part of a new run ever sees a stale VIP; Run does the same
// first thing. A missing interface is an error here.
func RemoveLeftover(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	be, err := newSystemBackend(cfg, netns.None())
	if err != nil {
		return err
	}
	defer be.Close()
	if _, err := be.link(); err != nil {
		return err
	}
	return be.Remove(ctx)
}
