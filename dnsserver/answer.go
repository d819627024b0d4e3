package dnsserver

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// Query is what the transport knows about a request besides its content.
type Query struct {
	// Client is the requester's address (for GTM policies, later).
	Client netip.Addr
	// TCP is true for a request that came over TCP: the reply may be up to
	// 65535 bytes.
	TCP bool
}

// Answer returns the reply to req from the zones in v, or nil when nothing
// must be sent (req is itself a response). It is a pure function: no I/O, no
// clock, no randomness. The reply shares RRs with v and its Question with
// req; treat it as read-only. m.Compress is always set. The package
// documentation lists the rules it follows.
func Answer(v *zone.View, req *dns.Msg, q Query) *dns.Msg {
	if req == nil || req.Response {
		return nil
	}
	rep := newReply()
	m := &rep.msg
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	m.RecursionDesired = req.RecursionDesired
	m.CheckingDisabled = req.CheckingDisabled
	if len(req.Question) == 1 {
		// Sharing keeps the client's spelling of the name and saves a copy.
		m.Question = req.Question[:1:1]
	}

	e, ok := readEDNS(req)
	if !ok {
		m.Rcode = dns.RcodeFormatError
		return rep.finish(edns{}, q, 0)
	}
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return rep.finish(e, q, 0)
	}
	qn := req.Question[0]
	if rcode := check(req, e, qn); rcode != dns.RcodeSuccess {
		m.Rcode = rcode
		return rep.finish(e, q, 0)
	}
	if v == nil {
		m.Rcode = dns.RcodeServerFailure
		return rep.finish(e, q, 0)
	}
	z := v.FindZone(qn.Name)
	if z == nil {
		// RFC 8914 §4.21: an authoritative server SHOULD say why it
		// refuses a name it is not authoritative for.
		m.Rcode = dns.RcodeRefused
		rep.ede, rep.hasEDE = dns.ExtendedErrorCodeNotAuthoritative, true
		return rep.finish(e, q, 0)
	}
	if qn.Qtype == dns.TypeDS && strings.EqualFold(z.Name(), qn.Name) {
		// The DS RRset of a zone lives in its parent (RFC 4035 §3.1.4.1).
		if p := zone.ParentName(z.Name()); p != "" {
			if pz := v.FindZone(p); pz != nil {
				z = pz
			}
		}
	}
	r := resolution{zone: z, qtype: qn.Qtype, msg: m}
	r.resolve(qn.Name)
	return rep.finish(e, q, r.glue)
}

// check applies the rules that need no zone data and returns the rcode that
// refuses the request, or RcodeSuccess.
func check(req *dns.Msg, e edns, qn dns.Question) int {
	switch {
	case e.present && e.version > 0:
		return dns.RcodeBadVers
	case req.Opcode != dns.OpcodeQuery:
		return dns.RcodeNotImplemented
	case qn.Qclass == 0:
		// Class 0 is reserved (RFC 6895 §3.2), and it is what miekg/dns
		// unpacks from a question cut short after its type.
		return dns.RcodeFormatError
	case qn.Qclass != dns.ClassINET:
		return dns.RcodeRefused
	case !dns.IsFqdn(qn.Name):
		return dns.RcodeFormatError
	}
	switch qn.Qtype {
	case dns.TypeNone, dns.TypeOPT, dns.TypeTKEY, dns.TypeTSIG:
		// Meta-RRs that only travel in the additional section (RFC 6895 §3.1).
		return dns.RcodeFormatError
	case dns.TypeAXFR, dns.TypeIXFR:
		// Zone transfers are served over TCP only, by the server's
		// transfer path (transfer.go), which Answer never sees.
		return dns.RcodeRefused
	}
	return dns.RcodeSuccess
}

// reply is a reply message with room for the common case (a small RRset,
// one SOA, the OPT record), so that answering allocates once, not once per
// section.
type reply struct {
	msg    dns.Msg
	opt    dns.OPT
	answer [4]dns.RR
	ns     [1]dns.RR
	extra  [3]dns.RR
	// ede is the Extended DNS Error (RFC 8914) the OPT record carries
	// when hasEDE is set.
	ede    uint16
	hasEDE bool
}

func newReply() *reply {
	r := new(reply)
	r.msg.Compress = true
	r.msg.Answer, r.msg.Ns, r.msg.Extra = r.answer[:0], r.ns[:0], r.extra[:0]
	return r
}

// finish adds the OPT record when the request had one and makes the reply
// fit the transport's size limit. glue is the number of records at the start
// of the additional section that must not be dropped (mandatory glue).
func (r *reply) finish(e edns, q Query, glue int) *dns.Msg {
	m := &r.msg
	if e.present {
		e.setOPT(&r.opt)
		if r.hasEDE {
			r.opt.Option = []dns.EDNS0{&dns.EDNS0_EDE{InfoCode: r.ede}}
		}
		m.Extra = append(m.Extra, &r.opt)
	}
	limit := maxTCPPayload
	if !q.TCP {
		limit = e.udpLimit()
	}
	fit(m, limit, glue)
	return m
}
