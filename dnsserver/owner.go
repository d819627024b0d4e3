package dnsserver

import "github.com/miekg/dns"

// named returns rr with owner as its owner name. The zone's RRs are shared
// by every reader, so rr itself is returned when the name already matches
// (the common case: a lower-case query for an existing name) and otherwise a
// shallow copy: a new header over the same RDATA, which is never modified.
func named(rr dns.RR, owner string) dns.RR {
	if rr.Header().Name == owner {
		return rr
	}
	switch x := rr.(type) {
	case *dns.A:
		return rename(x, owner)
	case *dns.AAAA:
		return rename(x, owner)
	case *dns.CNAME:
		return rename(x, owner)
	case *dns.MX:
		return rename(x, owner)
	case *dns.TXT:
		return rename(x, owner)
	case *dns.NS:
		return rename(x, owner)
	case *dns.SRV:
		return rename(x, owner)
	case *dns.PTR:
		return rename(x, owner)
	case *dns.CAA:
		return rename(x, owner)
	case *dns.DS:
		return rename(x, owner)
	case *dns.SSHFP:
		return rename(x, owner)
	case *dns.TLSA:
		return rename(x, owner)
	case *dns.NAPTR:
		return rename(x, owner)
	case *dns.SVCB:
		return rename(x, owner)
	case *dns.HTTPS:
		return rename(x, owner)
	case *dns.HINFO:
		return rename(x, owner)
	case *dns.SOA:
		return rename(x, owner)
	}
	c := dns.Copy(rr)
	c.Header().Name = owner
	return c
}

// rename returns a copy of the record *p with a new owner name; RDATA slices
// are shared.
func rename[T any, P interface {
	*T
	dns.RR
}](p P, owner string) dns.RR {
	c := new(T)
	*c = *(*T)(p)
	P(c).Header().Name = owner
	return P(c)
}
