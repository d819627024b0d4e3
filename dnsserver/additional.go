package dnsserver

import (
	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// additionalFor adds the addresses (A, AAAA) of the names that the NS, MX,
// SRV, SVCB and HTTPS records in rrs point to (RFC 9460 §4.1), when those names are in the zone: found
// exactly (also below a zone cut, where glue lives) or through a wildcard.
// cut is the owner of a referral's NS RRset, or "" for answers. The
// mandatory glue of a referral (NS targets at or below the cut) comes first
// and is counted in r.glue, so that shrinking the reply keeps it; every other
// address is optional (RFC 1034 §4.3.2, as Knot orders them).
func (r *resolution) additionalFor(rrs []dns.RR, cut string) {
	if cut != "" {
		for _, rr := range rrs {
			if t := target(rr); t != "" && zone.IsBelow(t, cut) {
				r.glue += r.addAddresses(t)
			}
		}
	}
	for _, rr := range rrs {
		if t := target(rr); t != "" && (cut == "" || !zone.IsBelow(t, cut)) {
			r.addAddresses(t)
		}
	}
}

// target returns the canonical name an RR asks additional processing for.
func target(rr dns.RR) string {
	switch x := rr.(type) {
	case *dns.NS:
		return lower(x.Ns)
	case *dns.MX:
		return lower(x.Mx)
	case *dns.SRV:
		return lower(x.Target)
	case *dns.SVCB:
		return lower(x.Target)
	case *dns.HTTPS:
		return lower(x.Target)
	}
	return ""
}

// addAddresses adds the A and AAAA RRsets of name to the additional section,
// once per name, and returns how many records it added. A name bound to an
// address policy gets the policy's choice for this query.
func (r *resolution) addAddresses(name string) int {
	z := r.zone
	if name == "." || !zone.IsBelow(name, z.Name()) {
		return 0
	}
	for _, rr := range r.msg.Extra {
		if rr.Header().Name == name {
			return 0 // already there
		}
	}
	res := z.Lookup(name)
	var node *zone.Node
	switch res.Kind {
	case zone.Exact, zone.Wildcard:
		node = res.Node
	case zone.Delegation:
		node = z.Node(name) // glue below the cut, if any
	}
	// A name bound to address policies answers them here too (their
	// choice for this query), and no wildcard applies at it.
	var pol bindings
	if res.Kind != zone.Delegation {
		var ok bool
		if pol, ok = r.policiesAt(name); ok && res.Kind == zone.Wildcard {
			node = nil
		}
	}
	n := 0
	for _, t := range [2]uint16{dns.TypeA, dns.TypeAAAA} {
		b := pol.a
		if t == dns.TypeAAAA {
			b = pol.aaaa
		}
		if b != nil {
			before := len(r.msg.Extra)
			r.msg.Extra, _ = b.AppendAnswer(r.msg.Extra, r.pol.client(b))
			n += len(r.msg.Extra) - before
			continue
		}
		if node == nil {
			continue
		}
		for _, rr := range r.rrset(node, t) {
			r.msg.Extra = append(r.msg.Extra, named(rr, name))
			n++
		}
	}
	return n
}
