package gtm

import "math/bits"

// Health is an endpoint's committed verdict: the one every node answers by.
type Health uint8

// The verdicts. An endpoint nobody has reported on yet is Unknown and is
// used like a healthy one (fail open): a new policy answers at once.
const (
	HealthUnknown Health = iota
	Healthy
	Unhealthy
)

// String names the verdict as the API shows it.
func (h Health) String() string {
	switch h {
	case Healthy:
		return "healthy"
	case Unhealthy:
		return "unhealthy"
	}
	return "unknown"
}

// defaultMaxAnswers caps multivalue answers and fail-open fallbacks when the
// policy sets no max_answers: eight A records fit any UDP reply.
const defaultMaxAnswers = 8

// Client is what a selection knows about who asks.
type Client struct {
	Country   string // ISO 3166-1 alpha-2, upper case; "" when unknown
	Continent string // NA, SA, EU, AF, AS, OC, AN; "" when unknown
	// Key spreads choices over endpoints. The DNS server derives it from the
	// query (see Key), so the same query from the same client gets the same
	// answer on every node.
	Key uint64
}

// Inputs is the committed state a selection reads.
type Inputs struct {
	// Health returns an endpoint's verdict; nil means every endpoint is
	// Unknown (a policy without health checks).
	Health func(endpointID string) Health
	// Preferred is the endpoint the committed latency verdict prefers, for
	// latency policies ("" when none is known yet).
	Preferred string
}

// Decision is the outcome of Select.
type Decision struct {
	Endpoints []Endpoint // the answer; empty when NoData
	NoData    bool       // answer NODATA (fallback "nodata", or nothing usable)
	Fallback  bool       // no endpoint was usable; the policy's fallback decided
	Region    string     // geographic: the region level that matched ("" none)
	Reason    string     // one line for `resolvx explain`
}

// Select chooses the endpoints a policy answers with. It is a pure function
// of the policy, the committed inputs and the client: every node that holds
// the same state gives the same answer to the same query. Disabled (drained)
// and unhealthy endpoints are never chosen, except by an explicit fallback.
func Select(p *Policy, in Inputs, c Client) Decision {
	usable := func(e *Endpoint) bool {
		return !e.Disabled && (in.Health == nil || in.Health(e.ID) != Unhealthy)
	}
	switch p.Type {
	case Weighted:
		if e, ok := pickWeighted(p.Endpoints, usable, c.Key, false); ok {
			return Decision{Endpoints: []Endpoint{e}, Reason: "weighted choice among healthy endpoints"}
		}
	case Failover:
		best := -1
		for i := range p.Endpoints {
			if e := &p.Endpoints[i]; usable(e) && (best < 0 || e.Priority < p.Endpoints[best].Priority) {
				best = i
			}
		}
		if best >= 0 {
			return Decision{Endpoints: []Endpoint{p.Endpoints[best]}, Reason: "lowest priority healthy endpoint"}
		}
	case Geographic:
		// Most specific first: the client's country, its continent, then
		// "*". A code that names a continent is never matched as a country
		// (see IsContinent).
		for _, region := range []string{c.Country, c.Continent, RegionAny} {
			if region == "" || (region == c.Country && IsContinent(region)) {
				continue
			}
			inRegion := func(e *Endpoint) bool { return e.Region == region && usable(e) }
			if e, ok := pickWeighted(p.Endpoints, inRegion, c.Key, true); ok {
				return Decision{Endpoints: []Endpoint{e}, Region: region, Reason: "healthy endpoint in region " + region}
			}
		}
	case Latency:
		for i := range p.Endpoints {
			if e := &p.Endpoints[i]; e.ID == in.Preferred && usable(e) {
				return Decision{Endpoints: []Endpoint{*e}, Reason: "lowest measured latency"}
			}
		}
		for i := range p.Endpoints {
			if e := &p.Endpoints[i]; usable(e) {
				return Decision{Endpoints: []Endpoint{*e}, Reason: "no latency verdict yet: first healthy endpoint"}
			}
		}
	case Multivalue:
		out := rotated(p.Endpoints, usable, c.Key, maxAnswers(p))
		if len(out) > 0 {
			return Decision{Endpoints: out, Reason: "every healthy endpoint, up to max_answers"}
		}
	}
	return fallback(p, c.Key)
}

// fallback applies the policy's choice for when nothing is usable.
func fallback(p *Policy, key uint64) Decision {
	switch p.Fallback {
	case "nodata":
		return Decision{NoData: true, Fallback: true, Reason: "no healthy endpoint: fallback nodata"}
	case "", "all":
		out := rotated(p.Endpoints, func(e *Endpoint) bool { return !e.Disabled }, key, maxAnswers(p))
		if len(out) == 0 {
			return Decision{NoData: true, Fallback: true, Reason: "no healthy endpoint and every endpoint is drained"}
		}
		return Decision{Endpoints: out, Fallback: true, Reason: "no healthy endpoint: fail open to every endpoint"}
	}
	for _, e := range p.Endpoints {
		if e.ID == p.Fallback {
			return Decision{Endpoints: []Endpoint{e}, Fallback: true, Reason: "no healthy endpoint: fallback endpoint " + e.ID}
		}
	}
	return Decision{NoData: true, Fallback: true, Reason: "no healthy endpoint and the fallback endpoint is gone"}
}

func maxAnswers(p *Policy) int {
	if p.MaxAnswers > 0 {
		return p.MaxAnswers
	}
	return defaultMaxAnswers
}

// pickWeighted chooses one endpoint among those ok accepts, in proportion
// to weight (zeroAsOne: a weight of 0 counts as 1, for geographic policies
// where weights are optional).
func pickWeighted(eps []Endpoint, ok func(*Endpoint) bool, key uint64, zeroAsOne bool) (Endpoint, bool) {
	weight := func(e *Endpoint) uint64 {
		if e.Weight <= 0 && zeroAsOne {
			return 1
		}
		return uint64(max(e.Weight, 0))
	}
	var total uint64
	for i := range eps {
		if ok(&eps[i]) {
			total += weight(&eps[i])
		}
	}
	if total == 0 {
		return Endpoint{}, false
	}
	// Map the mixed key onto [0, total) without modulo bias.
	r, _ := bits.Mul64(mix(key), total)
	for i := range eps {
		if e := &eps[i]; ok(e) {
			w := weight(e)
			if r < w {
				return *e, true
			}
			r -= w
		}
	}
	return Endpoint{}, false // unreachable: r < total
}

// rotated returns up to limit endpoints that ok accepts, in policy order
// rotated by the key, so that clients spread over the first answer.
func rotated(eps []Endpoint, ok func(*Endpoint) bool, key uint64, limit int) []Endpoint {
	var out []Endpoint
	for i := range eps {
		if ok(&eps[i]) {
			out = append(out, eps[i])
		}
	}
	if len(out) == 0 {
		return nil
	}
	k := int(mix(key) % uint64(len(out)))
	out = append(out[k:], out[:k]...)
	return out[:min(limit, len(out))]
}

// mix is splitmix64's finaliser: consecutive keys spread uniformly.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
