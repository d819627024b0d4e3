package conformance

import (
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/dnsserver"
	"github.com/resolvx/resolvx/zone"
)

// allowance is one difference from Knot that the RFCs permit. The table
// below is the one place where the suite accepts a difference: for a query
// it applies to, normalise rewrites the replies (copies) so that this
// difference disappears — by bringing Knot's reply to what resolvx's rule
// prescribes, never by loosening resolvx's — and what is left must be
// equal.
type allowance struct {
	kind string // short name, used in the report
	// rfc quotes the text that permits resolvx's answer.
	rfc string
	// why says what each server does.
	why string
	// applies reports whether the allowance may be used for q; nil means
	// every query.
	applies func(q *query) bool
	// normalise returns the two replies (knot, resolvx; either may be nil:
	// no reply) with this difference removed.
	normalise func(env *env, q *query, knot, ours *dns.Msg) (*dns.Msg, *dns.Msg)
}

// env is what an allowance may consult besides the two replies: the zones
// resolvx serves (to recompute its full reply) and Knot (to ask it again).
type env struct {
	view *zone.View
	knot *peer
	// ref names the reference server: "" for Knot, "nsd" for the NSD
	// secondary (TestNSDSecondary). The entries marked "NSD only" change
	// nothing unless ref is "nsd".
	ref string
}

// allowances is THE table of permitted differences, in the order they are
// applied (see doc.go).
func allowances() []allowance {
	isOdd := func(names ...string) func(q *query) bool {
		return func(q *query) bool { return slices.Contains(names, q.odd) }
	}
	return []allowance{
		{
			kind: "EDNS payload size 1 treated as 512",
			rfc:  `RFC 6891 §6.2.5: "Values lower than 512 MUST be treated as equal to 512."`,
			why: "Knot 3.2 answers FORMERR to a payload size of exactly 1 (every other size below 512 is " +
				"treated as 512). Knot is asked the same query again with size 512 and that reply is compared.",
			applies: func(q *query) bool {
				o := q.msg.IsEdns0()
				return o != nil && o.UDPSize() < 512
			},
			normalise: func(e *env, q *query, knot, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if knot == nil || knot.Rcode != dns.RcodeFormatError {
					return knot, ours
				}
				m := q.msg.Copy()
				m.IsEdns0().SetUDPSize(512)
				again, _, err := e.knot.ask(packedQuery(m, q.tcp))
				if err != nil || again == nil {
					return knot, ours
				}
				return again, ours
			},
		},
		{
			kind: "CD bit copied to the reply",
			rfc: `RFC 4035 §3: "The CD bit is controlled by resolvers; a security-aware name server MUST copy ` +
				`the CD bit from a query into the corresponding response."`,
			why:     "Knot 3.2 clears CD in its replies; resolvx copies it. Knot's reply is compared as if it had copied it.",
			applies: func(q *query) bool { return q.msg.CheckingDisabled },
			normalise: func(_ *env, q *query, knot, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if knot != nil {
					knot.CheckingDisabled = q.msg.CheckingDisabled
				}
				return knot, ours
			},
		},
		{
			kind: "the same additional RRset sent once",
			rfc: `RFC 2181 §5: "It is meaningless for two records to ever have label, class, type and data all ` +
				`equal - servers should suppress such duplicates if encountered."`,
			why: "Knot adds a target's addresses once per record that names it (two MX with the same exchange " +
				"repeat its A and AAAA); resolvx adds them once. Duplicates are removed from Knot's reply only: " +
				"resolvx's must have none.",
			normalise: func(_ *env, _ *query, knot, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if knot != nil {
					knot.Extra = withoutDuplicates(knot.Extra)
				}
				return knot, ours
			},
		},
		{
			kind: "optional additional RRsets that fit resolvx's encoding",
			rfc: `RFC 1035 §4.1.4: "Programs are free to avoid using pointers in messages they generate, ` +
				`although this will reduce datagram capacity, and may cause truncation."; RFC 2181 §9: "The TC bit ` +
				`should not be set merely because some extra information could have been included, for which there ` +
				`was insufficient room. This includes the results of additional section processing."`,
			why: "Knot compresses names case-insensitively; miekg/dns compresses only identical spellings, so a " +
				"reply to a mixed-case question is a few octets larger and a different set of optional additional " +
				"RRsets fits the UDP limit. Checked: every additional RRset on either side is one resolvx's full " +
				"(TCP) reply has, and every one resolvx left out does not fit its reply.",
			normalise: additionalThatFits,
		},
		{
			kind: "case of names in RDATA and owners other than the question",
			rfc: `RFC 1034 §3.1: "domain name comparisons for all present domain functions are done in a ` +
				`case-insensitive manner"; RFC 4343 §3: "comparisons on name lookup for DNS queries should be case insensitive".`,
			why: "Knot compresses names case-insensitively, so a name that shares a suffix with the question " +
				"takes the question's spelling on the wire; resolvx writes its canonical lower-case names. " +
				"The question and the answer owners equal to it keep the client's spelling on both (checked apart).",
			normalise: func(_ *env, _ *query, knot, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				lowerNames(knot)
				lowerNames(ours)
				return knot, ours
			},
		},
		{
			kind: "NOTIFY and UPDATE: NOTIMP",
			rfc: `RFC 2136 §2.2: "NOTIMP 4 The name server does not support the specified Opcode."; RFC 1035 ` +
				`§4.1.1: "Not Implemented - The name server does not support the requested kind of query."`,
			why: "resolvx accepts neither dynamic updates nor NOTIFY (it is the primary; zone transfers are " +
				"issue 4 item 3); Knot, which supports both, answers NOTAUTH because no ACL allows the sender.",
			applies: isOdd("opcode NOTIFY", "opcode UPDATE"),
			normalise: func(_ *env, q *query, _, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				return ruleReply(q, dns.RcodeNotImplemented, true), ours
			},
		},
		{
			kind: "class CHAOS: REFUSED, no version",
			rfc: `RFC 1035 §4.1.1: "Refused - The name server refuses to perform the specified operation for ` +
				`policy reasons. For example, a name server may not wish to provide the information to the ` +
				`particular requester"`,
			why: "Knot answers version.bind, id.server and hostname.bind with its version and host name; resolvx " +
				"discloses neither (issue 4: \"never the real version\") and refuses every non-IN class.",
			applies: isOdd("class CHAOS"),
			normalise: func(_ *env, q *query, _, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				return ruleReply(q, dns.RcodeRefused, true), ours
			},
		},
		{
			kind: "class ANY: REFUSED",
			rfc: `RFC 1035 §4.1.1: "Refused - The name server refuses to perform the specified operation for ` +
				`policy reasons."`,
			why: "Knot answers QCLASS * as IN, authoritatively; resolvx serves class IN only and refuses the " +
				"rest, so a QCLASS * reply never claims to hold every class.",
			applies: isOdd("class ANY"),
			normalise: func(_ *env, q *query, _, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				return ruleReply(q, dns.RcodeRefused, true), ours
			},
		},
		{
			kind: "AXFR and IXFR: REFUSED",
			rfc: `RFC 1035 §4.1.1: "Refused - ... a name server may not wish to perform a particular operation ` +
				`(e.g., zone transfer) for particular data."`,
			why: "Transfers are never served over UDP, and over TCP only to an address in the zone's ACL with " +
				"the zone's TSIG key: the corpus's unsigned requests are refused. Knot answers NOTAUTH (no ACL) " +
				"over TCP and for IXFR, NOTIMP for AXFR over UDP; NSD (a secondary) refuses too.",
			applies: isOdd("qtype AXFR", "qtype IXFR"),
			normalise: func(_ *env, q *query, _, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				return ruleReply(q, dns.RcodeRefused, true), ours
			},
		},
		{
			kind: "QTYPE 0, OPT, TSIG, TKEY: FORMERR",
			rfc: `RFC 6895 §3.1: "Meta-TYPEs designate transient data associated with a particular DNS ` +
				`message"; RFC 1035 §4.1.1: "Format error - The name server was unable to interpret the query."`,
			why: "A meta-RR (or the reserved type 0) cannot be asked for; Knot answers NODATA for OPT, TSIG and " +
				"TKEY and NOTIMP for type 0.",
			applies: isOdd("qtype 0", "qtype OPT", "qtype TSIG", "qtype TKEY"),
			normalise: func(_ *env, q *query, _, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				return ruleReply(q, dns.RcodeFormatError, true), ours
			},
		},
		{
			kind: "OPT with a non-root owner: FORMERR",
			rfc: `RFC 6891 §6.1.2: "NAME | domain name | MUST be 0 (root domain)"; RFC 1035 §4.1.1: "Format ` +
				`error - The name server was unable to interpret the query."`,
			why: "Knot ignores the malformed OPT and answers; resolvx refuses the malformed request (and, the " +
				"request's EDNS being unusable, adds no OPT).",
			applies: isOdd("OPT owner not root"),
			normalise: func(_ *env, q *query, _, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				return ruleReply(q, dns.RcodeFormatError, false), ours
			},
		},
		{
			kind: "NSD only: a CNAME to another zone is not followed there",
			rfc: `RFC 1034 §5.3.3 (the resolver): "If the data at the node is a CNAME, and QTYPE doesn't match ` +
				`CNAME, ... restart the query at the canonical name"; RFC 1034 §3.4.2 / RFC 2181 §10.1.1: the ` +
				`authoritative server answers for its zone, and the resolver completes the chain.`,
			why: "NSD follows a CNAME chain into any other zone it serves (NODATA with that zone's SOA, or its " +
				"answer); resolvx, like Knot, stops where the chain leaves the question's zone (the answer's CNAMEs, " +
				"then what the question's zone says about the target: nothing, or the referral of a cut). The " +
				"CNAMEs must be equal; NSD's reply after them is replaced by resolvx's.",
			normalise: func(e *env, _ *query, ref, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if e.ref != "nsd" || ref == nil || ours == nil || !cnameLeavesZone(e.view, ours) || len(ref.Answer) < len(ours.Answer) {
					return ref, ours
				}
				k := ref.Copy()
				k.Answer = k.Answer[:len(ours.Answer)]
				k.Rcode = ours.Rcode
				k.Ns = ours.Copy().Ns
				k.Extra = append(withoutOPT(ours.Copy().Extra), optOf(ref)...)
				return k, ours
			},
		},
		{
			kind: "NSD only: QTYPE RRSIG or NSEC at a CNAME is not chased",
			rfc: `RFC 4035 §2.5 / RFC 4034 §3 and §4: RRSIG and NSEC RRs exist beside a CNAME at its owner ` +
				`("the CNAME RR ... and its RRSIG and NSEC RRs"), so QTYPE RRSIG or NSEC matches the owner ` +
				`itself (RFC 2181 §10.1.1 as updated by RFC 4035): NODATA in an unsigned zone.`,
			why: "NSD treats RRSIG and NSEC like any other type and follows the CNAME (answering the chain, and " +
				"NXDOMAIN when it dangles); resolvx and Knot answer NODATA from the CNAME's owner.",
			applies: func(q *query) bool {
				return len(q.msg.Question) == 1 && (q.msg.Question[0].Qtype == dns.TypeRRSIG || q.msg.Question[0].Qtype == dns.TypeNSEC)
			},
			normalise: func(e *env, _ *query, ref, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if e.ref != "nsd" || ref == nil || ours == nil || len(ours.Answer) != 0 || len(ref.Answer) == 0 {
					return ref, ours
				}
				for _, rr := range ref.Answer {
					if rr.Header().Rrtype != dns.TypeCNAME {
						return ref, ours
					}
				}
				k := ref.Copy()
				k.Answer, k.Rcode, k.Ns = nil, ours.Rcode, ours.Copy().Ns
				k.Extra = append(withoutOPT(ours.Copy().Extra), optOf(ref)...)
				return k, ours
			},
		},
		{
			kind: "NSD only: optional additional RRsets left out",
			rfc: `RFC 2181 §9: "... some extra information could have been included, for which there was ` +
				`insufficient room. This includes the results of additional section processing."; RFC 1034 §3.7: ` +
				`the additional section "carries RRs which may be helpful in using the RRs in the other sections".`,
			why: "NSD runs with minimal-responses (otherwise it adds the apex NS RRset to the authority section of " +
				"every answer) and then sends fewer target addresses than resolvx. Checked: the replies differ only " +
				"in the additional section, and every RRset NSD sends is one resolvx sends.",
			normalise: func(e *env, _ *query, ref, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if e.ref != "nsd" || ref == nil || ours == nil {
					return ref, ours
				}
				k, r := render(lowered(ref)), render(lowered(ours))
				if k.header != r.header || k.question != r.question || k.opt != r.opt ||
					!slices.Equal(k.answer, r.answer) || !slices.Equal(k.authority, r.authority) {
					return ref, ours
				}
				for _, set := range k.additional {
					if !slices.Contains(r.additional, set) {
						return ref, ours
					}
				}
				c := ref.Copy()
				c.Extra = append(withoutOPT(ours.Copy().Extra), optOf(ref)...)
				return c, ours
			},
		},
		{
			kind: "NSD only: QTYPE ANY answered with another RRset",
			rfc: `RFC 8482 §4.1: "A DNS responder that receives an ANY query MAY decline to provide a conventional ` +
				`ANY response ... a responder can choose to return a subset of the RRsets that exist at the name."`,
			why: "Both servers answer ANY with one RRset of the name (RFC 8482), each its own choice: NSD the " +
				"first it stores (MX), resolvx its first by type. Checked: both answer NOERROR with RRsets owned by " +
				"the question name, and NSD's RRsets exist at that name.",
			applies: func(q *query) bool { return len(q.msg.Question) == 1 && q.msg.Question[0].Qtype == dns.TypeANY },
			normalise: func(e *env, q *query, ref, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if e.ref != "nsd" || ref == nil || ours == nil || ref.Rcode != dns.RcodeSuccess || ours.Rcode != dns.RcodeSuccess ||
					len(ref.Answer) == 0 || len(ours.Answer) == 0 {
					return ref, ours
				}
				qname := strings.ToLower(q.msg.Question[0].Name)
				z := e.view.FindZone(qname)
				if z == nil {
					return ref, ours
				}
				node := z.Node(qname)
				for _, rr := range ref.Answer {
					if !strings.EqualFold(rr.Header().Name, qname) || node == nil || node.RRset(rr.Header().Rrtype) == nil {
						return ref, ours
					}
				}
				k := ref.Copy()
				k.Answer = ours.Copy().Answer
				k.Extra = append(withoutOPT(ours.Copy().Extra), optOf(ref)...)
				return k, ours
			},
		},
		{
			kind: "NSD only: no question in a refusal of an odd request",
			rfc: `RFC 1035 §4.1.1 defines NOTIMP, REFUSED and FORMERR by the header alone; RFC 1035 §4.1.2 ` +
				`("the question for the name server") does not require a reply that rejects the request to repeat it.`,
			why: "NSD answers an opcode it does not implement, a class it does not serve and two OPT records with " +
				"the header only (QDCOUNT 0); resolvx and Knot copy the question. Checked: same rcode, NSD's reply " +
				"has no question.",
			applies: func(q *query) bool { return q.odd != "" },
			normalise: func(e *env, _ *query, ref, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if e.ref != "nsd" || ref == nil || ours == nil || len(ref.Question) != 0 || ref.Rcode != ours.Rcode ||
					(ref.Rcode != dns.RcodeNotImplemented && ref.Rcode != dns.RcodeRefused && ref.Rcode != dns.RcodeFormatError) {
					return ref, ours
				}
				k := ref.Copy()
				k.Question = ours.Copy().Question
				return k, ours
			},
		},
		{
			kind:    "NSD only: QDCOUNT 0 over TCP: no reply",
			rfc:     `RFC 9619 §4 / RFC 1035 §4.1.1: "Format error - The name server was unable to interpret the query."`,
			why:     "NSD closes the TCP connection on a query without a question; resolvx answers FORMERR (over UDP NSD does too).",
			applies: isOdd("QDCOUNT 0"),
			normalise: func(e *env, q *query, ref, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				if e.ref != "nsd" || ref != nil || !q.tcp {
					return ref, ours
				}
				m := ruleReply(q, dns.RcodeFormatError, true)
				m.Question = nil
				return m, ours
			},
		},
		{
			kind: "QDCOUNT > 1: FORMERR",
			rfc: `RFC 9619 §4: "A DNS message with OPCODE = 0 and QDCOUNT > 1 MUST be treated as an incorrectly ` +
				`formatted message. The value of the RCODE parameter in the response message MUST be set to 1 (FORMERR)."`,
			why:     "Knot 3.2 sends no reply at all (it closes a TCP connection); resolvx answers FORMERR as RFC 9619 requires.",
			applies: isOdd("QDCOUNT 2"),
			normalise: func(_ *env, q *query, _, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
				m := ruleReply(q, dns.RcodeFormatError, true)
				m.Question = nil // a reply cannot pick one of two questions
				return m, ours
			},
		},
	}
}

// cnameLeavesZone reports whether m's answer ends with a CNAME whose target
// lies in another zone than the question's, or below one of its cuts.
func cnameLeavesZone(v *zone.View, m *dns.Msg) bool {
	if len(m.Answer) == 0 || len(m.Question) != 1 {
		return false
	}
	cn, ok := m.Answer[len(m.Answer)-1].(*dns.CNAME)
	if !ok {
		return false
	}
	qz, tz := v.FindZone(m.Question[0].Name), v.FindZone(cn.Target)
	if qz == nil || tz == nil || qz != tz {
		return qz != nil
	}
	return qz.Lookup(strings.ToLower(cn.Target)).Kind == zone.Delegation
}

// optOf returns m's OPT record as a one-element slice, or nil.
func optOf(m *dns.Msg) []dns.RR {
	if o := m.IsEdns0(); o != nil {
		return []dns.RR{o}
	}
	return nil
}

// ruleReply is the reply resolvx's rules prescribe for a refused request:
// the header and question echoed, rcode set, no data, AA clear, and an OPT
// record (payload 1232, DO echoed) when the request had one and withOPT.
func ruleReply(q *query, rcode int, withOPT bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q.msg, rcode)
	// RFC 1035 §4.1.1: RD "is copied into the response" (miekg/dns copies
	// RD and CD for opcode QUERY only).
	m.RecursionDesired = q.msg.RecursionDesired
	m.CheckingDisabled = q.msg.CheckingDisabled
	if o := q.msg.IsEdns0(); o != nil && withOPT {
		m.SetEdns0(1232, o.Do())
	}
	return m
}

// additionalThatFits brings Knot's additional section to resolvx's when the
// replies differ only there, over UDP, and resolvx's choice is what its
// size limit allows (see the table entry).
func additionalThatFits(e *env, q *query, knot, ours *dns.Msg) (*dns.Msg, *dns.Msg) {
	if q.tcp || knot == nil || ours == nil || len(q.msg.Question) != 1 {
		return knot, ours
	}
	k, r := render(lowered(knot)), render(lowered(ours))
	if k.header != r.header || k.question != r.question || k.opt != r.opt ||
		!slices.Equal(k.answer, r.answer) || !slices.Equal(k.authority, r.authority) ||
		slices.Equal(k.additional, r.additional) {
		return knot, ours
	}
	full := dnsserver.Answer(dnsserver.Data{Zones: e.view}, q.msg, dnsserver.Query{TCP: true})
	if full == nil {
		return knot, ours
	}
	fullSets := rrsets(withoutOPT(lowered(full).Extra), false)
	for _, s := range append(slices.Clone(k.additional), r.additional...) {
		if !slices.Contains(fullSets, s) {
			return knot, ours // not an optional RRset resolvx would send
		}
	}
	limit := 512
	if o := q.msg.IsEdns0(); o != nil {
		limit = min(max(int(o.UDPSize()), 512), 1232)
	}
	for _, set := range groupRRsets(withoutOPT(full.Extra)) {
		if slices.Contains(r.additional, rrsets(withoutOPT(lowered(&dns.Msg{Extra: set}).Extra), false)[0]) {
			continue
		}
		// resolvx left this RRset out: it must not fit its reply.
		trial := ours.Copy()
		opt := trial.IsEdns0()
		trial.Extra = append(withoutOPT(trial.Extra), set...)
		if opt != nil {
			trial.Extra = append(trial.Extra, opt)
		}
		trial.Compress = true
		if trial.Len() <= limit {
			return knot, ours
		}
	}
	k2 := knot.Copy()
	opt := k2.IsEdns0()
	k2.Extra = withoutOPT(ours.Copy().Extra)
	if opt != nil {
		k2.Extra = append(k2.Extra, opt)
	}
	return k2, ours
}

// lowered returns a copy of m with every name in its sections in lower case.
func lowered(m *dns.Msg) *dns.Msg {
	c := m.Copy()
	lowerNames(c)
	return c
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// groupRRsets splits rrs into runs of one owner and type, in order.
func groupRRsets(rrs []dns.RR) [][]dns.RR {
	var out [][]dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		if n := len(out); n > 0 {
			last := out[n-1][0].Header()
			if strings.EqualFold(last.Name, h.Name) && last.Rrtype == h.Rrtype {
				out[n-1] = append(out[n-1], rr)
				continue
			}
		}
		out = append(out, []dns.RR{rr})
	}
	return out
}

// withoutDuplicates returns rrs without the records equal (owner, class,
// type, TTL and data) to an earlier one.
func withoutDuplicates(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		dup := false
		for _, seen := range out {
			if seen.Header().Ttl == rr.Header().Ttl && dns.IsDuplicate(seen, rr) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, rr)
		}
	}
	return out
}

// lowerNames lowers the case of every name in m's sections (not the
// question): owners and the names inside RDATA.
func lowerNames(m *dns.Msg) {
	if m == nil {
		return
	}
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			h := rr.Header()
			h.Name = strings.ToLower(h.Name)
			switch x := rr.(type) {
			case *dns.NS:
				x.Ns = strings.ToLower(x.Ns)
			case *dns.CNAME:
				x.Target = strings.ToLower(x.Target)
			case *dns.PTR:
				x.Ptr = strings.ToLower(x.Ptr)
			case *dns.MX:
				x.Mx = strings.ToLower(x.Mx)
			case *dns.SRV:
				x.Target = strings.ToLower(x.Target)
			case *dns.SOA:
				x.Ns, x.Mbox = strings.ToLower(x.Ns), strings.ToLower(x.Mbox)
			case *dns.NAPTR:
				x.Replacement = strings.ToLower(x.Replacement)
			case *dns.SVCB:
				x.Target = strings.ToLower(x.Target)
			case *dns.HTTPS:
				x.Target = strings.ToLower(x.Target)
			}
		}
	}
}
