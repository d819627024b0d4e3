package dnsserver

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// Zone transfers out (AXFR, RFC 5936; IXFR, RFC 1995) over TCP, from the
// node's own applied View: any node serves them. UDP transfer requests never
// get here (Answer refuses them).

const (
	// transferMsgBytes is where a transfer message is cut; a message may
	// reach 65535 octets, smaller ones keep memory and latency low.
	transferMsgBytes = 16 << 10
	// tsigFudge is the TSIG time window of signed transfer messages
	// (RFC 8945 §10 recommends 300 s).
	tsigFudge = 300
)

// isTransfer reports whether req asks for a zone transfer that the
// transfer path answers: one IN question of type AXFR or IXFR, opcode QUERY.
func isTransfer(req *dns.Msg) bool {
	if req.Response || req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		return false
	}
	qn := req.Question[0]
	return qn.Qclass == dns.ClassINET && (qn.Qtype == dns.TypeAXFR || qn.Qtype == dns.TypeIXFR)
}

// transferRefusal decides whether the request may transfer z. It returns
// RcodeSuccess, REFUSED (zone unknown, address not listed, signature
// missing) or NOTAUTH (a signature that does not verify or names another
// key, RFC 8945 §5.2). TSIG status is checked only with IsTsig set: miekg/dns
// leaves TsigStatus nil for unsigned messages.
func transferRefusal(z *zone.Zone, req *dns.Msg, q Query, tsigStatus error) int {
	if z == nil || !z.TransferAllowedFrom(q.Client) {
		return dns.RcodeRefused
	}
	ts := req.IsTsig()
	if ts != nil && tsigStatus != nil {
		return dns.RcodeNotAuth
	}
	want := z.Transfer().TSIGKey
	switch {
	case want == "":
		return dns.RcodeSuccess
	case ts == nil:
		return dns.RcodeRefused
	case !strings.EqualFold(dns.CanonicalName(ts.Hdr.Name), want):
		return dns.RcodeNotAuth
	}
	return dns.RcodeSuccess
}

// transferRRs returns the RRs of the reply to an AXFR or IXFR request for
// z: the full zone between two SOAs, or (IXFR, serial remembered) the
// current SOA, each change's old SOA, deletions, new SOA, additions, and
// the current SOA (RFC 1995 §4); a secondary that is current gets the SOA
// alone. An unknown serial falls back to the full zone (RFC 1995 §4).
func transferRRs(z *zone.Zone, req *dns.Msg) ([]dns.RR, string) {
	soa := z.SOA()
	kind := "axfr"
	if req.Question[0].Qtype == dns.TypeIXFR {
		kind = "ixfr_full"
		if serial, ok := ixfrSerial(req); ok {
			if int32(serial-z.Serial()) > 0 {
				// RFC 1995 §2: a secondary at a newer version (RFC 1982
				// arithmetic) gets the current SOA alone.
				return []dns.RR{soa}, "ixfr_current"
			}
			if deltas, ok := z.ChangesSince(serial); ok {
				if len(deltas) == 0 {
					return []dns.RR{soa}, "ixfr_current"
				}
				out := []dns.RR{soa}
				for _, d := range deltas {
					out = append(out, d.From)
					out = append(out, d.Deleted...)
					out = append(out, d.To)
					out = append(out, d.Added...)
				}
				return append(out, soa), "ixfr"
			}
		}
	}
	rrs := z.RRs()
	out := make([]dns.RR, 0, len(rrs)+2)
	out = append(out, soa)
	out = append(out, rrs...)
	return append(out, soa), kind
}

// ixfrSerial reads the secondary's serial from the SOA in the authority
// section of an IXFR request.
func ixfrSerial(req *dns.Msg) (uint32, bool) {
	for _, rr := range req.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			return s.Serial, true
		}
	}
	return 0, false
}

// tsigError is the TSIG RR of a NOTAUTH reply (RFC 8945 §5.2): BADTIME
// for a signature outside its time window (the reply is signed), BADSIG for
// one that does not verify, BADKEY for an unknown key or one the zone does
// not name (those two go unsigned: miekg/dns signs neither, §5.3.2).
func tsigError(req *dns.Msg, ts *dns.TSIG, status error) *dns.TSIG {
	code := uint16(dns.RcodeBadKey)
	switch status {
	case dns.ErrTime:
		code = dns.RcodeBadTime
	case dns.ErrSig:
		code = dns.RcodeBadSig
	}
	return &dns.TSIG{
		Hdr:        dns.RR_Header{Name: ts.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  ts.Algorithm,
		Fudge:      tsigFudge,
		TimeSigned: uint64(time.Now().Unix()),
		OrigId:     req.Id,
		Error:      code,
	}
}

// serveTransfer answers a transfer request over TCP: refused, or the
// transfer in as many messages as it needs, each signed with the request's
// key when the request was signed.
func (s *Server) serveTransfer(w dns.ResponseWriter, req *dns.Msg, q Query) {
	v := s.src.Data().Zones
	var z *zone.Zone
	if v != nil {
		z = v.Zone(req.Question[0].Name)
	}
	ts := req.IsTsig()
	var status error
	if ts != nil {
		status = w.TsigStatus()
	}
	if rcode := transferRefusal(z, req, q, status); rcode != dns.RcodeSuccess {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		s.met.transfer(strings.ToLower(dns.RcodeToString[rcode]))
		if rcode == dns.RcodeNotAuth && ts != nil {
			m.Extra = []dns.RR{tsigError(req, ts, status)}
		}
		s.log.Debug("zone transfer refused", "client", q.Client, "question", questionOf(req), "rcode", dns.RcodeToString[rcode], "tsig", ts != nil)
		s.met.reply(q.TCP, m)
		_ = w.WriteMsg(m)
		return
	}
	rrs, kind := transferRRs(z, req)
	s.met.transfer(kind)
	s.log.Debug("zone transfer", "client", q.Client, "question", questionOf(req), "kind", kind, "serial", z.Serial(), "rrs", len(rrs))
	for first := true; len(rrs) > 0 || first; first = false {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Compress = true
		size := 12 + dns.Len(&dns.ANY{Hdr: dns.RR_Header{Name: req.Question[0].Name}}) // header + question, roughly
		n := 0
		for n < len(rrs) && (n == 0 || size+dns.Len(rrs[n]) <= transferMsgBytes) {
			size += dns.Len(rrs[n])
			n++
		}
		m.Answer, rrs = rrs[:n], rrs[n:]
		if ts != nil {
			m.SetTsig(ts.Hdr.Name, ts.Algorithm, tsigFudge, time.Now().Unix())
		}
		if first {
			s.met.reply(q.TCP, m)
		}
		if err := w.WriteMsg(m); err != nil {
			s.log.Debug("zone transfer write failed", "client", q.Client, "err", err)
			return
		}
		w.TsigTimersOnly(true)
	}
}
