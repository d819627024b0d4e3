package gtm

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
)

func eps(spec ...string) []Endpoint {
	var out []Endpoint
	for i, s := range spec {
		out = append(out, Endpoint{ID: s, Address: fmt.Sprintf("192.0.2.%d", i+1)})
	}
	return out
}

func healthOf(down ...string) func(string) Health {
	return func(id string) Health {
		for _, d := range down {
			if d == id {
				return Unhealthy
			}
		}
		return Healthy
	}
}

// Invariant: weighted answers follow the weights: 70/20/10 over 100,000
// queries lands within ±2 points of each weight.
func TestWeightedDistribution(t *testing.T) {
	p := Policy{Name: "w", Type: Weighted, Endpoints: eps("a", "b", "c")}
	p.Endpoints[0].Weight, p.Endpoints[1].Weight, p.Endpoints[2].Weight = 70, 20, 10
	count := map[string]int{}
	const n = 100_000
	client := netip.MustParseAddr("198.51.100.7")
	for i := range n {
		key := Key(client, fmt.Sprintf("www%d.example.com.", i%7), uint16(i))
		d := Select(&p, Inputs{}, Client{Key: key})
		count[d.Endpoints[0].ID]++
	}
	for id, want := range map[string]float64{"a": 70, "b": 20, "c": 10} {
		got := 100 * float64(count[id]) / n
		if math.Abs(got-want) > 2 {
			t.Errorf("endpoint %s: %.2f%% of answers, want %.0f±2", id, got, want)
		}
	}
	t.Logf("a=%d b=%d c=%d of %d", count["a"], count["b"], count["c"], n)
}

// Invariant: the same query from the same client gets the same answer
// (every node computes the same key from the same query).
func TestSelectIsDeterministic(t *testing.T) {
	p := Policy{Name: "w", Type: Weighted, Endpoints: eps("a", "b", "c")}
	for i := range p.Endpoints {
		p.Endpoints[i].Weight = 1
	}
	k := Key(netip.MustParseAddr("2001:db8::1"), "WWW.Example.com.", 4711)
	if k != Key(netip.MustParseAddr("2001:db8::1"), "www.example.com.", 4711) {
		t.Fatal("the key depends on the query name's case")
	}
	first := Select(&p, Inputs{}, Client{Key: k})
	for range 100 {
		if d := Select(&p, Inputs{}, Client{Key: k}); d.Endpoints[0].ID != first.Endpoints[0].ID {
			t.Fatal("same key, different answer")
		}
	}
}

// Invariant: failover answers with the lowest-priority usable endpoint and
// fails back as soon as the primary is usable again; drained and unhealthy
// endpoints are skipped; unknown counts as usable.
func TestFailover(t *testing.T) {
	p := Policy{Name: "f", Type: Failover, Endpoints: eps("primary", "secondary", "tertiary")}
	p.Endpoints[0].Priority, p.Endpoints[1].Priority, p.Endpoints[2].Priority = 1, 2, 3
	for _, tc := range []struct {
		health func(string) Health
		drain  string
		want   string
	}{
		{nil, "", "primary"},
		{healthOf(), "", "primary"},
		{healthOf("primary"), "", "secondary"},
		{healthOf("primary", "secondary"), "", "tertiary"},
		{healthOf(), "primary", "secondary"},
	} {
		q := p
		q.Endpoints = append([]Endpoint(nil), p.Endpoints...)
		for i := range q.Endpoints {
			q.Endpoints[i].Disabled = q.Endpoints[i].ID == tc.drain
		}
		if d := Select(&q, Inputs{Health: tc.health}, Client{}); len(d.Endpoints) != 1 || d.Endpoints[0].ID != tc.want || d.Fallback {
			t.Errorf("drain %q: got %+v, want %s", tc.drain, d, tc.want)
		}
	}
}

// Invariant: geographic answers pick the most specific region with a
// usable endpoint: country, then continent, then "*"; NA means North
// America, never Namibia.
func TestGeographic(t *testing.T) {
	p := Policy{Name: "g", Type: Geographic, Endpoints: []Endpoint{
		{ID: "de", Address: "192.0.2.1", Region: "DE"},
		{ID: "eu", Address: "192.0.2.2", Region: "EU"},
		{ID: "na", Address: "192.0.2.3", Region: "NA"},
		{ID: "any", Address: "192.0.2.4", Region: "*"},
	}}
	for _, tc := range []struct {
		country, continent string
		down               []string
		want, region       string
	}{
		{"DE", "EU", nil, "de", "DE"},
		{"FR", "EU", nil, "eu", "EU"},
		{"DE", "EU", []string{"de"}, "eu", "EU"},
		{"US", "NA", nil, "na", "NA"},
		{"NA", "AF", nil, "any", "*"}, // Namibia: "NA" is the continent
		{"JP", "AS", nil, "any", "*"},
		{"", "", nil, "any", "*"},
	} {
		d := Select(&p, Inputs{Health: healthOf(tc.down...)}, Client{Country: tc.country, Continent: tc.continent})
		if len(d.Endpoints) != 1 || d.Endpoints[0].ID != tc.want || d.Region != tc.region {
			t.Errorf("%s/%s: got %+v, want %s via %s", tc.country, tc.continent, d, tc.want, tc.region)
		}
	}
}

// Invariant: multivalue answers with every usable endpoint up to
// max_answers, and rotates which comes first.
func TestMultivalue(t *testing.T) {
	p := Policy{Name: "m", Type: Multivalue, Endpoints: eps("a", "b", "c", "d"), MaxAnswers: 3}
	firsts := map[string]bool{}
	for k := range uint64(64) {
		d := Select(&p, Inputs{Health: healthOf("b")}, Client{Key: k})
		if len(d.Endpoints) != 3 {
			t.Fatalf("got %d endpoints, want 3", len(d.Endpoints))
		}
		for _, e := range d.Endpoints {
			if e.ID == "b" {
				t.Fatal("unhealthy endpoint answered")
			}
		}
		firsts[d.Endpoints[0].ID] = true
	}
	if len(firsts) != 3 {
		t.Fatalf("rotation does not spread the first answer: %v", firsts)
	}
}

// Invariant: with nothing usable, the policy's fallback decides.
func TestFallback(t *testing.T) {
	down := healthOf("a", "b")
	for _, tc := range []struct {
		fallback string
		want     string
		nodata   bool
	}{
		{"", "a,b", false},
		{"all", "a,b", false},
		{"nodata", "", true},
		{"b", "b", false},
	} {
		p := Policy{Name: "f", Type: Failover, Endpoints: eps("a", "b"), Fallback: tc.fallback}
		d := Select(&p, Inputs{Health: down}, Client{})
		var got []string
		for _, e := range d.Endpoints {
			got = append(got, e.ID)
		}
		gotS := strings.Join(got, ",")
		if tc.want == "a,b" && gotS == "b,a" {
			gotS = "a,b" // rotation
		}
		if !d.Fallback || d.NoData != tc.nodata || gotS != tc.want {
			t.Errorf("fallback %q: got %+v", tc.fallback, d)
		}
	}
}

// Invariant: latency answers with the committed preferred endpoint while it
// is usable, and with a usable one otherwise.
func TestLatency(t *testing.T) {
	p := Policy{Name: "l", Type: Latency, Endpoints: eps("a", "b")}
	if d := Select(&p, Inputs{Preferred: "b"}, Client{}); d.Endpoints[0].ID != "b" {
		t.Fatalf("preferred not chosen: %+v", d)
	}
	if d := Select(&p, Inputs{Preferred: "b", Health: healthOf("b")}, Client{}); d.Endpoints[0].ID != "a" {
		t.Fatalf("unhealthy preferred chosen: %+v", d)
	}
}

func BenchmarkSelectWeighted(b *testing.B) {
	p := Policy{Name: "w", Type: Weighted, Endpoints: eps("a", "b", "c")}
	for i := range p.Endpoints {
		p.Endpoints[i].Weight = i + 1
	}
	in := Inputs{Health: healthOf()}
	b.ReportAllocs()
	for i := range b.N {
		_ = Select(&p, in, Client{Key: uint64(i)})
	}
}
