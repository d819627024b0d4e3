package vip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
)

// writeTimeout bounds one announcement's send.
const writeTimeout = 200 * time.Millisecond

// Announce sends one gratuitous ARP (IPv4) or one unsolicited neighbour
// advertisement (IPv6) for the address from the interface. Sockets are
// opened per announcement: announcements are rare (a burst on a claim, then
// one every few seconds), and a re-created interface keeps working.
func (b *systemBackend) Announce(context.Context) error {
	return inNamespace(b.ns, func() error {
		ifi, err := net.InterfaceByName(b.iface)
		if err != nil {
			return fmt.Errorf("vip: interface %q: %w", b.iface, err)
		}
		if len(ifi.HardwareAddr) != 6 {
			return fmt.Errorf("vip: interface %q has no Ethernet address to announce", b.iface)
		}
		if b.prefix.Addr().Is4() {
			return b.gratuitousARP(ifi)
		}
		return b.unsolicitedNA(ifi)
	})
}

// gratuitousARP broadcasts an ARP announcement (RFC 5227): a request with
// sender IP = target IP = the VIP, sender MAC = ours, target MAC zero.
// Linux receivers update an existing neighbour entry for the VIP from it
// (arp_accept decides only whether a missing one is created).
//
// arp.Dial needs an IPv4 address on the interface — the VIP, installed
// just before, is one. Should it fail anyway, the same frame goes out
// through a raw AF_PACKET socket.
func (b *systemBackend) gratuitousARP(ifi *net.Interface) error {
	vip := b.prefix.Addr()
	p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, vip, net.HardwareAddr{0, 0, 0, 0, 0, 0}, vip)
	if err != nil {
		return fmt.Errorf("vip: building a gratuitous ARP: %w", err)
	}
	c, derr := arp.Dial(ifi)
	if derr == nil {
		defer c.Close()
		if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
			return fmt.Errorf("vip: gratuitous ARP on %s: %w", ifi.Name, err)
		}
		if err := c.WriteTo(p, ethernet.Broadcast); err != nil {
			return fmt.Errorf("vip: gratuitous ARP on %s: %w", ifi.Name, err)
		}
		return nil
	}
	b.logger.Debug("vip: arp.Dial failed; sending the gratuitous ARP through a raw socket", "err", derr)
	if err := rawARP(ifi, p); err != nil {
		return fmt.Errorf("vip: gratuitous ARP on %s: %w", ifi.Name, errors.Join(derr, err))
	}
	return nil
}

// rawARP sends p in an Ethernet broadcast frame through AF_PACKET.
func rawARP(ifi *net.Interface, p *arp.Packet) error {
	pb, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	fb, err := (&ethernet.Frame{
		Destination: ethernet.Broadcast,
		Source:      ifi.HardwareAddr,
		EtherType:   ethernet.EtherTypeARP,
		Payload:     pb,
	}).MarshalBinary()
	if err != nil {
		return err
	}
	c, err := packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err = c.WriteTo(fb, &packet.Addr{HardwareAddr: ethernet.Broadcast})
	return err
}

// unsolicitedNA sends a neighbour advertisement for the VIP to all nodes
// (ff02::1) with the Override flag and our link-layer address, from the
// VIP itself (installed without DAD, so usable at once) or, failing that,
// from the interface's link-local address. Receivers replace the MAC of an
// existing neighbour entry for the VIP.
func (b *systemBackend) unsolicitedNA(ifi *net.Interface) error {
	vip := b.prefix.Addr()
	c, _, err := ndp.Listen(ifi, ndp.Addr(vip.String()))
	if err != nil {
		var lerr error
		c, _, lerr = ndp.Listen(ifi, ndp.LinkLocal)
		if lerr != nil {
			return fmt.Errorf("vip: NDP socket on %s: %w", ifi.Name, errors.Join(err, lerr))
		}
	}
	defer c.Close()
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: vip,
		Options: []ndp.Option{&ndp.LinkLayerAddress{
			Direction: ndp.Target,
			Addr:      ifi.HardwareAddr,
		}},
	}
	if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("vip: unsolicited NA on %s: %w", ifi.Name, err)
	}
	if err := c.WriteTo(na, nil, netip.IPv6LinkLocalAllNodes()); err != nil {
		return fmt.Errorf("vip: unsolicited NA on %s: %w", ifi.Name, err)
	}
	return nil
}
