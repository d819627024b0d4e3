package conformance

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// query is one request of the corpus: the message, its wire form (sent
// as is to both servers) and the transport.
type query struct {
	kind string // how the name was chosen ("exact", "ent", …), for the report
	msg  *dns.Msg
	wire []byte
	tcp  bool
	// odd names the deliberate-difference case of an odd request
	// ("opcode NOTIFY", "class CHAOS", …); "" for ordinary queries.
	odd string
}

// namePool holds the names the corpus draws from, by kind.
type namePool struct {
	exact    []string            // owners with data
	ents     []string            // empty non-terminals
	wild     []string            // names a wildcard matches
	below    []string            // names at or below a zone cut
	missing  []string            // names that do not exist (some under a wildcard-free parent)
	outside  []string            // names in no zone we serve
	typesAt  map[string][]uint16 // types present at an owner
	wildcard []string            // wildcard owners ("*.wild.example.com.")
}

// queryTypes are the types asked: every type resolvx supports, SOA and
// ANY, and types no test zone holds.
func queryTypes() []uint16 {
	return []uint16{
		dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeTXT, dns.TypeNS, dns.TypeSRV,
		dns.TypePTR, dns.TypeCAA, dns.TypeDS, dns.TypeSSHFP, dns.TypeTLSA, dns.TypeNAPTR, dns.TypeSVCB,
		dns.TypeHTTPS, dns.TypeHINFO, dns.TypeSOA, dns.TypeANY,
		// absent everywhere
		dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeSPF, dns.TypeLOC, dns.TypeCDS, 65280,
	}
}

// newNamePool collects the names of every zone in v.
func newNamePool(v *zone.View, rng *rand.Rand) *namePool {
	p := &namePool{typesAt: make(map[string][]uint16)}
	owners := make(map[string]bool)
	var cuts []string
	for _, z := range v.Zones() {
		apex := z.Name()
		owners[apex] = true
		p.typesAt[apex] = append(p.typesAt[apex], dns.TypeSOA)
		for _, r := range z.Records() {
			t := dns.StringToType[r.Type]
			if !slices.Contains(p.typesAt[r.Name], t) {
				p.typesAt[r.Name] = append(p.typesAt[r.Name], t)
			}
			owners[r.Name] = true
			if t == dns.TypeNS && r.Name != apex && !slices.Contains(cuts, r.Name) {
				cuts = append(cuts, r.Name)
			}
		}
		for name := range owners {
			if !strings.HasSuffix(name, apex) {
				continue
			}
			for a := parent(name); a != "" && len(a) > len(apex); a = parent(a) {
				if !owners[a] && !slices.Contains(p.ents, a) {
					p.ents = append(p.ents, a)
				}
			}
		}
		for _, suffix := range []string{"nothere", "zz-missing", "x.y.z.nope", "_tcp.nope"} {
			p.missing = append(p.missing, suffix+"."+apex)
		}
	}
	// Sorted: map order must not leak into the seeded corpus.
	sorted := slices.Sorted(maps.Keys(owners))
	for _, name := range sorted {
		switch {
		case strings.HasPrefix(name, "*."):
			p.wildcard = append(p.wildcard, name)
			p.exact = append(p.exact, name) // asking for "*" itself is legal
			for range 3 {
				p.wild = append(p.wild, randLabel(rng)+name[1:])
			}
			p.wild = append(p.wild, randLabel(rng)+"."+randLabel(rng)+name[1:])
		default:
			p.exact = append(p.exact, name)
			// A name one label below an owner: NXDOMAIN, a wildcard
			// match, or below a cut.
			p.missing = append(p.missing, randLabel(rng)+"."+name)
		}
	}
	for _, cut := range cuts {
		p.below = append(p.below, cut, "host."+cut, "a.b."+cut, "ns."+cut, "*."+cut)
	}
	p.outside = []string{"www.example.net.", "example.", "com.", "test.", ".", "in-addr.arpa.", "3.0.192.in-addr.arpa.", "org."}
	slices.Sort(p.ents)
	return p
}

// parent returns the name one label up, "" above the root.
func parent(name string) string {
	if name == "." {
		return ""
	}
	i := strings.IndexByte(name, '.')
	if i+1 == len(name) {
		return "."
	}
	return name[i+1:]
}

func randLabel(rng *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 1+rng.IntN(12))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// randomCase flips the case of letters at random (a resolver's 0x20 bits).
func randomCase(rng *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && rng.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func pick[T any](rng *rand.Rand, l []T) T { return l[rng.IntN(len(l))] }

// genCorpus returns n seeded queries: names of every kind, types present
// and absent, random case, with and without EDNS (several payload sizes,
// the DO bit, unknown options), over UDP and TCP, plus the odd requests of
// oddQueries.
func genCorpus(tb testing.TB, p *namePool, seed uint64, n int) []*query {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	types := queryTypes()
	var out []*query
	for len(out) < n {
		var kind, name string
		switch r := rng.IntN(100); {
		case r < 35:
			kind, name = "exact", pick(rng, p.exact)
		case r < 45:
			kind, name = "ent", pick(rng, p.ents)
		case r < 60:
			kind, name = "wildcard", pick(rng, p.wild)
		case r < 72:
			kind, name = "delegation", pick(rng, p.below)
		case r < 97:
			kind, name = "missing", pick(rng, p.missing)
		default:
			kind, name = "outside", pick(rng, p.outside)
		}
		var qtype uint16
		if present := p.typesAt[name]; len(present) > 0 && rng.IntN(2) == 0 {
			qtype = pick(rng, present)
		} else {
			qtype = pick(rng, types)
		}
		if rng.IntN(3) == 0 {
			name = randomCase(rng, name)
		}
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.Id = uint16(rng.Uint32())
		m.RecursionDesired = rng.IntN(2) == 0
		m.CheckingDisabled = rng.IntN(20) == 0
		switch r := rng.IntN(100); {
		case r < 35: // no EDNS
		case r < 60:
			m.SetEdns0(1232, rng.IntN(3) == 0)
		case r < 75:
			m.SetEdns0(4096, rng.IntN(2) == 0)
		case r < 85:
			m.SetEdns0(512, rng.IntN(3) == 0)
		case r < 90:
			m.SetEdns0(uint16(1+rng.IntN(511)), false) // below 512: treated as 512
		case r < 95:
			m.SetEdns0(uint16(513+rng.IntN(1400)), rng.IntN(2) == 0)
		default: // unknown and known options are ignored
			m.SetEdns0(1232, true)
			o := m.IsEdns0()
			o.Option = append(o.Option,
				&dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}},
				&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0123456789abcdef"},
				&dns.EDNS0_PADDING{Padding: make([]byte, rng.IntN(200))})
		}
		out = append(out, packed(tb, &query{kind: kind, msg: m, tcp: rng.IntN(5) == 0}))
	}
	return append(out, oddQueries(tb)...)
}

// packedQuery returns m, sent over TCP or UDP, as a query; nil if m does
// not pack.
func packedQuery(m *dns.Msg, tcp bool) *query {
	w, err := m.Pack()
	if err != nil {
		return nil
	}
	return &query{msg: m, wire: w, tcp: tcp}
}

func packed(tb testing.TB, q *query) *query {
	tb.Helper()
	w, err := q.msg.Pack()
	if err != nil {
		tb.Fatalf("packing %v: %v", q.msg.Question, err)
	}
	q.wire = w
	return q
}

// oddQueries are requests where resolvx departs from Knot on purpose
// (dnsserver/doc.go), each sent over UDP and TCP, so that every entry of
// the allowance table is exercised.
func oddQueries(tb testing.TB) []*query {
	type odd struct {
		name   string
		qname  string
		qtype  uint16
		mutate func(*dns.Msg)
	}
	cases := []odd{
		{"opcode NOTIFY", "example.com.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify; m.Authoritative = true }},
		{"opcode UPDATE", "example.com.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }},
		{"opcode IQUERY", "example.com.", dns.TypeA, func(m *dns.Msg) { m.Opcode = dns.OpcodeIQuery }},
		{"opcode STATUS", "example.com.", dns.TypeA, func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }},
		{"opcode 15", "example.com.", dns.TypeA, func(m *dns.Msg) { m.Opcode = 15 }},
		{"class CHAOS", "version.bind.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }},
		{"class CHAOS", "id.server.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }},
		{"class CHAOS", "hostname.bind.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }},
		{"class ANY", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }},
		{"class NONE", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassNONE }},
		{"class 42", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = 42 }},
		{"qtype AXFR", "example.com.", dns.TypeAXFR, nil},
		{"qtype IXFR", "example.com.", dns.TypeIXFR, nil},
		{"qtype 0", "www.example.com.", 0, nil},
		{"qtype OPT", "www.example.com.", dns.TypeOPT, nil},
		{"qtype TSIG", "www.example.com.", dns.TypeTSIG, nil},
		{"qtype TKEY", "www.example.com.", dns.TypeTKEY, nil},
		{"qtype MAILA", "www.example.com.", dns.TypeMAILA, nil},
		{"qtype MAILB", "www.example.com.", dns.TypeMAILB, nil},
		{"two OPT records", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, false); m.SetEdns0(4096, true) }},
		{"OPT owner not root", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().Hdr.Name = "example.com." }},
		{"EDNS version 1", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }},
		{"CD bit", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.CheckingDisabled = true }},
		{"QDCOUNT 0", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Question = nil }},
		{"QDCOUNT 2", "www.example.com.", dns.TypeA, func(m *dns.Msg) {
			m.Question = append(m.Question, dns.Question{Name: "example.com.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET})
		}},
		{"AA in the query", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Authoritative = true }},
		{"Z bit", "www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Zero = true }},
	}
	var out []*query
	for i, c := range cases {
		for _, tcp := range []bool{false, true} {
			m := new(dns.Msg)
			m.SetQuestion(c.qname, c.qtype)
			m.Id = uint16(60000 + 2*i)
			if tcp {
				m.Id++
			}
			if c.mutate != nil {
				c.mutate(m)
			}
			out = append(out, packed(tb, &query{kind: "odd", odd: c.name, msg: m, tcp: tcp}))
		}
	}
	return out
}
