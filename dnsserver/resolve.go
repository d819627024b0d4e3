package dnsserver

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// maxCNAMEChain is how many CNAMEs one answer follows at most.
const maxCNAMEChain = 16

// resolution answers one question from one zone: it walks the name, follows
// CNAMEs inside the zone and fills the reply's sections.
type resolution struct {
	zone  *zone.Zone
	qtype uint16
	msg   *dns.Msg
	// pol answers the names GTM policies are bound at.
	pol policyQuery
	// glue counts the records at the start of msg.Extra that are mandatory
	// glue of a referral: they are kept when the reply must shrink.
	glue int
	// chain holds the CNAMEs put in the answer so far: the node and the
	// owner name each was answered for.
	chain  [maxCNAMEChain]step
	nchain int
}

// step is one CNAME of the chain: from a zone node or from a CNAME policy
// (bound), answered for owner.
type step struct {
	node  *zone.Node
	bound *gtm.Bound
	owner string
}

// rrset returns the zone's records of a type at a node. Names bound to GTM
// policies are answered before any node is (policy.go), so rrset only ever
// sees ordinary data.
func (r *resolution) rrset(n *zone.Node, t uint16) []dns.RR {
	return n.RRset(t)
}

// resolve answers qname, spelled as the client spelled it.
func (r *resolution) resolve(qname string) {
	m := r.msg
	m.Authoritative = true
	name := qname
	for {
		res := r.zone.Lookup(name)
		if res.Kind != zone.NXDomain && res.Node == nil {
			m.Rcode = dns.RcodeServerFailure // broken index; never expected
			m.Authoritative = false
			return
		}
		if res.Kind != zone.Delegation {
			if l, ok := r.policiesAt(name); ok {
				target, follow := r.answerPolicy(l, res, name)
				if !follow {
					return
				}
				name = target
				continue
			}
		}
		switch res.Kind {
		case zone.NXDomain:
			if r.policyENT(name, nil) {
				return
			}
			m.Rcode = dns.RcodeNameError
			m.Ns = append(m.Ns, r.zone.NegativeSOA())
			return
		case zone.Delegation:
			if r.qtype == dns.TypeDS && strings.EqualFold(res.Node.Name(), name) {
				// The DS RRset at a cut is the parent's authoritative data.
				r.answerNode(res.Node, name)
				return
			}
			r.referral(res.Node)
			return
		}
		if res.Kind == zone.Wildcard && r.policyENT(name, res.Node) {
			return
		}
		// Exact or wildcard match.
		if cname := r.rrset(res.Node, dns.TypeCNAME); cname != nil && followsCNAME(r.qtype) {
			target, follow := r.addCNAME(step{node: res.Node, owner: name}, cname[0], res.Kind == zone.Wildcard)
			if !follow {
				return
			}
			name = target
			continue
		}
		r.answerNode(res.Node, name)
		return
	}
}

// followsCNAME reports whether a query of type t at a CNAME is answered by
// following it (RFC 1034 §4.3.2 step 3a). CNAME and ANY get the CNAME
// itself; RRSIG and NSEC are the types that live beside a CNAME (RFC 2181
// §10.1, RFC 4035 §2.5), so they are answered at the CNAME's own name:
// NODATA in an unsigned zone, as Knot answers.
func followsCNAME(t uint16) bool {
	switch t {
	case dns.TypeCNAME, dns.TypeANY, dns.TypeRRSIG, dns.TypeNSEC:
		return false
	}
	return true
}

// addCNAME puts the CNAME of at (a node or a CNAME policy, answered for
// at.owner) into the answer and says whether to follow its target (and
// which, in canonical form). Like Knot: a CNAME already in the answer ends
// the chain without being added again, and a wildcard CNAME met a second
// time is added and ends it.
func (r *resolution) addCNAME(at step, cname dns.RR, wildcard bool) (string, bool) {
	seenNode := false
	for _, s := range r.chain[:r.nchain] {
		if s.node == at.node && s.bound == at.bound {
			if strings.EqualFold(s.owner, at.owner) {
				return "", false
			}
			seenNode = true
		}
	}
	r.msg.Answer = append(r.msg.Answer, named(cname, at.owner))
	if (wildcard && seenNode) || r.nchain == len(r.chain) {
		return "", false
	}
	r.chain[r.nchain] = at
	r.nchain++
	c, ok := cname.(*dns.CNAME)
	if !ok {
		return "", false
	}
	target := lower(c.Target)
	if !zone.IsBelow(target, r.zone.Name()) || r.nchain == len(r.chain) {
		// Out of the zone (the client resolves the rest) or too long.
		return "", false
	}
	return target, true
}

// answerNode answers the question's type at node for owner: the RRset (for
// ANY, the RRset of the lowest type, RFC 8482, as Knot answers), or NODATA.
func (r *resolution) answerNode(node *zone.Node, owner string) {
	m := r.msg
	before := len(m.Answer)
	if r.qtype == dns.TypeANY {
		for _, t := range node.Types() {
			if r.addRRset(r.rrset(node, t), owner) {
				break
			}
		}
	} else {
		r.addRRset(r.rrset(node, r.qtype), owner)
	}
	if len(m.Answer) == before {
		m.Ns = append(m.Ns, r.zone.NegativeSOA())
		return
	}
	r.additionalFor(m.Answer[before:], "")
}

// addRRset appends rrs to the answer with owner as owner name and reports
// whether it added anything.
func (r *resolution) addRRset(rrs []dns.RR, owner string) bool {
	for _, rr := range rrs {
		r.msg.Answer = append(r.msg.Answer, named(rr, owner))
	}
	return len(rrs) > 0
}

// referral answers with the zone cut at cut: AA clear unless the answer
// already holds our CNAMEs, the cut's NS RRset in authority, glue in
// additional.
func (r *resolution) referral(cut *zone.Node) {
	m := r.msg
	if len(m.Answer) == 0 {
		m.Authoritative = false
	}
	ns := r.rrset(cut, dns.TypeNS)
	m.Ns = append(m.Ns, ns...)
	r.additionalFor(ns, cut.Name())
}
