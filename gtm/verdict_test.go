package gtm

import (
	"testing"
	"time"
)

func obs(node, ep string, h Health, ms float64) Observation {
	return Observation{Node: node, Policy: "p", Endpoint: ep, Status: h, LatencyMS: ms, LastCheck: time.Unix(1, 0)}
}

// Invariant: a verdict changes only when a strict majority of the nodes
// that report a decided status agree; ties and unknowns keep it.
func TestDecideHealthNeedsMajority(t *testing.T) {
	p := &Policy{Name: "p", Type: Failover, Endpoints: []Endpoint{{ID: "a", Address: "192.0.2.1"}}}
	up := Verdicts{Health: map[string]Health{"a": Healthy}}
	for _, tc := range []struct {
		name   string
		cur    Verdicts
		obs    []Observation
		quorum int
		want   Health
	}{
		{"nobody reports: stays unknown", Verdicts{}, nil, 1, HealthUnknown},
		{"one of three cut off", up, []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", Healthy, 1), obs("n3", "a", Healthy, 1)}, 2, Healthy},
		{"two of three cannot reach it", up, []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", Unhealthy, 0), obs("n3", "a", Healthy, 1)}, 2, Unhealthy},
		{"tie of two keeps healthy", up, []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", Healthy, 1)}, 2, Healthy},
		{"tie of two keeps unhealthy", Verdicts{Health: map[string]Health{"a": Unhealthy}}, []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", Healthy, 1)}, 2, Unhealthy},
		{"unknown observers do not vote", up, []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", HealthUnknown, 0), obs("n3", "a", HealthUnknown, 0)}, 1, Unhealthy},
		{"unknown observers do not count toward the quorum", up, []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", HealthUnknown, 0), obs("n3", "a", HealthUnknown, 0)}, 2, Healthy},
		{"majority back up", Verdicts{Health: map[string]Health{"a": Unhealthy}}, []Observation{obs("n1", "a", Healthy, 1), obs("n2", "a", Healthy, 1), obs("n3", "a", Unhealthy, 0)}, 2, Healthy},
		{"three of five", up, []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", Unhealthy, 0), obs("n3", "a", Unhealthy, 0), obs("n4", "a", Healthy, 1), obs("n5", "a", Healthy, 1)}, 3, Unhealthy},
		{"too few reporters for the quorum", up, []Observation{obs("n1", "a", Unhealthy, 0)}, 2, Healthy},
		{"another policy's observations are ignored", up, []Observation{{Node: "n1", Policy: "q", Endpoint: "a", Status: Unhealthy}}, 1, Healthy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(p, tc.cur, tc.obs, tc.quorum).Of("a"); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Invariant: a latency policy prefers the endpoint with the lowest median
// latency, moves only past the hysteresis, and leaves an endpoint that is
// no longer usable at once.
func TestDecideLatencyHysteresis(t *testing.T) {
	p := &Policy{Name: "p", Type: Latency, LatencyHysteresis: Duration(20 * time.Millisecond),
		Endpoints: []Endpoint{{ID: "a", Address: "192.0.2.1"}, {ID: "b", Address: "192.0.2.2"}}}
	both := func(a, b float64) []Observation {
		return []Observation{obs("n1", "a", Healthy, a), obs("n2", "a", Healthy, a), obs("n1", "b", Healthy, b), obs("n2", "b", Healthy, b)}
	}
	healthy := map[string]Health{"a": Healthy, "b": Healthy}
	for _, tc := range []struct {
		name string
		cur  string
		obs  []Observation
		want string
	}{
		{"first verdict: the faster", "", both(50, 10), "b"},
		{"within the hysteresis: stays", "a", both(25, 10), "a"},
		{"past the hysteresis: moves", "a", both(250, 10), "b"},
		{"current one down: moves", "a", []Observation{obs("n1", "a", Unhealthy, 0), obs("n2", "a", Unhealthy, 0), obs("n1", "b", Healthy, 90), obs("n2", "b", Healthy, 90)}, "b"},
		{"median across nodes", "", []Observation{obs("n1", "a", Healthy, 5), obs("n2", "a", Healthy, 100), obs("n3", "a", Healthy, 100), obs("n1", "b", Healthy, 50), obs("n2", "b", Healthy, 50), obs("n3", "b", Healthy, 50)}, "b"},
		{"no fresh latency: keeps the usable choice", "a", nil, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(p, Verdicts{Health: healthy, Preferred: tc.cur}, tc.obs, 1)
			if got.Preferred != tc.want {
				t.Fatalf("preferred %q, want %q (%+v)", got.Preferred, tc.want, got)
			}
		})
	}
}

func TestVerdictsEqualIgnoresLatencyFigures(t *testing.T) {
	a := Verdicts{Health: map[string]Health{"x": Healthy, "y": HealthUnknown}, Preferred: "x", LatencyMS: map[string]float64{"x": 1}}
	b := Verdicts{Health: map[string]Health{"x": Healthy}, Preferred: "x", LatencyMS: map[string]float64{"x": 9}}
	if !a.Equal(b) || !b.Equal(a) {
		t.Fatal("equal verdicts compare unequal")
	}
	b.Health["y"] = Unhealthy
	if a.Equal(b) || b.Equal(a) {
		t.Fatal("different verdicts compare equal")
	}
}
