package gtm

import (
	"math/bits"
	"slices"

	"github.com/miekg/dns"
)

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
//
// Select compiles the policy against the inputs and chooses once; a Table
// does the same compilation once per state and chooses per query (see
// Bound.AppendAnswer), so both always agree.
func Select(p *Policy, in Inputs, c Client) Decision {
	health := func(e *Endpoint) Health {
		if in.Health == nil {
			return HealthUnknown
		}
		return in.Health(e.ID)
	}
	var ch chooser
	ch.compile(p, health, in.Preferred, nil, maxAnswers(p))
	d := ch.decide(c)
	// The chooser's slices are its own; the caller gets copies it may keep
	// and change.
	d.Endpoints = slices.Clone(d.Endpoints)
	return d
}

// chooser is a policy compiled against fixed committed inputs: everything
// a choice needs that does not depend on the client is worked out once, so
// that decide allocates nothing. It reads the policy it was compiled from,
// which must not change afterwards.
type chooser struct {
	p     *Policy
	rrs   []dns.RR // one per endpoint (nil entries: cannot answer); nil outside a Table
	limit int      // most endpoints a multi-endpoint answer holds

	// weighted: the usable endpoints with their weights.
	weighted group
	// failover and latency: the endpoint chosen whoever asks (-1: none),
	// and why.
	fixed       int
	fixedReason string
	// geographic: the usable endpoints of each region.
	regions map[string]*group
	// multivalue: the usable endpoints.
	usable ring

	// The fallback, when nothing above is usable.
	fbNoData  bool   // answer NODATA
	fbAll     bool   // fail open: every endpoint that is not drained
	undrained ring   // for fbAll
	fbIndex   int    // an explicit fallback endpoint (-1: none or gone)
	fbReason  string // why, for fbNoData and fbIndex
}

// group is a set of endpoints chosen among in proportion to weight.
type group struct {
	idx    []int    // member indexes into the policy's endpoints, in policy order
	cum    []uint64 // cumulative weights: cum[j] = sum of the weights of idx[:j+1]
	region string   // geographic: the region the members serve
	reason string
}

// pick maps the key onto the members by weight.
func (g *group) pick(key uint64) (int, bool) {
	if len(g.cum) == 0 || g.cum[len(g.cum)-1] == 0 {
		return 0, false
	}
	// Map the mixed key onto [0, total) without modulo bias.
	r, _ := bits.Mul64(mix(key), g.cum[len(g.cum)-1])
	for j, c := range g.cum {
		if r < c {
			return g.idx[j], true
		}
	}
	return 0, false // unreachable: r < total
}

func (g *group) add(i int, w uint64) {
	var prev uint64
	if n := len(g.cum); n > 0 {
		prev = g.cum[n-1]
	}
	g.idx = append(g.idx, i)
	g.cum = append(g.cum, prev+w)
}

// ring is a set of endpoints answered together, rotated by the key. The
// members are stored twice over, so that every rotation is one contiguous
// window and choosing copies nothing.
type ring struct {
	eps []Endpoint
	rrs []dns.RR // nil outside a Table
	n   int
}

func newRing(p *Policy, rrs []dns.RR, ok func(i int) bool) ring {
	var r ring
	for i := range p.Endpoints {
		if ok(i) {
			r.eps = append(r.eps, p.Endpoints[i])
			if rrs != nil {
				r.rrs = append(r.rrs, rrs[i])
			}
		}
	}
	r.n = len(r.eps)
	r.eps = append(r.eps, r.eps...)
	if rrs != nil {
		r.rrs = append(r.rrs, r.rrs...)
	}
	return r
}

// window returns where the rotation for key starts and ends, at most limit
// members long: the members in policy order, rotated so that clients
// spread over the first answer.
func (r *ring) window(key uint64, limit int) (lo, hi int) {
	k := int(mix(key) % uint64(r.n))
	return k, k + min(limit, r.n)
}

// compile prepares ch for p: health gives each endpoint's committed
// verdict, preferred the latency verdict's endpoint, rrs the records of a
// Table (nil otherwise; an endpoint whose record is nil is never chosen),
// limit the most endpoints one answer holds.
func (ch *chooser) compile(p *Policy, health func(*Endpoint) Health, preferred string, rrs []dns.RR, limit int) {
	*ch = chooser{p: p, rrs: rrs, limit: max(limit, 1), fixed: -1, fbIndex: -1}
	answerable := func(i int) bool { return rrs == nil || (i < len(rrs) && rrs[i] != nil) }
	mask := make([]bool, len(p.Endpoints))
	for i := range p.Endpoints {
		e := &p.Endpoints[i]
		mask[i] = answerable(i) && !e.Disabled && health(e) != Unhealthy
	}
	usable := func(i int) bool { return mask[i] }
	switch p.Type {
	case Weighted:
		for i := range p.Endpoints {
			if usable(i) {
				ch.weighted.add(i, uint64(max(p.Endpoints[i].Weight, 0)))
			}
		}
		ch.weighted.reason = "weighted choice among healthy endpoints"
	case Failover:
		for i := range p.Endpoints {
			if usable(i) && (ch.fixed < 0 || p.Endpoints[i].Priority < p.Endpoints[ch.fixed].Priority) {
				ch.fixed = i
			}
		}
		ch.fixedReason = "lowest priority healthy endpoint"
	case Geographic:
		ch.regions = map[string]*group{}
		for i := range p.Endpoints {
			if !usable(i) {
				continue
			}
			e := &p.Endpoints[i]
			g := ch.regions[e.Region]
			if g == nil {
				g = &group{region: e.Region, reason: "healthy endpoint in region " + e.Region}
				ch.regions[e.Region] = g
			}
			w := uint64(max(e.Weight, 0))
			if e.Weight <= 0 {
				w = 1 // weights are optional in a geographic policy
			}
			g.add(i, w)
		}
	case Latency:
		for i := range p.Endpoints {
			if p.Endpoints[i].ID == preferred && usable(i) {
				ch.fixed, ch.fixedReason = i, "lowest measured latency"
				break
			}
		}
		if ch.fixed < 0 {
			for i := range p.Endpoints {
				if usable(i) {
					ch.fixed, ch.fixedReason = i, "no latency verdict yet: first healthy endpoint"
					break
				}
			}
		}
	case Multivalue:
		ch.usable = newRing(p, rrs, usable)
	}
	switch p.Fallback {
	case "nodata":
		ch.fbNoData, ch.fbReason = true, "no healthy endpoint: fallback nodata"
	case "", "all":
		ch.undrained = newRing(p, rrs, func(i int) bool { return answerable(i) && !p.Endpoints[i].Disabled })
		if ch.undrained.n > 0 {
			ch.fbAll = true
		} else {
			ch.fbNoData, ch.fbReason = true, "no healthy endpoint and every endpoint is drained"
		}
	default:
		for i := range p.Endpoints {
			if p.Endpoints[i].ID == p.Fallback && answerable(i) {
				ch.fbIndex, ch.fbReason = i, "no healthy endpoint: fallback endpoint "+p.Endpoints[i].ID
				break
			}
		}
		if ch.fbIndex < 0 {
			ch.fbNoData, ch.fbReason = true, "no healthy endpoint and the fallback endpoint is gone"
		}
	}
}

// choice is what decide chose, as positions in the chooser's slices, so
// that a Table can answer with the matching records.
type choice struct {
	one    int   // the single endpoint chosen (-1: see ring)
	ring   *ring // several endpoints: ring.eps[lo:hi]
	lo, hi int
}

// decide chooses for c without allocating. The decision's Endpoints share
// the chooser's memory: read-only.
func (ch *chooser) decide(c Client) Decision {
	d, _ := ch.choose(c)
	return d
}

func (ch *chooser) choose(c Client) (Decision, choice) {
	p := ch.p
	one := func(i int, reason, region string, fallback bool) (Decision, choice) {
		return Decision{Endpoints: p.Endpoints[i : i+1 : i+1], Region: region, Reason: reason, Fallback: fallback}, choice{one: i}
	}
	switch p.Type {
	case Weighted:
		if i, ok := ch.weighted.pick(c.Key); ok {
			return one(i, ch.weighted.reason, "", false)
		}
	case Failover, Latency:
		if ch.fixed >= 0 {
			return one(ch.fixed, ch.fixedReason, "", false)
		}
	case Geographic:
		// Most specific first: the client's country, its continent, then
		// "*". A code that names a continent is never matched as a country
		// (see IsContinent).
		for _, region := range [3]string{c.Country, c.Continent, RegionAny} {
			if region == "" || (region == c.Country && IsContinent(region)) {
				continue
			}
			if g := ch.regions[region]; g != nil {
				if i, ok := g.pick(c.Key); ok {
					return one(i, g.reason, g.region, false)
				}
			}
		}
	case Multivalue:
		if ch.usable.n > 0 {
			lo, hi := ch.usable.window(c.Key, ch.limit)
			return Decision{Endpoints: ch.usable.eps[lo:hi:hi], Reason: "every healthy endpoint, up to max_answers"},
				choice{one: -1, ring: &ch.usable, lo: lo, hi: hi}
		}
	}
	switch {
	case ch.fbAll:
		lo, hi := ch.undrained.window(c.Key, ch.limit)
		return Decision{Endpoints: ch.undrained.eps[lo:hi:hi], Fallback: true, Reason: "no healthy endpoint: fail open to every endpoint"},
			choice{one: -1, ring: &ch.undrained, lo: lo, hi: hi}
	case ch.fbIndex >= 0:
		return one(ch.fbIndex, ch.fbReason, "", true)
	}
	return Decision{NoData: true, Fallback: true, Reason: ch.fbReason}, choice{one: -1}
}

// records returns the records of a choice (a Table's chooser only).
func (ch *chooser) records(c choice) []dns.RR {
	switch {
	case c.one >= 0 && c.one < len(ch.rrs):
		return ch.rrs[c.one : c.one+1]
	case c.ring != nil && c.ring.rrs != nil:
		return c.ring.rrs[c.lo:c.hi]
	}
	return nil
}

func maxAnswers(p *Policy) int {
	if p.MaxAnswers > 0 {
		return p.MaxAnswers
	}
	return defaultMaxAnswers
}

// mix is splitmix64's finaliser: consecutive keys spread uniformly.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
