package dnsserver

import (
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// clientSubnet is the request's EDNS Client Subnet option (RFC 7871): the
// network a recursive resolver says its client is in.
type clientSubnet struct {
	opt *dns.EDNS0_SUBNET // as sent; nil when the request had none
	// bad marks an option that breaks RFC 7871 §6 (an unknown family, a
	// source prefix longer than the family's addresses, address bits set
	// beyond the source prefix) or a second ECS option: FORMERR (§7.1.2).
	bad bool
	// addr is the subnet's address (IPv4 unmapped); invalid when the
	// source prefix is 0, which asks that no address be used (§7.1.2).
	addr netip.Addr
	bits int // the source prefix length
}

// readECS reads the ECS option of a version 0 OPT record. Family 0 with
// source prefix 0 (what some tools send for "no address") is accepted as
// the opt-out it means; any other family than 1 (IPv4) and 2 (IPv6) is bad.
func readECS(opt *dns.OPT) clientSubnet {
	var cs clientSubnet
	for _, o := range opt.Option {
		s, ok := o.(*dns.EDNS0_SUBNET)
		if !ok {
			continue
		}
		if cs.opt != nil {
			return clientSubnet{bad: true}
		}
		cs.opt = s
		var a netip.Addr
		switch s.Family {
		case 0:
			if s.SourceNetmask != 0 {
				return clientSubnet{bad: true}
			}
			continue
		case 1:
			ip4 := s.Address.To4()
			if s.SourceNetmask > 32 || ip4 == nil {
				return clientSubnet{bad: true}
			}
			a = netip.AddrFrom4([4]byte(ip4))
		case 2:
			if s.SourceNetmask > 128 || len(s.Address) != net.IPv6len {
				return clientSubnet{bad: true}
			}
			a = netip.AddrFrom16([16]byte(s.Address))
		default:
			return clientSubnet{bad: true}
		}
		cs.bits = int(s.SourceNetmask)
		if p, err := a.Prefix(cs.bits); err != nil || p.Addr() != a {
			return clientSubnet{bad: true} // bits set beyond the source prefix
		}
		if cs.bits > 0 {
			cs.addr = a.Unmap()
		}
	}
	return cs
}

// present reports whether the request carried a well-formed ECS option,
// which the reply echoes.
func (cs clientSubnet) present() bool { return cs.opt != nil && !cs.bad }

// echo fills dst with the reply's ECS option: the request's family, source
// prefix and address, with scope as SCOPE PREFIX-LENGTH (RFC 7871 §7.2.1).
// The address is shared with the request, never modified.
func (cs clientSubnet) echo(dst *dns.EDNS0_SUBNET, scope int) {
	*dst = dns.EDNS0_SUBNET{
		Code:          dns.EDNS0SUBNET,
		Family:        cs.opt.Family,
		SourceNetmask: cs.opt.SourceNetmask,
		SourceScope:   uint8(max(0, min(scope, int(cs.opt.SourceNetmask)))),
		Address:       cs.opt.Address,
	}
	if cs.opt.Family == 0 {
		dst.SourceScope = 0
	}
}
