package dnsserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Case is one request and the reply Answer must give. RRs are written in
// zone-file syntax; OPT is checked apart from Extra.
type Case struct {
	Name   string // what the case shows; defaults to "qname qtype"
	Qname  string
	Qtype  uint16
	TCP    bool
	EDNS   uint16                // the requester's UDP size; 0 sends no OPT
	DO     bool                  // with EDNS: the DO bit
	Mutate func(*dns.Msg)        // edits the request before Answer
	Check  func(*dns.Msg) string // extra checks; returns a problem or ""

	NoReply bool // Answer must return nil
	Rcode   int
	AA      bool
	TC      bool
	NoOPT   bool   // an EDNS request whose reply has no OPT (malformed EDNS)
	EDE     uint16 // the Extended DNS Error code the reply's OPT carries; 0 for none
	// ECSOut is the Client Subnet option the reply's OPT must echo, as
	// miekg/dns prints it ("198.51.100.0/24/16": address/source/scope);
	// "" for none.
	ECSOut string
	Answer []string
	Ns     []string
	Extra  []string
}

const (
	soa    = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2 3600 600 1209600 300"
	www1   = "www.example.com. 300 IN A 192.0.2.1"
	www2   = "www.example.com. 300 IN A 192.0.2.2"
	www6   = "www.example.com. 300 IN AAAA 2001:db8::1"
	nsSub1 = "sub.example.com. 300 IN NS ns.sub.example.com."
	nsSub2 = "sub.example.com. 300 IN NS ns1.example.com."
	nsSub3 = "sub.example.com. 300 IN NS ns.other.net."
	glue4  = "ns.sub.example.com. 300 IN A 192.0.2.77"
	glue6  = "ns.sub.example.com. 300 IN AAAA 2001:db8::77"
	ns1A   = "ns1.example.com. 300 IN A 192.0.2.53"
)

func answerCases() []Case {
	bigTXT := func(tc bool) func(*dns.Msg) string {
		return func(m *dns.Msg) string {
			if tc && (len(m.Answer) != 0 || len(m.Ns) != 0) {
				return "a truncated reply must drop answer and authority"
			}
			if !tc && len(m.Answer) != 40 {
				return fmt.Sprintf("want 40 TXT over TCP, got %d", len(m.Answer))
			}
			return ""
		}
	}
	midTXT := func(m *dns.Msg) string {
		if len(m.Answer) != 20 {
			return fmt.Sprintf("want 20 TXT, got %d", len(m.Answer))
		}
		return ""
	}
	return []Case{
		// Apex and plain types.
		{Qname: "example.com.", Qtype: dns.TypeSOA, AA: true, Answer: []string{
			"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2 3600 600 1209600 300"}},
		{Name: "apex NS with glue", Qname: "example.com.", Qtype: dns.TypeNS, AA: true,
			Answer: []string{"example.com. 300 IN NS ns1.example.com.", "example.com. 300 IN NS ns2.example.com."},
			Extra:  []string{ns1A, "ns2.example.com. 300 IN AAAA 2001:db8::53"}},
		{Name: "MX with additional", Qname: "example.com.", Qtype: dns.TypeMX, AA: true,
			Answer: []string{"example.com. 300 IN MX 10 mail.example.com."},
			Extra:  []string{"mail.example.com. 300 IN A 192.0.2.25", "mail.example.com. 300 IN AAAA 2001:db8::25"}},
		{Qname: "example.com.", Qtype: dns.TypeTXT, AA: true, Answer: []string{`example.com. 300 IN TXT "v=spf1 -all"`}},
		{Qname: "example.com.", Qtype: dns.TypeCAA, AA: true, Answer: []string{`example.com. 300 IN CAA 0 issue "ca.example.net"`}},
		{Qname: "www.example.com.", Qtype: dns.TypeA, AA: true, Answer: []string{www1, www2}},
		{Qname: "www.example.com.", Qtype: dns.TypeAAAA, AA: true, Answer: []string{www6}},
		{Name: "SRV with additional", Qname: "_sip._tcp.example.com.", Qtype: dns.TypeSRV, AA: true,
			Answer: []string{"_sip._tcp.example.com. 300 IN SRV 10 5 5060 sip.example.com."},
			Extra:  []string{"sip.example.com. 300 IN A 192.0.2.60"}},
		{Qname: "ptr.example.com.", Qtype: dns.TypePTR, AA: true, Answer: []string{"ptr.example.com. 300 IN PTR www.example.com."}},
		{Name: "HTTPS with the target's addresses (RFC 9460 §4.1, as Knot)", Qname: "svc.example.com.", Qtype: dns.TypeHTTPS, AA: true,
			Answer: []string{`svc.example.com. 300 IN HTTPS 1 www.example.com. alpn="h2"`}, Extra: []string{www1, www2, www6}},
		{Name: "SVCB with target \".\": no additional, as Knot", Qname: "svcdot.example.com.", Qtype: dns.TypeSVCB, AA: true,
			Answer: []string{`svcdot.example.com. 300 IN SVCB 1 . port="853"`}},

		// Negative answers.
		{Name: "NXDOMAIN", Qname: "nope.example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, AA: true, Ns: []string{soa}},
		{Name: "NODATA", Qname: "www.example.com.", Qtype: dns.TypeMX, AA: true, Ns: []string{soa}},
		{Name: "empty non-terminal is NODATA", Qname: "b.c.example.com.", Qtype: dns.TypeTXT, AA: true, Ns: []string{soa}},
		{Name: "empty non-terminal two up", Qname: "c.example.com.", Qtype: dns.TypeA, AA: true, Ns: []string{soa}},
		{Name: "below an ENT", Qname: "x.c.example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, AA: true, Ns: []string{soa}},
		{Qname: "a.b.c.example.com.", Qtype: dns.TypeTXT, AA: true, Answer: []string{`a.b.c.example.com. 300 IN TXT "deep"`}},

		// Wildcards.
		{Name: "wildcard", Qname: "foo.wild.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"foo.wild.example.com. 300 IN A 192.0.2.9"}},
		{Name: "wildcard, two labels", Qname: "a.b.wild.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"a.b.wild.example.com. 300 IN A 192.0.2.9"}},
		{Name: "wildcard NODATA", Qname: "foo.wild.example.com.", Qtype: dns.TypeTXT, AA: true, Ns: []string{soa}},
		{Name: "wildcard parent is an ENT", Qname: "wild.example.com.", Qtype: dns.TypeA, AA: true, Ns: []string{soa}},
		{Name: "wildcard keeps the query's case", Qname: "FOO.Wild.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"FOO.Wild.example.com. 300 IN A 192.0.2.9"}},
		{Name: "wildcard CNAME", Qname: "x.wc.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"x.wc.example.com. 300 IN CNAME www.example.com.", www1, www2}},
		{Name: "wildcard CNAME loop ends", Qname: "a.wl.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"a.wl.example.com. 300 IN CNAME x.wl.example.com.", "x.wl.example.com. 300 IN CNAME x.wl.example.com."}},

		// CNAMEs.
		{Name: "CNAME", Qname: "alias.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"alias.example.com. 300 IN CNAME www.example.com.", www1, www2}},
		{Name: "CNAME chain", Qname: "chain1.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"chain1.example.com. 300 IN CNAME chain2.example.com.", "chain2.example.com. 300 IN CNAME www.example.com.", www1, www2}},
		{Name: "CNAME then NODATA", Qname: "alias.example.com.", Qtype: dns.TypeTXT, AA: true,
			Answer: []string{"alias.example.com. 300 IN CNAME www.example.com."}, Ns: []string{soa}},
		{Name: "CNAME to nothing: NXDOMAIN of the last name (RFC 6604)", Qname: "dangling.example.com.", Qtype: dns.TypeA,
			Rcode: dns.RcodeNameError, AA: true,
			Answer: []string{"dangling.example.com. 300 IN CNAME nothere.example.com."}, Ns: []string{soa}},
		{Name: "CNAME leaving the zone is not followed, even to a zone we serve", Qname: "out.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"out.example.com. 300 IN CNAME www.example.org."}},
		{Name: "CNAME loop", Qname: "loop1.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"loop1.example.com. 300 IN CNAME loop2.example.com.", "loop2.example.com. 300 IN CNAME loop1.example.com."}},
		{Name: "qtype RRSIG at a CNAME is not followed (Knot)", Qname: "alias.example.com.", Qtype: dns.TypeRRSIG, AA: true, Ns: []string{soa}},
		{Name: "qtype NSEC at a wildcard CNAME is not followed", Qname: "x.wc.example.com.", Qtype: dns.TypeNSEC, AA: true, Ns: []string{soa}},
		{Name: "qtype CNAME", Qname: "alias.example.com.", Qtype: dns.TypeCNAME, AA: true,
			Answer: []string{"alias.example.com. 300 IN CNAME www.example.com."}},
		{Name: "ANY at a CNAME", Qname: "alias.example.com.", Qtype: dns.TypeANY, AA: true,
			Answer: []string{"alias.example.com. 300 IN CNAME www.example.com."}},
		{Name: "CNAME into a delegation: referral, AA kept", Qname: "tocut.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"tocut.example.com. 300 IN CNAME host.sub.example.com."},
			Ns:     []string{nsSub1, nsSub2, nsSub3}, Extra: []string{glue4, glue6, ns1A}},

		// Delegations.
		{Name: "referral", Qname: "host.sub.example.com.", Qtype: dns.TypeA,
			Ns: []string{nsSub1, nsSub2, nsSub3}, Extra: []string{glue4, glue6, ns1A}},
		{Name: "referral at the cut", Qname: "sub.example.com.", Qtype: dns.TypeNS,
			Ns: []string{nsSub1, nsSub2, nsSub3}, Extra: []string{glue4, glue6, ns1A}},
		{Name: "referral for glue itself", Qname: "ns.sub.example.com.", Qtype: dns.TypeA,
			Ns: []string{nsSub1, nsSub2, nsSub3}, Extra: []string{glue4, glue6, ns1A}},
		{Name: "DS at the cut from the parent", Qname: "sub.example.com.", Qtype: dns.TypeDS, AA: true,
			Answer: []string{"sub.example.com. 300 IN DS 12345 13 2 " + dsDigest}},
		{Name: "DS at a cut without DS: NODATA", Qname: "nods.example.com.", Qtype: dns.TypeDS, AA: true, Ns: []string{soa}},
		{Name: "DS below the cut: referral", Qname: "x.sub.example.com.", Qtype: dns.TypeDS,
			Ns: []string{nsSub1, nsSub2, nsSub3}, Extra: []string{glue4, glue6, ns1A}},
		{Name: "DS for a child zone apex comes from the parent zone", Qname: "child.example.com.", Qtype: dns.TypeDS, AA: true,
			Answer: []string{"child.example.com. 300 IN DS 54321 13 2 " + dsDigest}},
		{Name: "the child zone answers below its apex", Qname: "www.child.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"www.child.example.com. 300 IN A 203.0.113.1"}},
		{Name: "DS at a top zone apex: NODATA", Qname: "example.com.", Qtype: dns.TypeDS, AA: true, Ns: []string{soa}},

		// Case and zones.
		{Name: "query case is kept", Qname: "WwW.ExAmPlE.CoM.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"WwW.ExAmPlE.CoM. 300 IN A 192.0.2.1", "WwW.ExAmPlE.CoM. 300 IN A 192.0.2.2"},
			Check: func(m *dns.Msg) string {
				if m.Question[0].Name != "WwW.ExAmPlE.CoM." {
					return "question case changed: " + m.Question[0].Name
				}
				if m.Answer[0].Header().Name != "WwW.ExAmPlE.CoM." {
					return "answer owner case: " + m.Answer[0].Header().Name
				}
				return ""
			}},
		{Name: "CNAME target in zone case", Qname: "ALIAS.example.com.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"ALIAS.example.com. 300 IN CNAME www.example.com.", www1, www2},
			Check: func(m *dns.Msg) string {
				if got := m.Answer[1].Header().Name; got != "www.example.com." {
					return "target owner not canonical: " + got
				}
				return ""
			}},
		{Name: "out of every zone", Qname: "www.example.net.", Qtype: dns.TypeA, Rcode: dns.RcodeRefused},
		{Name: "a second zone", Qname: "www.example.org.", Qtype: dns.TypeA, AA: true, Answer: []string{"www.example.org. 300 IN A 198.51.100.1"}},

		// ANY (RFC 8482).
		{Name: "ANY over UDP: one RRset", Qname: "www.example.com.", Qtype: dns.TypeANY, AA: true, Answer: []string{www1, www2}},
		{Name: "ANY over TCP: one RRset too", Qname: "www.example.com.", Qtype: dns.TypeANY, TCP: true, AA: true, Answer: []string{www1, www2}},
		{Name: "ANY at the apex: NS and its glue", Qname: "example.com.", Qtype: dns.TypeANY, AA: true,
			Answer: []string{"example.com. 300 IN NS ns1.example.com.", "example.com. 300 IN NS ns2.example.com."},
			Extra:  []string{ns1A, "ns2.example.com. 300 IN AAAA 2001:db8::53"}},
		{Name: "ANY at a wildcard", Qname: "q.wild.example.com.", Qtype: dns.TypeANY, AA: true, Answer: []string{"q.wild.example.com. 300 IN A 192.0.2.9"}},
		{Name: "ANY at an ENT", Qname: "c.example.com.", Qtype: dns.TypeANY, AA: true, Ns: []string{soa}},

		// EDNS.
		{Name: "EDNS echo", Qname: "www.example.com.", Qtype: dns.TypeA, EDNS: 4096, DO: true, AA: true, Answer: []string{www1, www2}},
		{Name: "EDNS without DO", Qname: "www.example.com.", Qtype: dns.TypeA, EDNS: 1232, AA: true, Answer: []string{www1, www2}},
		{Name: "EDNS on REFUSED: EDE Not Authoritative (RFC 8914 §4.21)", Qname: "www.example.net.", Qtype: dns.TypeA, EDNS: 1232,
			Rcode: dns.RcodeRefused, EDE: dns.ExtendedErrorCodeNotAuthoritative},
		{Name: "BADVERS", Qname: "www.example.com.", Qtype: dns.TypeA, EDNS: 1232, Rcode: dns.RcodeBadVers,
			Mutate: func(m *dns.Msg) { m.IsEdns0().SetVersion(1) }},
		{Name: "two OPT records", Qname: "www.example.com.", Qtype: dns.TypeA, EDNS: 1232, Rcode: dns.RcodeFormatError, NoOPT: true,
			Mutate: func(m *dns.Msg) { m.SetEdns0(1232, false) }},
		{Name: "OPT with a non-root owner", Qname: "www.example.com.", Qtype: dns.TypeA, EDNS: 1232, Rcode: dns.RcodeFormatError, NoOPT: true,
			Mutate: func(m *dns.Msg) { m.IsEdns0().Hdr.Name = "example.com." }},
		{Name: "OPT in the answer section", Qname: "www.example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeFormatError,
			Mutate: func(m *dns.Msg) {
				m.Answer = append(m.Answer, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232}})
			}},
		{Name: "unknown EDNS options are ignored", Qname: "www.example.com.", Qtype: dns.TypeA, EDNS: 1232, AA: true, Answer: []string{www1, www2},
			Mutate: func(m *dns.Msg) {
				o := m.IsEdns0()
				o.Option = append(o.Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte("x")}, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0123456789abcdef"})
			}},

		// Odd requests.
		{Name: "QR=1 is dropped", Qname: "www.example.com.", Qtype: dns.TypeA, NoReply: true,
			Mutate: func(m *dns.Msg) { m.Response = true }},
		{Name: "QDCOUNT 0", Qname: "www.example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeFormatError,
			Mutate: func(m *dns.Msg) { m.Question = nil }},
		{Name: "QDCOUNT 2", Qname: "www.example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeFormatError, EDNS: 1232,
			Mutate: func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }},
		{Name: "NOTIFY", Qname: "example.com.", Qtype: dns.TypeSOA, Rcode: dns.RcodeNotImplemented,
			Mutate: func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }},
		{Name: "UPDATE", Qname: "example.com.", Qtype: dns.TypeSOA, Rcode: dns.RcodeNotImplemented,
			Mutate: func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }},
		{Name: "STATUS", Qname: "example.com.", Qtype: dns.TypeSOA, Rcode: dns.RcodeNotImplemented,
			Mutate: func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }},
		{Name: "CHAOS version.bind", Qname: "version.bind.", Qtype: dns.TypeTXT, Rcode: dns.RcodeRefused,
			Mutate: func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }},
		{Name: "class ANY", Qname: "www.example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeRefused,
			Mutate: func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }},
		{Name: "class 0 (reserved; a question cut after its type unpacks so)", Qname: "www.example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeFormatError,
			Mutate: func(m *dns.Msg) { m.Question[0].Qclass = 0 }},
		{Name: "AXFR over UDP", Qname: "example.com.", Qtype: dns.TypeAXFR, Rcode: dns.RcodeRefused},
		{Name: "AXFR over TCP (Answer refuses; the server's transfer path serves it)", Qname: "example.com.", Qtype: dns.TypeAXFR, TCP: true, Rcode: dns.RcodeRefused},
		{Name: "IXFR", Qname: "example.com.", Qtype: dns.TypeIXFR, Rcode: dns.RcodeRefused},
		{Name: "qtype OPT", Qname: "example.com.", Qtype: dns.TypeOPT, Rcode: dns.RcodeFormatError},
		{Name: "qtype TSIG", Qname: "example.com.", Qtype: dns.TypeTSIG, Rcode: dns.RcodeFormatError},
		{Name: "qtype 0", Qname: "example.com.", Qtype: 0, Rcode: dns.RcodeFormatError},
		{Name: "qtype MAILA: NODATA, as Knot", Qname: "example.com.", Qtype: dns.TypeMAILA, AA: true, Ns: []string{soa}},
		{Name: "unknown qtype: NODATA", Qname: "www.example.com.", Qtype: 65280, AA: true, Ns: []string{soa}},

		// Size.
		{Name: "big answer over UDP: TC", Qname: "big.example.com.", Qtype: dns.TypeTXT, AA: true, TC: true, Check: bigTXT(true)},
		{Name: "big answer over UDP with EDNS 4096: TC at 1232", Qname: "big.example.com.", Qtype: dns.TypeTXT, EDNS: 4096, AA: true, TC: true, Check: bigTXT(true)},
		{Name: "big answer over TCP: whole", Qname: "big.example.com.", Qtype: dns.TypeTXT, TCP: true, AA: true, Check: bigTXT(false)},
		{Name: "mid answer without EDNS: TC", Qname: "mid.example.com.", Qtype: dns.TypeTXT, AA: true, TC: true},
		{Name: "mid answer with EDNS 1232: whole", Qname: "mid.example.com.", Qtype: dns.TypeTXT, EDNS: 1232, AA: true, Check: midTXT},
		{Name: "EDNS size below 512 counts as 512", Qname: "mid.example.com.", Qtype: dns.TypeTXT, EDNS: 100, AA: true, TC: true},
		{Name: "optional additionals that do not fit are left out, no TC", Qname: "manymx.example.com.", Qtype: dns.TypeMX, AA: true,
			Check: func(m *dns.Msg) string {
				// As Knot: whole RRsets, in order, as many as fit in 512 bytes.
				if len(m.Answer) != 12 || len(m.Extra) != 10 {
					return fmt.Sprintf("want 12 MX and 10 addresses, got %d and %d", len(m.Answer), len(m.Extra))
				}
				if got := m.Extra[9].String(); got != "mx04.example.com.\t300\tIN\tAAAA\t2001:db8::104" {
					return "last additional: " + got
				}
				return ""
			}},
		{Name: "optional additionals with EDNS, OPT kept last", Qname: "manymx.example.com.", Qtype: dns.TypeMX, EDNS: 600, AA: true,
			Check: func(m *dns.Msg) string {
				if len(m.Answer) != 12 || len(m.Extra) < 11 || len(m.Extra) >= 25 || optOf(m) == nil {
					return fmt.Sprintf("want 12 MX, some addresses and OPT last, got %d and %d", len(m.Answer), len(m.Extra))
				}
				return ""
			}},
		{Name: "additionals kept when they fit", Qname: "manymx.example.com.", Qtype: dns.TypeMX, TCP: true, AA: true,
			Check: func(m *dns.Msg) string {
				if len(m.Answer) != 12 || len(m.Extra) != 24 {
					return fmt.Sprintf("want 12 MX and 24 addresses, got %d and %d", len(m.Answer), len(m.Extra))
				}
				return ""
			}},
	}
}

func TestAnswer(t *testing.T) {
	v := testView(t)
	for _, c := range answerCases() {
		name := c.Name
		if name == "" {
			name = c.Qname + " " + dns.Type(c.Qtype).String()
		}
		t.Run(name, func(t *testing.T) {
			req := query(c.Qname, c.Qtype)
			if c.EDNS > 0 {
				req.SetEdns0(c.EDNS, c.DO)
			}
			if c.Mutate != nil {
				c.Mutate(req)
			}
			m := Answer(Data{Zones: v}, req, Query{TCP: c.TCP})
			if c.NoReply {
				if m != nil {
					t.Fatalf("want no reply, got\n%v", m)
				}
				return
			}
			if m == nil {
				t.Fatal("no reply")
			}
			for _, p := range checkReply(t, c, req, m) {
				t.Error(p)
			}
			if t.Failed() {
				t.Logf("reply:\n%v", m)
			}
		})
	}
}

// checkReply returns every way m differs from what c wants.
func checkReply(t *testing.T, c Case, req, m *dns.Msg) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if !m.Response || m.Id != req.Id || !m.Compress {
		add("header: QR %v, id %d (want %d), compress %v", m.Response, m.Id, req.Id, m.Compress)
	}
	if m.Rcode != c.Rcode {
		add("rcode %s, want %s", rcodeName(m.Rcode), rcodeName(c.Rcode))
	}
	if m.Authoritative != c.AA {
		add("AA %v, want %v", m.Authoritative, c.AA)
	}
	if m.Truncated != c.TC {
		add("TC %v, want %v", m.Truncated, c.TC)
	}
	if len(req.Question) == 1 && (len(m.Question) != 1 || m.Question[0] != req.Question[0]) {
		add("question %v, want %v", m.Question, req.Question)
	}
	if !c.TC && c.Check == nil {
		for _, sec := range []struct {
			name      string
			got, want []string
		}{{"answer", rrStrings(m.Answer), norm(t, c.Answer)}, {"authority", rrStrings(m.Ns), norm(t, c.Ns)}, {"additional", rrStrings(m.Extra), norm(t, c.Extra)}} {
			if !slices.Equal(sec.got, sec.want) {
				add("%s:\n got  %s\n want %s", sec.name, strings.Join(sec.got, "\n      "), strings.Join(sec.want, "\n      "))
			}
		}
	}
	wantOPT := c.EDNS > 0 && !c.NoOPT
	opt := m.IsEdns0()
	switch {
	case wantOPT && opt == nil:
		add("no OPT in the reply")
	case !wantOPT && opt != nil:
		add("unexpected OPT %v", opt)
	case opt != nil:
		if opt.UDPSize() != maxUDPPayload || opt.Version() != 0 || opt.Do() != c.DO {
			add("OPT: size %d version %d DO %v; want 1232 0 %v", opt.UDPSize(), opt.Version(), opt.Do(), c.DO)
		}
		var want []string
		if c.EDE != 0 {
			want = append(want, (&dns.EDNS0_EDE{InfoCode: c.EDE}).String())
		}
		if c.ECSOut != "" {
			want = append(want, c.ECSOut)
		}
		var got []string
		for _, o := range opt.Option {
			got = append(got, o.String())
		}
		if !slices.Equal(got, want) {
			add("OPT options %q, want %q", got, want)
		}
	}
	// The reply must pack, within the transport's limit, and unpack to the
	// same rcode (extended rcodes travel in the OPT).
	wire, err := m.Pack()
	if err != nil {
		add("pack: %v", err)
		return probs
	}
	limit := maxTCPPayload
	if !c.TCP {
		limit = minUDPPayload
		if c.EDNS > 0 && !c.NoOPT {
			limit = min(max(int(c.EDNS), minUDPPayload), maxUDPPayload)
		}
	}
	if len(wire) > limit {
		add("packed reply is %d bytes, limit %d", len(wire), limit)
	}
	back := new(dns.Msg)
	if err := back.Unpack(wire); err != nil {
		add("unpack: %v", err)
	} else if back.Rcode != c.Rcode {
		add("rcode on the wire %s, want %s", rcodeName(back.Rcode), rcodeName(c.Rcode))
	}
	if c.Check != nil {
		if p := c.Check(m); p != "" {
			add("%s", p)
		}
	}
	return probs
}

// rrStrings presents RRs (OPT left out) in one canonical text form.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr.String())
		}
	}
	return out
}

// norm parses zone-file lines (test data only) into the same text form.
func norm(t *testing.T, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("test RR %q: %v", l, err)
		}
		out = append(out, rr.String())
	}
	return out
}

// Invariant: Answer never modifies the zone's shared RRs, whatever owner
// spelling the reply needs.
func TestAnswerDoesNotModifyZone(t *testing.T) {
	v := testView(t)
	for _, q := range []string{"WWW.example.com.", "x.wild.example.com.", "ALIAS.example.com.", "A.WC.example.com."} {
		Answer(Data{Zones: v}, query(q, dns.TypeA), Query{})
	}
	z := v.Zone("example.com.")
	for _, name := range []string{"www.example.com.", "*.wild.example.com.", "alias.example.com.", "*.wc.example.com."} {
		for _, t2 := range []uint16{dns.TypeA, dns.TypeCNAME} {
			for _, rr := range z.Node(name).RRset(t2) {
				if rr.Header().Name != name {
					t.Errorf("zone RR at %s now owned by %s", name, rr.Header().Name)
				}
			}
		}
	}
}

func TestAnswerWithoutView(t *testing.T) {
	m := Answer(Data{Zones: nil}, query("www.example.com.", dns.TypeA), Query{})
	if m == nil || m.Rcode != dns.RcodeServerFailure || m.Authoritative {
		t.Fatalf("nil view: want SERVFAIL without AA, got %v", m)
	}
	if Answer(Data{Zones: testView(t)}, nil, Query{}) != nil {
		t.Fatal("nil request: want no reply")
	}
}

// Invariant: a CNAME chain stops after maxCNAMEChain records.
func TestAnswerCNAMEChainCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ORIGIN long.test.\n$TTL 60\n")
	for i := range 40 {
		fmt.Fprintf(&b, "c%d CNAME c%d\n", i, i+1)
	}
	b.WriteString("c40 A 192.0.2.1\n")
	v := mustView(t, "long.test.", b.String())
	m := Answer(Data{Zones: v}, query("c0.long.test.", dns.TypeA), Query{TCP: true})
	if m.Rcode != dns.RcodeSuccess || !m.Authoritative || len(m.Answer) != maxCNAMEChain {
		t.Fatalf("want NOERROR AA with %d CNAMEs, got %s AA=%v with %d RRs", maxCNAMEChain, rcodeName(m.Rcode), m.Authoritative, len(m.Answer))
	}
	for _, rr := range m.Answer {
		if rr.Header().Rrtype != dns.TypeCNAME {
			t.Fatalf("unexpected %v", rr)
		}
	}
}
