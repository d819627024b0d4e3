package gtm

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Verdicts is the committed health state of one policy: what every node
// answers by. The leader changes it through Raft (see Decide); nothing else
// does.
type Verdicts struct {
	// Health holds the verdict of each endpoint that has one; an endpoint
	// absent from the map is Unknown (used like a healthy one).
	Health map[string]Health `json:"health,omitempty"`
	// Preferred is the endpoint a latency policy answers with ("" until the
	// first latency verdict).
	Preferred string `json:"preferred,omitempty"`
	// LatencyMS is each endpoint's latency as the cluster measured it
	// (median over the reporting nodes) when Preferred was last decided.
	LatencyMS map[string]float64 `json:"latency_ms,omitempty"`
}

// Of returns the verdict of one endpoint.
func (v Verdicts) Of(endpointID string) Health { return v.Health[endpointID] }

// Equal reports whether two verdicts answer alike (Health and Preferred;
// the latency figures are informational).
func (v Verdicts) Equal(w Verdicts) bool {
	if v.Preferred != w.Preferred {
		return false
	}
	n := 0
	for id, h := range v.Health {
		if h == HealthUnknown {
			continue
		}
		n++
		if w.Health[id] != h {
			return false
		}
	}
	m := 0
	for _, h := range w.Health {
		if h != HealthUnknown {
			m++
		}
	}
	return n == m
}

// MarshalJSON writes a verdict as "healthy", "unhealthy" or "unknown".
func (h Health) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

// UnmarshalJSON reads a verdict written by MarshalJSON.
func (h *Health) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	switch s {
	case "healthy":
		*h = Healthy
	case "unhealthy":
		*h = Unhealthy
	case "unknown", "":
		*h = HealthUnknown
	default:
		return fmt.Errorf("health %q is not healthy, unhealthy or unknown", s)
	}
	return nil
}

// Observation is what one node's probes say about one endpoint of one
// policy: its own thresholded view, before any agreement.
type Observation struct {
	Node                string    `json:"node"`
	Policy              string    `json:"policy"`
	Endpoint            string    `json:"endpoint"`
	Status              Health    `json:"status"`
	LastCheck           time.Time `json:"last_check"`
	LatencyMS           float64   `json:"latency_ms"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastError           string    `json:"last_error,omitempty"`
}

// DefaultLatencyHysteresis is how much faster another endpoint must be
// before a latency policy moves its answer to it, when the policy sets no
// latency_hysteresis.
const DefaultLatencyHysteresis = 20 * time.Millisecond

// Decide returns the verdicts p should have, given the committed ones and
// the latest fresh observation of each reporting node (at most one per node
// and endpoint; stale ones already dropped by the caller). It is a pure
// function.
//
// An endpoint's verdict changes only when at least quorum nodes report a
// decided status (healthy or unhealthy) for it and a strict majority of
// them agree on the new one: one node cut off from an endpoint cannot flip
// it, a tie keeps the committed verdict, and so does a cluster where too
// few nodes report (the caller passes a majority of the voters). For latency policies the preferred endpoint
// moves only when another usable endpoint's median latency beats the
// current one's by more than the hysteresis, or when the current one is no
// longer usable.
func Decide(p *Policy, cur Verdicts, obs []Observation, quorum int) Verdicts {
	next := Verdicts{Health: map[string]Health{}}
	type tally struct {
		healthy, unhealthy int
		lat                []float64
	}
	t := map[string]*tally{}
	for _, o := range obs {
		if o.Policy != p.Name {
			continue
		}
		x := t[o.Endpoint]
		if x == nil {
			x = &tally{}
			t[o.Endpoint] = x
		}
		switch o.Status {
		case Healthy:
			x.healthy++
			x.lat = append(x.lat, o.LatencyMS)
		case Unhealthy:
			x.unhealthy++
		}
	}
	for _, e := range p.Endpoints {
		h := cur.Of(e.ID)
		if x := t[e.ID]; x != nil && x.healthy+x.unhealthy >= quorum {
			n := x.healthy + x.unhealthy
			switch {
			case 2*x.unhealthy > n:
				h = Unhealthy
			case 2*x.healthy > n:
				h = Healthy
			}
		}
		if h != HealthUnknown {
			next.Health[e.ID] = h
		}
	}
	if p.Type != Latency {
		return next
	}
	next.LatencyMS = map[string]float64{}
	for _, e := range p.Endpoints {
		if x := t[e.ID]; x != nil && len(x.lat) > 0 {
			next.LatencyMS[e.ID] = median(x.lat)
		}
	}
	usable := func(id string) bool {
		for _, e := range p.Endpoints {
			if e.ID == id {
				return !e.Disabled && next.Health[id] != Unhealthy
			}
		}
		return false
	}
	best, bestMS := "", 0.0
	for _, e := range p.Endpoints {
		ms, ok := next.LatencyMS[e.ID]
		if ok && usable(e.ID) && (best == "" || ms < bestMS) {
			best, bestMS = e.ID, ms
		}
	}
	next.Preferred = cur.Preferred
	curMS, curKnown := next.LatencyMS[cur.Preferred]
	hyst := float64(p.latencyHysteresis()) / float64(time.Millisecond)
	switch {
	case best == "":
		// No fresh latency: keep the committed choice while it is usable.
		if !usable(cur.Preferred) {
			next.Preferred = ""
		}
	case !usable(cur.Preferred) || !curKnown:
		next.Preferred = best
	case bestMS+hyst < curMS:
		next.Preferred = best
	}
	return next
}

func (p *Policy) latencyHysteresis() time.Duration {
	if p.LatencyHysteresis > 0 {
		return time.Duration(p.LatencyHysteresis)
	}
	return DefaultLatencyHysteresis
}

// median of a non-empty slice (sorted in place).
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
