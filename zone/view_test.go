package zone

import (
	"errors"
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

const testZone = `
$ORIGIN example.com.
$TTL 300
@        IN NS    ns1
ns1      IN A     192.0.2.53
www      IN A     192.0.2.1
www      IN A     192.0.2.2
alias    IN CNAME www
*.wild   IN A     192.0.2.9
a.b.c    IN TXT   "deep"
sub      IN NS    ns.sub
ns.sub   IN A     192.0.2.77
`

// mustZone builds a view with example.com holding testZone, IDs r1, r2, …
func mustZone(t testing.TB) *View {
	t.Helper()
	recs, err := ParseZoneText("example.com", testZone)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		recs[i].ID = fmt.Sprintf("r%d", i+1)
	}
	v, err := Empty().CreateZone("example.com", DefaultSOA("example.com"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = v.Replace("example.com", recs, 2); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLookup(t *testing.T) {
	z := mustZone(t).FindZone("WWW.Example.com.")
	if z == nil || z.Name() != "example.com." {
		t.Fatalf("FindZone: %v", z)
	}
	cases := []struct {
		q    string
		kind MatchKind
		node string
	}{
		{"example.com.", Exact, "example.com."},
		{"WWW.EXAMPLE.COM.", Exact, "www.example.com."},
		{"b.c.example.com.", Exact, "b.c.example.com."}, // empty non-terminal
		{"c.example.com.", Exact, "c.example.com."},     // empty non-terminal
		{"x.c.example.com.", NXDomain, ""},
		{"nope.example.com.", NXDomain, ""},
		{"foo.wild.example.com.", Wildcard, "*.wild.example.com."},
		{"a.foo.wild.example.com.", Wildcard, "*.wild.example.com."},
		{"wild.example.com.", Exact, "wild.example.com."}, // ENT above the wildcard
		{"*.wild.example.com.", Exact, "*.wild.example.com."},
		{"sub.example.com.", Delegation, "sub.example.com."},
		{"ns.sub.example.com.", Delegation, "sub.example.com."},
		{"deep.below.sub.example.com.", Delegation, "sub.example.com."},
	}
	for _, c := range cases {
		r := z.Lookup(c.q)
		got := ""
		if r.Node != nil {
			got = r.Node.Name()
		}
		if r.Kind != c.kind || got != c.node {
			t.Errorf("Lookup(%s) = %v %q; want %v %q", c.q, r.Kind, got, c.kind, c.node)
		}
	}
	if n := z.Node("www.example.com."); len(n.RRset(dns.TypeA)) != 2 {
		t.Errorf("www A rrset = %v", n.RRset(dns.TypeA))
	}
	if soa := z.Node("example.com.").RRset(dns.TypeSOA); len(soa) != 1 || soa[0].(*dns.SOA).Serial != 2 {
		t.Errorf("apex SOA = %v", soa)
	}
	if z.NegativeSOA().Hdr.Ttl != 300 || z.SOA().Hdr.Ttl != 3600 {
		t.Errorf("negative SOA TTL %d, SOA TTL %d", z.NegativeSOA().Hdr.Ttl, z.SOA().Hdr.Ttl)
	}
	if Empty().FindZone("example.com.") != nil || mustZone(t).FindZone("example.org.") != nil {
		t.Error("FindZone outside every zone must be nil")
	}
}

func add(id, name, typ, value string) Change {
	return Change{Op: OpAdd, Record: Record{ID: id, Name: name, Type: typ, TTL: 300, Value: value}}
}

// Invariant: a change set is applied whole or not at all, and older views
// never change.
func TestApplyAtomicAndPersistent(t *testing.T) {
	v1 := mustZone(t)
	before := v1.Zone("example.com").Len()
	_, err := v1.Apply("example.com", []Change{
		add("n1", "new.example.com.", "A", "192.0.2.100"),
		add("n2", "www.example.com.", "CNAME", "x.example.com."), // www has A: rejected
	}, 3)
	if err == nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
	if v1.Zone("example.com").Len() != before || v1.Zone("example.com").Node("new.example.com.") != nil {
		t.Fatal("a rejected change set changed the view")
	}
	v2, err := v1.Apply("example.com", []Change{add("n1", "x.y.example.com.", "A", "192.0.2.100")}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Zone("example.com").Node("y.example.com.") != nil {
		t.Fatal("the old view sees the new ENT")
	}
	z2 := v2.Zone("example.com")
	if z2.Lookup("y.example.com.").Kind != Exact || z2.Serial() != 3 || v1.Zone("example.com").Serial() != 2 {
		t.Fatal("new ENT missing or serial wrong")
	}
	// Deleting the only record below y removes the ENT again.
	v3, err := v2.Apply("example.com", []Change{{Op: OpDelete, ID: "n1"}}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if n := v3.Zone("example.com").Node("y.example.com."); n != nil {
		t.Fatalf("ENT left behind: %+v", n)
	}
	if v3.Zone("example.com").Lookup("x.y.example.com.").Kind != NXDomain {
		t.Fatal("deleted name still exists")
	}
}

func TestApplyRules(t *testing.T) {
	v := mustZone(t)
	cases := []struct {
		name    string
		changes []Change
		want    error
	}{
		{"duplicate data", []Change{add("d", "www.example.com.", "A", "192.0.2.1")}, ErrExists},
		{"duplicate id", []Change{add("r1", "q.example.com.", "A", "192.0.2.1")}, ErrExists},
		{"cname beside data", []Change{add("d", "www.example.com.", "CNAME", "x.example.com.")}, ErrInvalid},
		{"data beside cname", []Change{add("d", "alias.example.com.", "TXT", "x")}, ErrInvalid},
		{"second cname", []Change{add("d", "alias.example.com.", "CNAME", "y.example.com.")}, ErrInvalid},
		{"delete missing", []Change{{Op: OpDelete, ID: "zz"}}, ErrNotFound},
		{"update missing", []Change{{Op: OpUpdate, Record: Record{ID: "zz", Name: "a.example.com.", Type: "A", Value: "192.0.2.1"}}}, ErrNotFound},
		{"outside zone", []Change{add("d", "www.example.org.", "A", "192.0.2.1")}, ErrInvalid},
		{"bad op", []Change{{Op: "frob"}}, ErrInvalid},
		{"no id", []Change{add("", "q.example.com.", "A", "192.0.2.1")}, ErrInvalid},
		{"ds at apex", []Change{add("d", "example.com.", "DS", "12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")}, ErrInvalid},
	}
	for _, c := range cases {
		if _, err := v.Apply("example.com", c.changes, 9); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := v.Apply("example.org", nil, 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing zone: %v", err)
	}
	// Update in place keeps the ID and swaps data atomically; CNAME can replace
	// the only record of a name within one change set.
	r1, _ := v.Zone("example.com").Record("r1") // @ NS
	v2, err := v.Apply("example.com", []Change{
		{Op: OpDelete, ID: "r3"}, {Op: OpDelete, ID: "r4"}, // both www A
		add("c", "www.example.com.", "CNAME", "alias2.example.com."),
		{Op: OpUpdate, Record: Record{ID: r1.ID, Name: r1.Name, Type: "NS", TTL: 60, Value: "ns2.example.com."}},
	}, 10)
	if err != nil {
		t.Fatal(err)
	}
	z := v2.Zone("example.com")
	if rr := z.Node("www.example.com.").RRset(dns.TypeCNAME); len(rr) != 1 {
		t.Fatalf("www CNAME: %v", rr)
	}
	if ns := z.Node("example.com.").RRset(dns.TypeNS); len(ns) != 1 || ns[0].(*dns.NS).Ns != "ns2.example.com." || ns[0].Header().Ttl != 60 {
		t.Fatalf("apex NS after update: %v", ns)
	}
}

// Invariant: an RRset answers with one TTL, the lowest of its records
// (RFC 2181 §5.2), and removing the lowest restores the next.
func TestRRsetTTL(t *testing.T) {
	v := mustZone(t)
	v2, err := v.Apply("example.com", []Change{{Op: OpAdd, Record: Record{ID: "low", Name: "www.example.com.", Type: "A", TTL: 60, Value: "192.0.2.3"}}}, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range v2.Zone("example.com").Node("www.example.com.").RRset(dns.TypeA) {
		if rr.Header().Ttl != 60 {
			t.Fatalf("TTL %d, want 60", rr.Header().Ttl)
		}
	}
	for _, rr := range v.Zone("example.com").Node("www.example.com.").RRset(dns.TypeA) {
		if rr.Header().Ttl != 300 {
			t.Fatalf("old view changed: TTL %d", rr.Header().Ttl)
		}
	}
	v3, _ := v2.Apply("example.com", []Change{{Op: OpDelete, ID: "low"}}, 6)
	for _, rr := range v3.Zone("example.com").Node("www.example.com.").RRset(dns.TypeA) {
		if rr.Header().Ttl != 300 {
			t.Fatalf("TTL after delete %d, want 300", rr.Header().Ttl)
		}
	}
}

func TestZoneLifecycle(t *testing.T) {
	v, err := Empty().CreateZone("Example.COM", DefaultSOA("example.com"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.CreateZone("example.com.", DefaultSOA("example.com"), 2); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate zone: %v", err)
	}
	v, _ = v.CreateZone("sub.example.com", DefaultSOA("sub.example.com"), 3)
	if z := v.FindZone("www.sub.example.com."); z == nil || z.Name() != "sub.example.com." {
		t.Fatal("FindZone must pick the closest enclosing zone")
	}
	if got := len(v.Zones()); got != 2 {
		t.Fatalf("zones: %d", got)
	}
	v, err = v.DeleteZone("sub.example.com")
	if err != nil || v.FindZone("www.sub.example.com.").Name() != "example.com." {
		t.Fatalf("delete: %v", err)
	}
	if _, err := v.DeleteZone("nope.example"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	soa := DefaultSOA("example.com")
	soa.Minimum = 60
	v, err = v.SetSOA("example.com", soa, 7)
	if err != nil || v.Zone("example.com").NegativeSOA().Hdr.Ttl != 60 || v.Zone("example.com").Serial() != 7 {
		t.Fatalf("SetSOA: %v", err)
	}
}
