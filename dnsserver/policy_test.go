package dnsserver

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/gtm"
)

// policyZone holds ordinary records beside the names policies are bound at.
const policyZone = `
$ORIGIN gtm.test.
$TTL 300
@        NS    ns1
ns1      A     192.0.2.53
www      A     192.0.2.80
target   A     192.0.2.100
target   AAAA  2001:db8::100
alias    CNAME w
mixed    MX    10 www
mixed    TXT   "beside a policy"
mxgeo    MX    10 geo
*.wild   A     192.0.2.9
`

const gsoa = "gtm.test. 300 IN SOA ns1.gtm.test. hostmaster.gtm.test. 2 3600 600 1209600 300"

// fakeLocator places addresses by the first prefix that holds them.
type fakeLocator []struct {
	net  netip.Prefix
	loc  gtm.Location
	bits int
}

func (f fakeLocator) Locate(a netip.Addr) (gtm.Location, int) {
	for _, e := range f {
		if e.net.Contains(a) {
			return e.loc, e.bits
		}
	}
	return gtm.Location{}, 0
}

func testLocator() fakeLocator {
	return fakeLocator{
		{netip.MustParsePrefix("198.51.100.0/24"), gtm.Location{Country: "DE", Continent: "EU"}, 24},
		{netip.MustParsePrefix("203.0.112.0/20"), gtm.Location{Country: "FR", Continent: "EU"}, 20},
		{netip.MustParsePrefix("10.0.0.0/8"), gtm.Location{Country: "JP", Continent: "AS"}, 8},
		{netip.MustParsePrefix("2001:db8:de::/48"), gtm.Location{Country: "DE", Continent: "EU"}, 48},
	}
}

func ep(id, addr string) gtm.Endpoint { return gtm.Endpoint{ID: id, Address: addr} }

// testPolicies are the policies of gtm.test. and their committed verdicts.
func testPolicies() ([]gtm.Policy, map[string]gtm.Verdicts) {
	pol := func(name, record string, kind gtm.Kind, eps ...gtm.Endpoint) gtm.Policy {
		return gtm.Policy{Name: name, Zone: "gtm.test.", Record: record, Type: kind, TTL: 30, Endpoints: eps}
	}
	w := pol("w", "w", gtm.Weighted, ep("a", "192.0.2.1"), ep("b", "192.0.2.2"), ep("c", "192.0.2.3"))
	w.Endpoints[0].Weight = 1 // b and c have weight 0: never chosen
	dist := pol("dist", "dist", gtm.Weighted, ep("a", "192.0.2.1"), ep("b", "192.0.2.2"), ep("c", "192.0.2.3"))
	dist.Endpoints[0].Weight, dist.Endpoints[1].Weight, dist.Endpoints[2].Weight = 70, 20, 10
	f := pol("f", "f", gtm.Failover, ep("primary", "192.0.2.11"), ep("secondary", "192.0.2.12"), ep("tertiary", "192.0.2.13"))
	f.Endpoints[0].Priority, f.Endpoints[1].Priority, f.Endpoints[2].Priority = 1, 2, 3
	f6 := pol("f6", "f", gtm.Failover, ep("v6", "2001:db8::11"))
	mv := pol("mv", "mv", gtm.Multivalue, ep("x", "2001:db8::1"), ep("y", "2001:db8::2"), ep("z", "2001:db8::3"))
	geo := pol("geo", "geo", gtm.Geographic, ep("de", "192.0.2.21"), ep("eu", "192.0.2.22"), ep("any", "192.0.2.23"))
	geo.Endpoints[0].Region, geo.Endpoints[1].Region, geo.Endpoints[2].Region = "DE", "EU", "*"
	lat := pol("lat", "lat", gtm.Latency, ep("a", "192.0.2.31"), ep("b", "192.0.2.32"))
	lat.HealthCheck = &gtm.HealthCheck{Type: "tcp", Port: 443}
	cn := pol("cn", "cn", gtm.Failover, ep("t", "TARGET.gtm.test"), ep("o", "www.example.org."))
	cn.Endpoints[1].Priority = 1
	cnout := pol("cnout", "cnout", gtm.Failover, ep("o", "www.example.org."))
	mixed := pol("mixed", "mixed", gtm.Weighted, ep("a", "192.0.2.41"))
	mixed.Endpoints[0].Weight = 1
	nd := pol("nd", "nd", gtm.Failover, ep("a", "192.0.2.51"))
	nd.Fallback = "nodata"
	open := pol("open", "open", gtm.Failover, ep("a", "192.0.2.61"), ep("b", "192.0.2.62"))
	ent := pol("ent", "a.b.ent", gtm.Failover, ep("a", "192.0.2.71"))
	pw := pol("pw", "p.wild", gtm.Failover, ep("a", "192.0.2.72"))
	deep := pol("deep", "z.y.wild", gtm.Failover, ep("a", "192.0.2.73"))
	policies := []gtm.Policy{w, dist, f, f6, mv, geo, lat, cn, cnout, mixed, nd, open, ent, pw, deep}
	down := func(ids ...string) gtm.Verdicts {
		v := gtm.Verdicts{Health: map[string]gtm.Health{}}
		for _, id := range ids {
			v.Health[id] = gtm.Unhealthy
		}
		return v
	}
	verdicts := map[string]gtm.Verdicts{
		"f":    down("primary"),
		"mv":   down("y"),
		"cn":   down("o"),
		"nd":   down("a"),
		"open": down("a", "b"),
		"lat":  {Preferred: "b", LatencyMS: map[string]float64{"a": 40, "b": 12}},
	}
	return policies, verdicts
}

func policyData(tb testing.TB) Data {
	tb.Helper()
	policies, verdicts := testPolicies()
	for i := range policies {
		p, err := gtm.Validate(policies[i])
		if err != nil {
			tb.Fatalf("policy %s: %v", policies[i].Name, err)
		}
		policies[i] = p
	}
	return Data{
		Zones:    mustView(tb, "gtm.test.", policyZone, "example.org.", orgZone),
		Policies: gtm.Compile(policies, func(name string) gtm.Verdicts { return verdicts[name] }),
		Geo:      testLocator(),
	}
}

// withECS adds a Client Subnet option to the request's OPT record.
func withECS(family uint16, bits uint8, addr string) func(*dns.Msg) {
	return func(m *dns.Msg) {
		ip := net.ParseIP(addr)
		if family == 1 {
			ip = ip.To4()
		}
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: bits, Address: ip})
	}
}

// policyCase is a Case answered from policyData by a client at Client.
type policyCase struct {
	Case
	Client string
}

func policyCases() []policyCase {
	de, unknown := "198.51.100.7", "192.0.2.200"
	c := func(client string, c Case) policyCase { return policyCase{Case: c, Client: client} }
	sameSet := func(want ...string) func(*dns.Msg) string {
		return func(m *dns.Msg) string {
			got := rrStrings(m.Answer)
			var w []string
			for _, l := range want {
				rr, _ := dns.NewRR(l)
				w = append(w, rr.String())
			}
			slices.Sort(got)
			slices.Sort(w)
			if !slices.Equal(got, w) || len(m.Ns) != 0 || m.Rcode != dns.RcodeSuccess {
				return fmt.Sprintf("answer %q, want the set %q", got, w)
			}
			return ""
		}
	}
	return []policyCase{
		c(unknown, Case{Name: "weighted: the only weighted endpoint", Qname: "w.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"w.gtm.test. 30 IN A 192.0.2.1"}}),
		c(unknown, Case{Name: "the owner keeps the client's spelling", Qname: "W.Gtm.TEST.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"W.Gtm.TEST. 30 IN A 192.0.2.1"}}),
		c(unknown, Case{Name: "ANY: the policy's records", Qname: "w.gtm.test.", Qtype: dns.TypeANY, AA: true,
			Answer: []string{"w.gtm.test. 30 IN A 192.0.2.1"}}),
		c(unknown, Case{Name: "another type at a policy name without a node: NODATA", Qname: "w.gtm.test.", Qtype: dns.TypeAAAA, AA: true,
			Ns: []string{gsoa}}),
		c(unknown, Case{Name: "TXT at a policy name: NODATA, not NXDOMAIN", Qname: "w.gtm.test.", Qtype: dns.TypeTXT, AA: true,
			Ns: []string{gsoa}}),
		c(unknown, Case{Name: "failover: the primary is down", Qname: "f.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"f.gtm.test. 30 IN A 192.0.2.12"}}),
		c(unknown, Case{Name: "an A and an AAAA policy at one name", Qname: "f.gtm.test.", Qtype: dns.TypeAAAA, AA: true,
			Answer: []string{"f.gtm.test. 30 IN AAAA 2001:db8::11"}}),
		c(unknown, Case{Name: "multivalue: every healthy endpoint", Qname: "mv.gtm.test.", Qtype: dns.TypeAAAA, AA: true,
			Check: sameSet("mv.gtm.test. 30 IN AAAA 2001:db8::1", "mv.gtm.test. 30 IN AAAA 2001:db8::3")}),
		c(unknown, Case{Name: "latency: the preferred endpoint", Qname: "lat.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"lat.gtm.test. 30 IN A 192.0.2.32"}}),
		c(unknown, Case{Name: "fallback nodata", Qname: "nd.gtm.test.", Qtype: dns.TypeA, AA: true, Ns: []string{gsoa}}),
		c(unknown, Case{Name: "fallback all: fail open", Qname: "open.gtm.test.", Qtype: dns.TypeA, AA: true,
			Check: sameSet("open.gtm.test. 30 IN A 192.0.2.61", "open.gtm.test. 30 IN A 192.0.2.62")}),

		// Geographic, by source address and by Client Subnet.
		c(de, Case{Name: "geo: the source address's country", Qname: "geo.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.21"}}),
		c("203.0.113.9", Case{Name: "geo: the continent", Qname: "geo.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.22"}}),
		c(unknown, Case{Name: "geo: unknown client gets *", Qname: "geo.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.23"}}),
		c(unknown, Case{Name: "geo by ECS, scope = the locator's network", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "198.51.100.0"), AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.21"}, ECSOut: "198.51.100.0/24/24"}),
		c(de, Case{Name: "geo by ECS, not the source address", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "203.0.113.0"), AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.22"}, ECSOut: "203.0.113.0/24/20"}),
		c(unknown, Case{Name: "geo by ECS, scope capped by the source prefix", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 22, "198.51.100.0"), AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.21"}, ECSOut: "198.51.100.0/22/22"}),
		c(unknown, Case{Name: "geo by ECS, a wider network than the source", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "10.1.2.0"), AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.23"}, ECSOut: "10.1.2.0/24/8"}),
		c(unknown, Case{Name: "geo by ECS IPv6", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(2, 56, "2001:db8:de:100::"), AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.21"}, ECSOut: "[2001:db8:de:100::]/56/48"}),
		c(unknown, Case{Name: "geo by ECS, unknown subnet: scope 0", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "192.0.2.0"), AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.23"}, ECSOut: "192.0.2.0/24/0"}),
		c(de, Case{Name: "ECS source prefix 0: use no address", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 0, "0.0.0.0"), AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.23"}, ECSOut: "0.0.0.0/0/0"}),
		c(de, Case{Name: "ECS family 0, source 0 (dig): use no address", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: func(m *dns.Msg) {
				m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET}}
			}, AA: true,
			Answer: []string{"geo.gtm.test. 30 IN A 192.0.2.23"}, ECSOut: "<nil>/0/0"}),
		c(de, Case{Name: "geo in the additional section: MX target bound to a policy", Qname: "mxgeo.gtm.test.", Qtype: dns.TypeMX, EDNS: 1232,
			Mutate: withECS(1, 24, "198.51.100.0"), AA: true,
			Answer: []string{"mxgeo.gtm.test. 300 IN MX 10 geo.gtm.test."},
			Extra:  []string{"geo.gtm.test. 30 IN A 192.0.2.21"}, ECSOut: "198.51.100.0/24/24"}),
		c(de, Case{Name: "ECS on a non-geographic answer: scope 0", Qname: "f.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "198.51.100.0"), AA: true,
			Answer: []string{"f.gtm.test. 30 IN A 192.0.2.12"}, ECSOut: "198.51.100.0/24/0"}),
		c(de, Case{Name: "ECS on an ordinary record: scope 0", Qname: "www.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "198.51.100.0"), AA: true,
			Answer: []string{"www.gtm.test. 300 IN A 192.0.2.80"}, ECSOut: "198.51.100.0/24/0"}),
		c(de, Case{Name: "ECS on NXDOMAIN is echoed", Qname: "nope.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "198.51.100.0"), AA: true, Rcode: dns.RcodeNameError,
			Ns: []string{gsoa}, ECSOut: "198.51.100.0/24/0"}),

		// Bad Client Subnet options: FORMERR with OPT, no echo (RFC 7871 §7.1.2).
		c(de, Case{Name: "ECS address bits beyond the source prefix: FORMERR", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 24, "198.51.100.7"), Rcode: dns.RcodeFormatError}),
		c(de, Case{Name: "ECS IPv6 bits beyond the source prefix: FORMERR", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(2, 47, "2001:db8:df::"), Rcode: dns.RcodeFormatError}),
		c(de, Case{Name: "ECS source prefix 33 for IPv4: FORMERR", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(1, 33, "198.51.100.0"), Rcode: dns.RcodeFormatError}),
		c(de, Case{Name: "ECS source prefix 129 for IPv6: FORMERR", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(2, 129, "2001:db8::"), Rcode: dns.RcodeFormatError}),
		c(de, Case{Name: "ECS unknown family: FORMERR", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: withECS(3, 8, "198.51.100.0"), Rcode: dns.RcodeFormatError}),
		c(de, Case{Name: "ECS family 1 with an IPv6 address: FORMERR", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: func(m *dns.Msg) { withECS(2, 8, "2001:db8::")(m); m.IsEdns0().Option[0].(*dns.EDNS0_SUBNET).Family = 1 },
			Rcode:  dns.RcodeFormatError}),
		c(de, Case{Name: "two ECS options: FORMERR", Qname: "geo.gtm.test.", Qtype: dns.TypeA, EDNS: 1232,
			Mutate: func(m *dns.Msg) { withECS(1, 24, "198.51.100.0")(m); withECS(1, 16, "198.51.0.0")(m) },
			Rcode:  dns.RcodeFormatError}),

		// CNAME policies.
		c(unknown, Case{Name: "CNAME policy, followed inside the zone", Qname: "cn.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"cn.gtm.test. 30 IN CNAME target.gtm.test.", "target.gtm.test. 300 IN A 192.0.2.100"}}),
		c(unknown, Case{Name: "CNAME policy, AAAA", Qname: "cn.gtm.test.", Qtype: dns.TypeAAAA, AA: true,
			Answer: []string{"cn.gtm.test. 30 IN CNAME target.gtm.test.", "target.gtm.test. 300 IN AAAA 2001:db8::100"}}),
		c(unknown, Case{Name: "CNAME policy, MX: CNAME then NODATA", Qname: "cn.gtm.test.", Qtype: dns.TypeMX, AA: true,
			Answer: []string{"cn.gtm.test. 30 IN CNAME target.gtm.test."}, Ns: []string{gsoa}}),
		c(unknown, Case{Name: "CNAME policy, CNAME query: the CNAME alone", Qname: "cn.gtm.test.", Qtype: dns.TypeCNAME, AA: true,
			Answer: []string{"cn.gtm.test. 30 IN CNAME target.gtm.test."}}),
		c(unknown, Case{Name: "CNAME policy, ANY: the CNAME alone", Qname: "cn.gtm.test.", Qtype: dns.TypeANY, AA: true,
			Answer: []string{"cn.gtm.test. 30 IN CNAME target.gtm.test."}}),
		c(unknown, Case{Name: "CNAME policy, RRSIG: NODATA at the name", Qname: "cn.gtm.test.", Qtype: dns.TypeRRSIG, AA: true,
			Ns: []string{gsoa}}),
		c(unknown, Case{Name: "CNAME policy out of the zone", Qname: "cnout.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"cnout.gtm.test. 30 IN CNAME www.example.org."}}),
		c(unknown, Case{Name: "ordinary CNAME to a policy name", Qname: "alias.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"alias.gtm.test. 300 IN CNAME w.gtm.test.", "w.gtm.test. 30 IN A 192.0.2.1"}}),

		// A policy name with ordinary records of other types.
		c(unknown, Case{Name: "A from the policy beside zone records", Qname: "mixed.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"mixed.gtm.test. 30 IN A 192.0.2.41"}}),
		c(unknown, Case{Name: "MX from the zone at a policy name", Qname: "mixed.gtm.test.", Qtype: dns.TypeMX, AA: true,
			Answer: []string{"mixed.gtm.test. 300 IN MX 10 www.gtm.test."}, Extra: []string{"www.gtm.test. 300 IN A 192.0.2.80"}}),
		c(unknown, Case{Name: "AAAA at a policy name with a node: NODATA", Qname: "mixed.gtm.test.", Qtype: dns.TypeAAAA, AA: true,
			Ns: []string{gsoa}}),

		// Empty non-terminals and wildcards.
		c(unknown, Case{Name: "ENT above a policy name: NODATA", Qname: "b.ent.gtm.test.", Qtype: dns.TypeA, AA: true, Ns: []string{gsoa}}),
		c(unknown, Case{Name: "ENT two above a policy name: NODATA", Qname: "ent.gtm.test.", Qtype: dns.TypeTXT, AA: true, Ns: []string{gsoa}}),
		c(unknown, Case{Name: "below a policy name: NXDOMAIN", Qname: "x.a.b.ent.gtm.test.", Qtype: dns.TypeA, AA: true,
			Rcode: dns.RcodeNameError, Ns: []string{gsoa}}),
		c(unknown, Case{Name: "beside a policy name: NXDOMAIN", Qname: "c.b.ent.gtm.test.", Qtype: dns.TypeA, AA: true,
			Rcode: dns.RcodeNameError, Ns: []string{gsoa}}),
		c(unknown, Case{Name: "a policy name beats the wildcard", Qname: "p.wild.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"p.wild.gtm.test. 30 IN A 192.0.2.72"}}),
		c(unknown, Case{Name: "other types at a policy name under a wildcard: NODATA", Qname: "p.wild.gtm.test.", Qtype: dns.TypeTXT, AA: true,
			Ns: []string{gsoa}}),
		c(unknown, Case{Name: "the wildcard still answers beside it", Qname: "q.wild.gtm.test.", Qtype: dns.TypeA, AA: true,
			Answer: []string{"q.wild.gtm.test. 300 IN A 192.0.2.9"}}),
		c(unknown, Case{Name: "an ENT of policy names beats the wildcard", Qname: "y.wild.gtm.test.", Qtype: dns.TypeA, AA: true,
			Ns: []string{gsoa}}),
		c(unknown, Case{Name: "below an ENT of policy names: NXDOMAIN, no wildcard", Qname: "q.y.wild.gtm.test.", Qtype: dns.TypeA, AA: true,
			Rcode: dns.RcodeNameError, Ns: []string{gsoa}}),
	}
}

func TestAnswerPolicy(t *testing.T) {
	d := policyData(t)
	for _, c := range policyCases() {
		t.Run(c.Name, func(t *testing.T) {
			req := query(c.Qname, c.Qtype)
			if c.EDNS > 0 {
				req.SetEdns0(c.EDNS, c.DO)
			}
			if c.Mutate != nil {
				c.Mutate(req)
			}
			m := Answer(d, req, Query{Client: netip.MustParseAddr(c.Client), TCP: c.TCP})
			if m == nil {
				t.Fatal("no reply")
			}
			for _, p := range checkReply(t, c.Case, req, m) {
				t.Error(p)
			}
			if t.Failed() {
				t.Logf("reply:\n%v", m)
			}
		})
	}
}

// Invariant: the same query from the same client gets the same answer, and
// Answer does not depend on anything else (every node answers alike).
func TestAnswerPolicyDeterministic(t *testing.T) {
	d, d2 := policyData(t), policyData(t) // two nodes compiling the same state
	client := Query{Client: netip.MustParseAddr("198.51.100.7")}
	for _, name := range []string{"dist.gtm.test.", "mv.gtm.test.", "open.gtm.test.", "geo.gtm.test."} {
		for id := range 200 {
			qt := dns.TypeA
			if strings.HasPrefix(name, "mv.") {
				qt = dns.TypeAAAA
			}
			req := query(name, qt)
			req.Id = uint16(id)
			first := rrStrings(Answer(d, req, client).Answer)
			if again := rrStrings(Answer(d2, req, client).Answer); !slices.Equal(first, again) {
				t.Fatalf("%s id %d: %q then %q", name, id, first, again)
			}
		}
	}
}

// Invariant: weighted answers follow the weights across queries (message
// IDs), through Answer as through Select.
func TestAnswerPolicyWeights(t *testing.T) {
	d := policyData(t)
	count := map[string]int{}
	const n = 30_000
	for i := range n {
		req := query("dist.gtm.test.", dns.TypeA)
		req.Id = uint16(i)
		m := Answer(d, req, Query{Client: netip.AddrFrom4([4]byte{198, 51, 100, byte(i >> 16)})})
		if len(m.Answer) != 1 {
			t.Fatalf("want one A, got %v", m)
		}
		count[m.Answer[0].(*dns.A).A.String()]++
	}
	for addr, want := range map[string]float64{"192.0.2.1": 70, "192.0.2.2": 20, "192.0.2.3": 10} {
		if got := 100 * float64(count[addr]) / n; math.Abs(got-want) > 2 {
			t.Errorf("%s: %.1f%% of answers, want %.0f±2", addr, got, want)
		}
	}
}

// Invariant: answering a policy name allocates no more than answering an
// ordinary record: the reply itself.
func TestAnswerPolicyAllocs(t *testing.T) {
	d := policyData(t)
	for _, c := range []struct {
		name  string
		qtype uint16
		ecs   bool
	}{{"w.gtm.test.", dns.TypeA, false}, {"f.gtm.test.", dns.TypeA, true}, {"geo.gtm.test.", dns.TypeA, true}, {"mv.gtm.test.", dns.TypeAAAA, false}, {"www.gtm.test.", dns.TypeA, true}} {
		req := query(c.name, c.qtype)
		req.SetEdns0(1232, false)
		if c.ecs {
			withECS(1, 24, "198.51.100.0")(req)
		}
		q := Query{Client: netip.MustParseAddr("203.0.113.1")}
		if n := testing.AllocsPerRun(100, func() { Answer(d, req, q) }); n > 1 {
			t.Errorf("%s %s: %v allocations per answer, want 1", c.name, dns.TypeToString[c.qtype], n)
		}
	}
}

// Invariant: a nil policy table, a nil locator and a table without
// policies answer like zones alone.
func TestAnswerWithoutPolicies(t *testing.T) {
	v := testView(t)
	for _, d := range []Data{{Zones: v}, {Zones: v, Policies: gtm.Compile(nil, nil), Geo: testLocator()}} {
		for _, c := range answerCases()[:20] {
			req := query(c.Qname, c.Qtype)
			if c.EDNS > 0 {
				req.SetEdns0(c.EDNS, c.DO)
			}
			if c.Mutate != nil {
				c.Mutate(req)
			}
			m := Answer(d, req, Query{TCP: c.TCP})
			for _, p := range checkReply(t, c, req, m) {
				t.Errorf("%s %d: %s", c.Qname, c.Qtype, p)
			}
		}
	}
}

func TestExplain(t *testing.T) {
	d := policyData(t)
	x := Explain(d, "geo.gtm.test", dns.TypeA, netip.MustParseAddr("192.0.2.200"), netip.MustParsePrefix("198.51.100.77/24"))
	if x.Rcode != "NOERROR" || x.Policy == nil || x.Policy.Name != "geo" || x.Decision == nil || x.ECS != "198.51.100.0/24" {
		t.Fatalf("explanation: %+v", x)
	}
	if x.Location != (gtm.Location{Country: "DE", Continent: "EU"}) || x.Scope != 24 {
		t.Errorf("location %+v scope %d, want DE/EU 24", x.Location, x.Scope)
	}
	if !slices.Equal(x.Decision.Chosen, []string{"de"}) || x.Decision.Region != "DE" || !x.Endpoints[0].Chosen || x.Endpoints[1].Chosen {
		t.Errorf("decision %+v endpoints %+v", x.Decision, x.Endpoints)
	}
	if !slices.Equal(x.Answer, []string{"geo.gtm.test.\t30\tIN\tA\t192.0.2.21"}) {
		t.Errorf("answer %q", x.Answer)
	}

	// The explanation is the answer a query gets (same code path).
	for _, name := range []string{"f.gtm.test.", "dist.gtm.test.", "lat.gtm.test.", "nd.gtm.test.", "cn.gtm.test.", "www.gtm.test.", "nope.gtm.test.", "b.ent.gtm.test."} {
		x := Explain(d, name, dns.TypeA, netip.MustParseAddr("10.0.0.1"), netip.Prefix{})
		req := query(name, dns.TypeA)
		req.Id = 0
		req.RecursionDesired = false
		req.SetEdns0(1232, false)
		m := Answer(d, req, Query{Client: netip.MustParseAddr("10.0.0.1"), TCP: true})
		var want []string
		for _, rr := range m.Answer {
			want = append(want, rr.String())
		}
		if len(x.Answer) != len(want) || (len(want) > 0 && !slices.Equal(x.Answer, want)) || x.Rcode != dns.RcodeToString[m.Rcode] {
			t.Errorf("%s: explained %s %q, answered %s %q", name, x.Rcode, x.Answer, dns.RcodeToString[m.Rcode], want)
		}
	}
	f := Explain(d, "f.gtm.test.", dns.TypeA, netip.MustParseAddr("10.0.0.1"), netip.Prefix{})
	if f.Policy == nil || f.Endpoints[0].Verdict != gtm.Unhealthy || f.Endpoints[0].Chosen || !f.Endpoints[1].Chosen || f.Decision.Reason == "" {
		t.Errorf("failover: %+v", f)
	}
	l := Explain(d, "lat.gtm.test.", dns.TypeA, netip.Addr{}, netip.Prefix{})
	if l.Preferred != "b" || l.Endpoints[1].LatencyMS != 12 || !l.Endpoints[1].Chosen {
		t.Errorf("latency: %+v", l)
	}
	nd := Explain(d, "nd.gtm.test.", dns.TypeA, netip.Addr{}, netip.Prefix{})
	if nd.Decision == nil || !nd.Decision.NoData || !nd.Decision.Fallback || len(nd.Answer) != 0 || nd.Answer == nil {
		t.Errorf("nodata: %+v", nd)
	}
	cn := Explain(d, "cn.gtm.test.", dns.TypeA, netip.Addr{}, netip.Prefix{})
	if cn.Policy == nil || cn.Policy.Name != "cn" || len(cn.Answer) != 2 {
		t.Errorf("cname: %+v", cn)
	}
	plain := Explain(d, "www.gtm.test.", dns.TypeA, netip.Addr{}, netip.Prefix{})
	if plain.Policy != nil || plain.Decision != nil || len(plain.Answer) != 1 {
		t.Errorf("plain: %+v", plain)
	}
	none := Explain(Data{}, "www.gtm.test.", dns.TypeA, netip.Addr{}, netip.Prefix{})
	if none.Rcode != "SERVFAIL" {
		t.Errorf("no data: %+v", none)
	}
}

// Invariant: Explain answers odd names, types and addresses without
// panicking, like Answer.
func TestExplainOddInput(t *testing.T) {
	d := policyData(t)
	for _, name := range []string{"", ".", "a..b", "W.GTM.TEST", `\046.gtm.test.`, strings.Repeat("a.", 200) + "gtm.test.", "*.wild.gtm.test."} {
		for _, qt := range []uint16{0, dns.TypeA, dns.TypeANY, dns.TypeAXFR, dns.TypeOPT, 65535} {
			for _, ecs := range []netip.Prefix{{}, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("2001:db8:de::1/128"), netip.MustParsePrefix("::ffff:198.51.100.1/120")} {
				x := Explain(d, name, qt, netip.Addr{}, ecs)
				if x.Rcode == "" {
					t.Errorf("%q %d %v: no rcode", name, qt, ecs)
				}
			}
		}
	}
}
