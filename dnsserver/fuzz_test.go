package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswer feeds arbitrary messages to Answer. Invariants: Answer never
// panics; it replies to every query (QR=0) and to nothing else; the reply
// carries the request's ID, packs, and fits the transport's limit.
// The seed corpus is every request of the table test plus
// testdata/fuzz/FuzzAnswer.
func FuzzAnswer(f *testing.F) {
	v := testView(f)
	for _, c := range answerCases() {
		req := query(c.Qname, c.Qtype)
		if c.EDNS > 0 {
			req.SetEdns0(c.EDNS, c.DO)
		}
		if c.Mutate != nil {
			c.Mutate(req)
		}
		if wire, err := req.Pack(); err == nil {
			f.Add(wire)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil {
			return // the listener answers these itself (FORMERR) or drops them
		}
		for _, tcp := range []bool{false, true} {
			m := Answer(v, req, Query{TCP: tcp})
			if req.Response {
				if m != nil {
					t.Fatalf("a response was answered:\n%v", m)
				}
				continue
			}
			if m == nil {
				t.Fatalf("no reply to\n%v", req)
			}
			if m.Id != req.Id || !m.Response {
				t.Fatalf("reply header: id %d (want %d), QR %v", m.Id, req.Id, m.Response)
			}
			wire, err := m.Pack()
			if err != nil {
				t.Fatalf("reply does not pack: %v\nrequest:\n%v\nreply:\n%v", err, req, m)
			}
			limit := maxTCPPayload
			if !tcp {
				limit = minUDPPayload
				if e, ok := readEDNS(req); ok {
					limit = e.udpLimit()
				}
			}
			if len(wire) > limit {
				t.Fatalf("reply is %d bytes, limit %d (tcp %v)", len(wire), limit, tcp)
			}
		}
	})
}
