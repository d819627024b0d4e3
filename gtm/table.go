package gtm

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Location is where a client is, as a geographic policy needs it.
type Location struct {
	Country   string `json:"country,omitempty"`   // ISO 3166-1 alpha-2, upper case; "" when unknown
	Continent string `json:"continent,omitempty"` // NA, SA, EU, AF, AS, OC, AN; "" when unknown
}

// Table is the compiled, immutable index the DNS server answers policy
// names from: every policy, bound at its owner name, with its committed
// verdicts and its answer records built once. The FSM compiles a new one
// when a policy or a verdict changes; queries only read it, from any
// number of goroutines, and none of its methods allocates on the way to an
// answer. A nil *Table is an empty one.
type Table struct {
	names map[string]*Bindings // by canonical owner name
	// above holds every name strictly above some owner (its ancestors up
	// to the root): the names HasBelow is true for.
	above  map[string]struct{}
	maxLen int // the longest owner name, in bytes
	n      int // policies bound
}

// Bindings are the policies bound at one owner name: at most one per
// answer type.
type Bindings struct {
	A, AAAA, CNAME *Bound
}

// Bound is one policy with its committed verdicts and prebuilt records.
// Everything in it is shared by every query: read-only.
type Bound struct {
	Policy   Policy
	Verdicts Verdicts
	// rrs holds the answer record of each endpoint (same index as
	// Policy.Endpoints); nil for an endpoint whose address cannot be
	// answered (a host name that is not a domain name), which is never
	// chosen.
	rrs []dns.RR
	ch  chooser
}

// Compile builds the table of policies (validated, zone canonical) with
// their committed verdicts (verdicts returns the zero Verdicts for a policy
// that has none; a nil verdicts means none has any). Each endpoint's record
// (A, AAAA or CNAME, see Policy.RRType) is built here, owned by the
// policy's canonical owner name, class IN, with the policy's TTL, and each
// endpoint's committed health is looked up once, so a query calls no
// function of the caller's. Two policies for one owner and type (the FSM
// allows none) keep the first in the order given.
func Compile(policies []Policy, verdicts func(policy string) Verdicts) *Table {
	t := &Table{names: map[string]*Bindings{}, above: map[string]struct{}{}}
	for _, p := range policies {
		t.add(p, verdicts)
	}
	return t
}

func (t *Table) add(p Policy, verdicts func(string) Verdicts) {
	typ := p.RRType()
	if typ == dns.TypeNone {
		return
	}
	p.Endpoints = append([]Endpoint(nil), p.Endpoints...) // our own copy: choices share it
	owner := dns.Fqdn(strings.ToLower(p.Owner()))
	if _, ok := dns.IsDomainName(owner); !ok {
		return
	}
	b := &Bound{Policy: p}
	if verdicts != nil {
		b.Verdicts = verdicts(p.Name)
	}
	ttl := p.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	b.rrs = make([]dns.RR, len(p.Endpoints))
	for i, e := range p.Endpoints {
		b.rrs[i] = endpointRR(typ, owner, ttl, e.Address)
	}
	limit := maxAnswers(&b.Policy)
	if typ == dns.TypeCNAME {
		limit = 1 // a name has one CNAME at most (RFC 2181 §10.1)
	}
	health := b.Verdicts.Health
	b.ch.compile(&b.Policy, func(e *Endpoint) Health { return health[e.ID] }, b.Verdicts.Preferred, b.rrs, limit)

	bs := t.names[owner]
	if bs == nil {
		bs = &Bindings{}
		t.names[owner] = bs
	}
	slot := &bs.A
	switch typ {
	case dns.TypeAAAA:
		slot = &bs.AAAA
	case dns.TypeCNAME:
		slot = &bs.CNAME
	}
	if *slot != nil {
		return
	}
	*slot = b
	t.n++
	t.maxLen = max(t.maxLen, len(owner))
	for a := parent(owner); a != ""; a = parent(a) {
		t.above[a] = struct{}{}
	}
}

// endpointRR builds the answer record of one endpoint, or nil when the
// address does not make one.
func endpointRR(typ uint16, owner string, ttl uint32, address string) dns.RR {
	hdr := dns.RR_Header{Name: owner, Rrtype: typ, Class: dns.ClassINET, Ttl: ttl}
	switch typ {
	case dns.TypeA, dns.TypeAAAA:
		ip, err := netip.ParseAddr(address)
		switch {
		case err != nil:
			return nil
		case typ == dns.TypeA && ip.Is4():
			return &dns.A{Hdr: hdr, A: ip.AsSlice()}
		case typ == dns.TypeAAAA && !ip.Is4():
			b := ip.As16()
			return &dns.AAAA{Hdr: hdr, AAAA: b[:]}
		}
		return nil
	}
	target := dns.Fqdn(strings.ToLower(strings.TrimSpace(address)))
	if _, ok := dns.IsDomainName(target); !ok || len(target) > 255 {
		return nil
	}
	return &dns.CNAME{Hdr: hdr, Target: target}
}

// parent returns the name one label up ("" above the root); a dot escaped
// with a backslash does not end a label.
func parent(name string) string {
	if name == "." || name == "" {
		return ""
	}
	for i := 0; i < len(name)-1; i++ {
		switch name[i] {
		case '\\':
			i++ // skip the escaped byte (or the first digit of \DDD)
		case '.':
			return name[i+1:]
		}
	}
	return "."
}

// Len returns the number of policies bound in the table.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// lowerKey writes name in lower case into buf and returns it; ok is false
// when it does not fit.
func lowerKey(buf []byte, name string) ([]byte, bool) {
	if len(name) > cap(buf) {
		return nil, false
	}
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return b, true
}

// keyBuf is big enough for any domain name in presentation form whose
// labels need no escapes; longer names take a slower, allocating path.
const keyBuf = 256

// Find returns the policies bound at name (any letter case, fully
// qualified), or nil. It does not allocate.
func (t *Table) Find(name string) *Bindings {
	if t == nil || t.n == 0 || len(name) > t.maxLen {
		return nil
	}
	var buf [keyBuf]byte
	if b, ok := lowerKey(buf[:], name); ok {
		return t.names[string(b)]
	}
	return t.names[strings.ToLower(name)]
}

// HasBelow reports whether some policy's owner lies strictly below name
// (any letter case, fully qualified): name then exists as an empty
// non-terminal even where the zone has no record at or below it. It does
// not allocate.
func (t *Table) HasBelow(name string) bool {
	if t == nil || t.n == 0 || len(name) >= t.maxLen {
		return false
	}
	var buf [keyBuf]byte
	if b, ok := lowerKey(buf[:], name); ok {
		_, found := t.above[string(b)]
		return found
	}
	_, found := t.above[strings.ToLower(name)]
	return found
}

// For returns the policy bound at bs's name that answers qtype A or AAAA
// directly (nil for other types, or when none is bound). A CNAME policy is
// in bs.CNAME.
func (bs *Bindings) For(qtype uint16) *Bound {
	if bs == nil {
		return nil
	}
	switch qtype {
	case dns.TypeA:
		return bs.A
	case dns.TypeAAAA:
		return bs.AAAA
	}
	return nil
}

// AppendAnswer appends to dst the records of the endpoints Select picks
// for c (owner: the policy's owner name; TTL: the policy's), and returns
// them with the decision. It allocates nothing when dst has room: the
// records and the decision's Endpoints are the table's own (read-only).
// A CNAME policy answers one record at most.
func (b *Bound) AppendAnswer(dst []dns.RR, c Client) ([]dns.RR, Decision) {
	if b == nil {
		return dst, Decision{NoData: true, Reason: "no policy"}
	}
	d, ch := b.ch.choose(c)
	return append(dst, b.ch.records(ch)...), d
}
