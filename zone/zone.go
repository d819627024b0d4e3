package zone

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/benbjohnson/immutable"
	"github.com/miekg/dns"
)

// soaID is the pseudo record ID under which the apex node keeps the SOA.
const soaID = "\x00soa"

// Zone is one authoritative zone in a View. It is immutable.
type Zone struct {
	name    string
	soa     SOA
	index   uint64                         // Raft index of the zone's last change; the serial derives from it
	created uint64                         // Raft index that created the zone
	records *immutable.Map[string, Record] // by ID
	nodes   *immutable.Map[string, *Node]  // by owner name
	soaRR   *dns.SOA
	negSOA  *dns.SOA
	// transfer and allow (its parsed ACL) are the zone-transfer settings.
	transfer Transfer
	allow    []netip.Prefix
	// history is the last HistoryLen changes, oldest first, for IXFR.
	history []*Delta
}

// DefaultSOA returns the SOA fields a new zone gets.
func DefaultSOA(zoneName string) SOA {
	apex := lower(zoneName)
	if apex != "" && apex[len(apex)-1] != '.' {
		apex += "."
	}
	prefix := func(label string) string {
		if apex == "." {
			return label + "."
		}
		return label + "." + apex
	}
	return SOA{MName: prefix("ns1"), RName: prefix("hostmaster"), Refresh: 3600, Retry: 600, Expire: 1209600, Minimum: 300, TTL: 3600}
}

// ValidateSOA checks SOA fields and returns them with canonical names.
func ValidateSOA(s SOA) (SOA, error) {
	var err error
	if s.MName, err = CanonicalName(s.MName); err != nil {
		return s, fmt.Errorf("SOA mname: %w", err)
	}
	if s.RName, err = CanonicalName(s.RName); err != nil {
		return s, fmt.Errorf("SOA rname: %w", err)
	}
	for _, f := range []struct {
		name string
		v    uint32
	}{{"refresh", s.Refresh}, {"retry", s.Retry}, {"expire", s.Expire}, {"minimum", s.Minimum}, {"ttl", s.TTL}} {
		if f.v > MaxTTL {
			return s, fmt.Errorf("%w: SOA %s %d is out of range 0..%d", ErrInvalid, f.name, f.v, MaxTTL)
		}
	}
	return s, nil
}

// Name returns the zone's apex, canonical.
func (z *Zone) Name() string { return z.name }

// Serial returns the SOA serial: the low 32 bits of the Raft index of the
// zone's last change (RFC 1982 arithmetic keeps it increasing across wrap).
func (z *Zone) Serial() uint32 { return uint32(z.index) }

// Index returns the Raft index of the zone's last change.
func (z *Zone) Index() uint64 { return z.index }

// CreatedIndex returns the Raft index that created the zone.
func (z *Zone) CreatedIndex() uint64 { return z.created }

// SOAFields returns the zone's editable SOA settings.
func (z *Zone) SOAFields() SOA { return z.soa }

// SOA returns the apex SOA RR. Shared: never modify it.
func (z *Zone) SOA() *dns.SOA { return z.soaRR }

// NegativeSOA returns the SOA RR to put in the authority section of negative
// answers: its TTL is min(SOA TTL, MINIMUM) (RFC 2308 §3). Shared.
func (z *Zone) NegativeSOA() *dns.SOA { return z.negSOA }

// Len returns the number of records in the zone (the SOA not counted).
func (z *Zone) Len() int { return z.records.Len() }

// Record returns the record with the given ID.
func (z *Zone) Record(id string) (Record, bool) { return z.records.Get(id) }

// Node returns the node at name (any case), or nil.
func (z *Zone) Node(name string) *Node {
	n, _ := z.nodes.Get(lower(name))
	return n
}

// Records returns every record of the zone in canonical order (owner name in
// DNS order, then type, then value).
func (z *Zone) Records() []Record {
	out := make([]Record, 0, z.records.Len())
	it := z.records.Iterator()
	for !it.Done() {
		_, r, _ := it.Next()
		out = append(out, r)
	}
	slices.SortFunc(out, compareRecords)
	return out
}

func compareRecords(a, b Record) int {
	if c := compareNames(a.Name, b.Name); c != 0 {
		return c
	}
	ta, tb := supportedTypes[a.Type], supportedTypes[b.Type]
	return cmp.Or(cmp.Compare(ta, tb), cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Value, b.Value), cmp.Compare(a.ID, b.ID))
}

// compareNames orders names canonically (RFC 4034 §6.1): by labels from the
// right, so a zone lists its apex first and children after their parents.
func compareNames(a, b string) int {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := cmp.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// newZone returns an empty zone (apex node with its SOA) at index.
func newZone(name string, soa SOA, index uint64) *Zone {
	z := &Zone{
		name:    name,
		soa:     soa,
		index:   index,
		created: index,
		records: immutable.NewMap[string, Record](stringHasher{}),
		nodes:   immutable.NewMap[string, *Node](stringHasher{}),
	}
	z.nodes = z.nodes.Set(name, &Node{name: name})
	return z.withSerial(index)
}

// withSerial returns a copy of z whose last-change index is index, with the
// SOA RRs and the apex node rebuilt for the new serial.
func (z *Zone) withSerial(index uint64) *Zone {
	c := *z
	c.index = index
	s := c.soa
	hdr := dns.RR_Header{Name: c.name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: s.TTL}
	c.soaRR = &dns.SOA{Hdr: hdr, Ns: s.MName, Mbox: s.RName, Serial: uint32(index), Refresh: s.Refresh, Retry: s.Retry, Expire: s.Expire, Minttl: s.Minimum}
	neg := *c.soaRR
	neg.Hdr.Ttl = min(s.TTL, s.Minimum)
	c.negSOA = &neg
	apex, _ := c.nodes.Get(c.name)
	apex = apex.withoutRR(dns.TypeSOA, soaID).withRR(soaID, c.soaRR)
	c.nodes = c.nodes.Set(c.name, apex)
	return &c
}
