package dnsserver

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// Query is what the transport knows about a request besides its content.
type Query struct {
	// Client is the requester's address: it keys the choices of GTM
	// policies, and places the client for geographic ones, when the
	// request has no EDNS Client Subnet.
	Client netip.Addr
	// TCP is true for a request that came over TCP: the reply may be up to
	// 65535 bytes.
	TCP bool
}

// Answer returns the reply to req from the zones and policies in d, or nil
// when nothing must be sent (req is itself a response). It is a pure
// function of d, req and q: no I/O, no clock, no randomness (d.Geo must be
// a pure lookup too). The reply shares RRs with d and its Question and
// Client Subnet address with req; treat it as read-only. m.Compress is
// always set. The package documentation lists the rules it follows.
func Answer(d Data, req *dns.Msg, q Query) *dns.Msg {
	return answer(d, req, q, nil)
}

// answer is Answer, also telling tr (when not nil) which policy answered
// and how: Explain's view of the same code path.
func answer(d Data, req *dns.Msg, q Query, tr *trace) *dns.Msg {
	if req == nil || req.Response {
		return nil
	}
	e, ok := readEDNS(req)
	rep := newReply(ok && e.ecs.present())
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
	if e.ecs.bad {
		// RFC 7871 §7.1.2: a malformed Client Subnet option is FORMERR.
		m.Rcode = dns.RcodeFormatError
		return rep.finish(e, q, 0)
	}
	v := d.Zones
	if v == nil {
		m.Rcode = dns.RcodeServerFailure
		return rep.finish(e, q, 0)
	}
	z := v.FindZone(qn.Name)
	if z == nil {
		// RFC 8914 §4.21: an authoritative server SHOULD say why it
		// refuses a name it is not authoritative for.
		m.Rcode = dns.RcodeRefused
		rep.edeCode, rep.hasEDE = dns.ExtendedErrorCodeNotAuthoritative, true
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
	r := resolution{zone: z, qtype: qn.Qtype, msg: m, pol: newPolicyQuery(d, req, q, e.ecs, tr)}
	r.resolve(qn.Name)
	rep.scope = uint8(r.pol.scope())
	if tr != nil {
		tr.loc, tr.scope = r.pol.location(), int(rep.scope)
	}
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
// section. A reply to a request with a Client Subnet option is allocated
// with room for the echoed option too (replyECS), so that only those
// replies pay for it.
type reply struct {
	msg    dns.Msg
	opt    dns.OPT
	answer [4]dns.RR
	ns     [1]dns.RR
	extra  [3]dns.RR
	// edeCode is the Extended DNS Error (RFC 8914) the OPT record carries
	// when hasEDE is set.
	edeCode uint16
	hasEDE  bool
	// scope is the ECS SCOPE PREFIX-LENGTH the reply echoes (RFC 7871).
	scope uint8
	ecs   *ecsRoom // set when the request has a well-formed ECS option
}

// ecsRoom holds the OPT options of a reply that echoes Client Subnet.
type ecsRoom struct {
	opts   [2]dns.EDNS0
	subnet dns.EDNS0_SUBNET
}

type replyECS struct {
	reply
	room ecsRoom
}

func newReply(withECS bool) *reply {
	var r *reply
	if withECS {
		x := new(replyECS)
		r = &x.reply
		r.ecs = &x.room
	} else {
		r = new(reply)
	}
	r.msg.Compress = true
	r.msg.Answer, r.msg.Ns, r.msg.Extra = r.answer[:0], r.ns[:0], r.extra[:0]
	return r
}

// finish adds the OPT record when the request had one and makes the reply
// fit the transport's size limit. glue is the number of records at the start
// of the additional section that must not be dropped (mandatory glue).
func (r *reply) finish(e edns, q Query, glue int) *dns.Msg {
	m := &r.msg
	limit := maxTCPPayload
	if !q.TCP {
		limit = e.udpLimit()
	}
	// The OPT's options are sized here and attached after fit: miekg/dns
	// sizes an option by packing it, which allocates.
	var opts []dns.EDNS0
	if e.present {
		e.setOPT(&r.opt)
		if r.ecs != nil {
			opts = r.ecs.opts[:0]
		}
		if r.hasEDE {
			ede := &dns.EDNS0_EDE{InfoCode: r.edeCode}
			opts = append(opts, ede)
			limit -= 4 + 2 + len(ede.ExtraText) // RFC 8914 §2
		}
		if r.ecs != nil && e.ecs.present() {
			e.ecs.echo(&r.ecs.subnet, int(r.scope))
			opts = append(opts, &r.ecs.subnet)
			limit -= 4 + 4 + (int(r.ecs.subnet.SourceNetmask)+7)/8 // RFC 7871 §6
		}
		m.Extra = append(m.Extra, &r.opt)
	}
	fit(m, limit, glue)
	if len(opts) > 0 {
		r.opt.Option = opts
	}
	return m
}
