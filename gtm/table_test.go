package gtm

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func tablePolicy(name, record string, kind Kind, addrs ...string) Policy {
	p := Policy{Name: name, Zone: "example.com.", Record: record, Type: kind}
	for i, a := range addrs {
		p.Endpoints = append(p.Endpoints, Endpoint{ID: fmt.Sprintf("e%d", i), Address: a, Weight: i + 1, Priority: i})
	}
	return p
}

// Invariant: an empty table (nil policies, nil verdicts, or a nil *Table)
// binds nothing and never panics.
func TestCompileEmpty(t *testing.T) {
	for _, tb := range []*Table{Compile(nil, nil), Compile([]Policy{}, nil), nil} {
		if tb.Find("www.example.com.") != nil || tb.HasBelow(".") || tb.Len() != 0 {
			t.Fatalf("empty table %v binds something", tb)
		}
	}
	var b *Bound
	if rrs, d := b.AppendAnswer(nil, Client{}); len(rrs) != 0 || !d.NoData {
		t.Fatalf("nil Bound: %v %+v", rrs, d)
	}
	if (*Bindings)(nil).For(dns.TypeA) != nil {
		t.Fatal("nil Bindings")
	}
}

// Invariant: Find is case-insensitive and exact; HasBelow is true for the
// strict ancestors of an owner only; neither allocates.
func TestTableFind(t *testing.T) {
	tb := Compile([]Policy{
		tablePolicy("a", "www", Weighted, "192.0.2.1"),
		tablePolicy("b", "www", Failover, "2001:db8::1"),
		tablePolicy("c", "x.y.deep", Failover, "host.example.net"),
		tablePolicy("d", "@", Failover, "192.0.2.9"),
	}, nil)
	if tb.Len() != 4 {
		t.Fatalf("Len %d", tb.Len())
	}
	bs := tb.Find("WWW.Example.COM.")
	if bs == nil || bs.A == nil || bs.AAAA == nil || bs.CNAME != nil || bs.A.Policy.Name != "a" || bs.For(dns.TypeAAAA) != bs.AAAA || bs.For(dns.TypeMX) != nil {
		t.Fatalf("Find www: %+v", bs)
	}
	if bs := tb.Find("x.y.deep.example.com."); bs == nil || bs.CNAME == nil {
		t.Fatalf("Find deep: %+v", bs)
	}
	for _, name := range []string{"example.com", "ww.example.com.", "www.example.com.example.com.", "y.deep.example.com.", ""} {
		if tb.Find(name) != nil {
			t.Errorf("Find %q: want nil", name)
		}
	}
	for name, want := range map[string]bool{
		"y.deep.example.com.": true, "DEEP.example.com.": true, "example.com.": true, "com.": true, ".": true,
		"x.y.deep.example.com.": false, "www.example.com.": false, "z.deep.example.com.": false, "org.": false, "": false,
	} {
		if got := tb.HasBelow(name); got != want {
			t.Errorf("HasBelow(%q) = %v, want %v", name, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		tb.Find("WWW.Example.COM.")
		tb.Find("nothere.example.com.")
		tb.HasBelow("Y.deep.example.com.")
	}); n != 0 {
		t.Errorf("Find/HasBelow: %v allocations, want 0", n)
	}
}

// Invariant: every endpoint's record is built once: owner the canonical
// owner name, class IN, the policy's TTL (DefaultTTL when 0), A for IPv4,
// AAAA for IPv6, CNAME to the fully qualified lower-case host name.
func TestTableRecords(t *testing.T) {
	a := tablePolicy("a", "WWW", Failover, "192.0.2.1")
	a.TTL = 45
	six := tablePolicy("six", "www", Failover, "2001:db8::1")
	cn := tablePolicy("cn", "alias.example.com.", Failover, "Host.Example.NET")
	tb := Compile([]Policy{a, six, cn}, nil)
	for _, c := range []struct {
		name string
		b    *Bound
		want string
	}{
		{"www.example.com.", tb.Find("www.example.com.").A, "www.example.com.\t45\tIN\tA\t192.0.2.1"},
		{"www.example.com.", tb.Find("www.example.com.").AAAA, fmt.Sprintf("www.example.com.\t%d\tIN\tAAAA\t2001:db8::1", DefaultTTL)},
		{"alias.example.com.", tb.Find("alias.example.com.").CNAME, fmt.Sprintf("alias.example.com.\t%d\tIN\tCNAME\thost.example.net.", DefaultTTL)},
	} {
		rrs, d := c.b.AppendAnswer(nil, Client{})
		if len(rrs) != 1 || rrs[0].String() != c.want || len(d.Endpoints) != 1 {
			t.Errorf("%s: %v %+v, want %s", c.name, rrs, d, c.want)
		}
	}
}

// Invariant: an endpoint whose address makes no record (a host name that
// is not a domain name) is never answered, not even by a fallback; a CNAME
// policy answers one record at most; a second policy for one owner and
// type is ignored.
func TestTableOddPolicies(t *testing.T) {
	bad := tablePolicy("bad", "bad", Multivalue, "ok.example.net", "no..good", "fine.example.net")
	badFirst := tablePolicy("badfirst", "bf", Failover, "no..good", "ok.example.net")
	dup := tablePolicy("dup", "bad", Failover, "other.example.net")
	tb := Compile([]Policy{bad, badFirst, dup}, nil)
	b := tb.Find("bad.example.com.").CNAME
	if b.Policy.Name != "bad" {
		t.Fatalf("the second policy for one owner and type replaced the first")
	}
	for key := range uint64(200) {
		rrs, d := b.AppendAnswer(nil, Client{Key: key})
		if len(rrs) != 1 || len(d.Endpoints) != 1 || d.Endpoints[0].ID == "e1" {
			t.Fatalf("key %d: %v %+v", key, rrs, d)
		}
		if want := dns.Fqdn(d.Endpoints[0].Address); rrs[0].(*dns.CNAME).Target != want {
			t.Fatalf("record %v for endpoint %+v", rrs[0], d.Endpoints[0])
		}
	}
	if rrs, d := tb.Find("bf.example.com.").CNAME.AppendAnswer(nil, Client{}); len(rrs) != 1 || d.Endpoints[0].ID != "e1" {
		t.Fatalf("failover past an unanswerable endpoint: %v %+v", rrs, d)
	}
}

// Invariant: a Table answers exactly as Select decides, for every kind of
// policy, verdict and client, and each record is its chosen endpoint's.
func TestAppendAnswerMatchesSelect(t *testing.T) {
	geo := tablePolicy("geo", "geo", Geographic, "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5")
	for i, r := range []string{"DE", "EU", "EU", "*", "NA"} {
		geo.Endpoints[i].Region = r
	}
	lat := tablePolicy("lat", "lat", Latency, "192.0.2.1", "192.0.2.2", "192.0.2.3")
	mv := tablePolicy("mv", "mv", Multivalue, "2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4")
	mv.MaxAnswers = 2
	fb := tablePolicy("fb", "fb", Failover, "192.0.2.1", "192.0.2.2")
	fb.Fallback = "e0"
	nd := tablePolicy("nd", "nd", Weighted, "192.0.2.1", "192.0.2.2")
	nd.Fallback = "nodata"
	drained := tablePolicy("drained", "drained", Weighted, "192.0.2.1", "192.0.2.2")
	drained.Endpoints[0].Disabled = true
	policies := []Policy{
		tablePolicy("w", "w", Weighted, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		tablePolicy("f", "f", Failover, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		geo, lat, mv, fb, nd, drained,
	}
	verdictSets := []map[string]Verdicts{
		nil,
		{"w": down("e0"), "f": down("e0"), "geo": down("e0"), "lat": {Preferred: "e2"}, "mv": down("e1"), "fb": down("e0", "e1"), "nd": down("e0", "e1"), "drained": down("e1")},
		{"w": down("e0", "e1", "e2"), "f": down("e0", "e1", "e2"), "geo": down("e0", "e1", "e2", "e3", "e4"), "lat": {Preferred: "e2", Health: down("e2").Health}, "mv": down("e0", "e1", "e2", "e3")},
	}
	clients := []Client{{}, {Country: "DE", Continent: "EU"}, {Country: "FR", Continent: "EU"}, {Country: "US", Continent: "NA"}, {Country: "NA", Continent: "AF"}}
	for vi, vs := range verdictSets {
		tb := Compile(policies, func(name string) Verdicts { return vs[name] })
		for _, p := range policies {
			b := tb.Find(p.Name + ".example.com.")
			bound := b.For(dns.TypeA)
			if bound == nil {
				bound = b.AAAA
			}
			in := Inputs{Health: vs[p.Name].Of, Preferred: vs[p.Name].Preferred}
			for _, c := range clients {
				for k := range 300 {
					c.Key = Key(netip.AddrFrom4([4]byte{198, 51, 100, byte(k)}), "q.example.com.", uint16(k*7919))
					want := Select(&p, in, c)
					rrs, got := bound.AppendAnswer(nil, c)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("verdicts %d, %s, client %+v: table %+v, Select %+v", vi, p.Name, c, got, want)
					}
					if len(rrs) != len(got.Endpoints) {
						t.Fatalf("%s: %d records for %d endpoints", p.Name, len(rrs), len(got.Endpoints))
					}
					for i, rr := range rrs {
						var addr string
						switch x := rr.(type) {
						case *dns.A:
							addr = x.A.String()
						case *dns.AAAA:
							addr = x.AAAA.String()
						}
						if addr != got.Endpoints[i].Address {
							t.Fatalf("%s: record %v for endpoint %+v", p.Name, rr, got.Endpoints[i])
						}
					}
				}
			}
		}
	}
}

func down(ids ...string) Verdicts {
	v := Verdicts{Health: map[string]Health{}}
	for _, id := range ids {
		v.Health[id] = Unhealthy
	}
	return v
}

// Invariant: answering from a Table allocates nothing when dst has room,
// whatever the kind of policy.
func TestAppendAnswerAllocs(t *testing.T) {
	geo := tablePolicy("geo", "geo", Geographic, "192.0.2.1", "192.0.2.2")
	geo.Endpoints[0].Region, geo.Endpoints[1].Region = "DE", "*"
	open := tablePolicy("open", "open", Failover, "192.0.2.1", "192.0.2.2")
	fbe := tablePolicy("fbe", "fbe", Failover, "192.0.2.1", "192.0.2.2")
	fbe.Fallback = "e1"
	policies := []Policy{
		tablePolicy("w", "w", Weighted, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		tablePolicy("f", "f", Failover, "192.0.2.1", "192.0.2.2"),
		tablePolicy("mv", "mv", Multivalue, "192.0.2.1", "192.0.2.2", "192.0.2.3"),
		tablePolicy("lat", "lat", Latency, "192.0.2.1", "192.0.2.2"),
		geo, open, fbe,
	}
	tb := Compile(policies, func(name string) Verdicts {
		if name == "open" || name == "fbe" {
			return down("e0", "e1")
		}
		return Verdicts{}
	})
	dst := make([]dns.RR, 0, 16)
	for _, p := range policies {
		b := tb.Find(p.Name + ".example.com.").A
		c := Client{Country: "FR", Continent: "EU", Key: 12345}
		if n := testing.AllocsPerRun(100, func() { b.AppendAnswer(dst[:0], c) }); n != 0 {
			t.Errorf("%s: %v allocations", p.Name, n)
		}
	}
}

// Invariant: Select's endpoints are the caller's to keep: changing them
// changes neither the policy nor a later decision.
func TestSelectReturnsCopies(t *testing.T) {
	p := tablePolicy("mv", "mv", Multivalue, "192.0.2.1", "192.0.2.2")
	d := Select(&p, Inputs{}, Client{})
	d.Endpoints[0].Address = "changed"
	if slices.ContainsFunc(p.Endpoints, func(e Endpoint) bool { return e.Address == "changed" }) {
		t.Fatal("Select's result shares the policy's endpoints")
	}
}
