package dnsserver

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// Locator places a client address for geographic policies: its location
// and the length of the network the answer was found in (prefixBits; 0
// when the address is unknown). It must be a pure lookup, safe for
// concurrent use; country and continent codes upper case.
type Locator interface {
	Locate(a netip.Addr) (loc gtm.Location, prefixBits int)
}

// policyQuery is what the policy answers of one query know about its
// client. The selection key and the location are worked out on first use
// only: a query that meets no policy pays nothing, and only geographic
// policies locate.
type policyQuery struct {
	table   *gtm.Table
	geo     Locator
	qname   string
	id      uint16
	keyAddr netip.Addr // the ECS address, else the source address
	locAddr netip.Addr // the address to locate; invalid: unknown
	ecsBits int        // the ECS source prefix; 0 without ECS

	keyed   bool
	key     uint64
	located bool
	loc     gtm.Location
	locBits int
	geoUsed bool // a geographic policy chose part of the reply

	trace *trace // Explain's record; nil when answering queries
}

// trace is what Explain learns from a resolution: the first policy met
// (or the first that answered) and its decision, the client's location and
// the ECS scope.
type trace struct {
	bound    *gtm.Bound
	decision gtm.Decision
	answered bool
	loc      gtm.Location
	scope    int
}

func newPolicyQuery(d Data, req *dns.Msg, q Query, ecs clientSubnet, tr *trace) policyQuery {
	p := policyQuery{table: d.Policies, geo: d.Geo, qname: req.Question[0].Name, id: req.Id, trace: tr}
	switch {
	case !ecs.present():
		p.keyAddr, p.locAddr = q.Client, q.Client
	case ecs.bits == 0:
		// Source prefix 0: the resolver asks that no address be used
		// (RFC 7871 §7.1.2): the location is unknown, the key the usual.
		p.keyAddr = q.Client
	default:
		p.keyAddr, p.locAddr, p.ecsBits = ecs.addr, ecs.addr, ecs.bits
	}
	return p
}

// client returns what b's selection knows about the client.
func (p *policyQuery) client(b *gtm.Bound) gtm.Client {
	if !p.keyed {
		p.key, p.keyed = gtm.Key(p.keyAddr, p.qname, p.id), true
	}
	c := gtm.Client{Key: p.key}
	if b.Policy.Type == gtm.Geographic {
		p.geoUsed = true
		l := p.location()
		c.Country, c.Continent = l.Country, l.Continent
	}
	return c
}

// location places the client, once per query.
func (p *policyQuery) location() gtm.Location {
	if !p.located {
		p.located = true
		if p.geo != nil && p.locAddr.IsValid() {
			p.loc, p.locBits = p.geo.Locate(p.locAddr)
		}
	}
	return p.loc
}

// scope is the ECS SCOPE PREFIX-LENGTH of the reply (RFC 7871 §7.2.1): the
// network the client was located in, no longer than the source prefix,
// when a geographic policy chose part of the reply; 0 (valid for every
// client) otherwise.
func (p *policyQuery) scope() int {
	if !p.geoUsed || !p.located || p.ecsBits == 0 {
		return 0
	}
	return max(0, min(p.locBits, p.ecsBits))
}

// note tells Explain's trace about a policy's decision.
func (p *policyQuery) note(b *gtm.Bound, d gtm.Decision, answered bool) {
	if t := p.trace; t != nil && (t.bound == nil || (answered && !t.answered)) {
		t.bound, t.decision, t.answered = b, d, answered
	}
}

// bindings are the policies of the resolution's zone bound at one name.
type bindings struct{ a, aaaa, cname *gtm.Bound }

// policiesAt returns the policies bound at name in the zone being
// answered from (a policy of a parent zone does not answer inside a child
// zone served here).
func (r *resolution) policiesAt(name string) (bindings, bool) {
	bs := r.pol.table.Find(name)
	if bs == nil {
		return bindings{}, false
	}
	z := r.zone.Name()
	in := func(b *gtm.Bound) *gtm.Bound {
		if b != nil && b.Policy.Zone == z {
			return b
		}
		return nil
	}
	l := bindings{a: in(bs.A), aaaa: in(bs.AAAA), cname: in(bs.CNAME)}
	return l, l.a != nil || l.aaaa != nil || l.cname != nil
}

// answerPolicy answers the question at name, a name policies are bound at
// (res is the zone's own lookup of it, not a delegation). A CNAME policy
// answers every type that follows CNAMEs with its CNAME, then the target
// (returned with follow set, for the caller to resolve in the zone); CNAME
// and ANY get the CNAME itself. An address policy answers its type; ANY
// gets the policy records (A, else AAAA). Other types get the node's own
// records when the zone has a node at name, else NODATA: the name exists.
// A wildcard never answers at a policy name.
func (r *resolution) answerPolicy(l bindings, res zone.Result, name string) (target string, follow bool) {
	if b := l.cname; b != nil {
		switch {
		case followsCNAME(r.qtype):
			if rr := r.policyCNAME(b); rr != nil {
				return r.addCNAME(step{bound: b, owner: name}, rr, false)
			}
		case r.qtype == dns.TypeCNAME || r.qtype == dns.TypeANY:
			if rr := r.policyCNAME(b); rr != nil {
				r.msg.Answer = append(r.msg.Answer, named(rr, name))
				return "", false
			}
		}
		r.noData()
		return "", false
	}
	switch r.qtype {
	case dns.TypeA:
		if l.a != nil {
			r.addPolicy(l.a, name, true)
			return "", false
		}
	case dns.TypeAAAA:
		if l.aaaa != nil {
			r.addPolicy(l.aaaa, name, true)
			return "", false
		}
	case dns.TypeANY:
		if r.addPolicy(l.a, name, false) || r.addPolicy(l.aaaa, name, false) {
			return "", false
		}
	}
	if res.Kind == zone.Exact {
		r.answerNode(res.Node, name)
	} else {
		r.noData()
	}
	return "", false
}

// addPolicy appends b's answer for owner and reports whether it added any
// record; with noData set, an empty answer is NODATA.
func (r *resolution) addPolicy(b *gtm.Bound, owner string, noData bool) bool {
	if b == nil {
		return false
	}
	m := r.msg
	before := len(m.Answer)
	var d gtm.Decision
	m.Answer, d = b.AppendAnswer(m.Answer, r.pol.client(b))
	for i := before; i < len(m.Answer); i++ {
		m.Answer[i] = named(m.Answer[i], owner)
	}
	added := len(m.Answer) > before
	r.pol.note(b, d, added)
	if !added && noData {
		r.noData()
	}
	return added
}

// policyCNAME returns the CNAME b chooses, or nil.
func (r *resolution) policyCNAME(b *gtm.Bound) dns.RR {
	var buf [1]dns.RR
	rrs, d := b.AppendAnswer(buf[:0], r.pol.client(b))
	r.pol.note(b, d, len(rrs) > 0)
	if len(rrs) == 0 {
		return nil
	}
	return rrs[0]
}

// noData ends the answer as NODATA: the zone's SOA in authority.
func (r *resolution) noData() {
	r.msg.Ns = append(r.msg.Ns, r.zone.NegativeSOA())
}

// policyENT answers a name the zone has no node for (an NXDOMAIN or a
// wildcard match, wild) when policy names say otherwise, and reports
// whether it did: a name with a policy owner below it exists as an empty
// non-terminal (NODATA), and a wildcard does not cover a name whose
// ancestor below the wildcard's parent exists only through policy names
// (RFC 4592 §2.2.2: that ancestor is the closest encloser and has no
// wildcard): NXDOMAIN.
func (r *resolution) policyENT(name string, wild *zone.Node) bool {
	t := r.pol.table
	if t.Len() == 0 {
		return false
	}
	if t.HasBelow(name) {
		r.noData()
		return true
	}
	if wild == nil || !strings.HasPrefix(wild.Name(), "*.") {
		return false
	}
	encloser := wild.Name()[2:]
	for a := zone.ParentName(name); len(a) > len(encloser); a = zone.ParentName(a) {
		if t.Find(a) != nil || t.HasBelow(a) {
			r.msg.Rcode = dns.RcodeNameError
			r.noData()
			return true
		}
	}
	return false
}
