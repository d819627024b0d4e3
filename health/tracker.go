package health

import (
	"sync"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// Status is what one node's observations say about one endpoint.
type Status struct {
	EndpointID string
	// Health is this node's view: Unknown until the first threshold is
	// reached either way.
	Health               gtm.Health
	LastCheck            time.Time // when the last observation was made
	Latency              time.Duration
	ConsecutiveFailures  int
	ConsecutiveSuccesses int
	LastError            string // the last failure's error; "" after a success
}

// LatencyMS is Latency in milliseconds, as the API shows it.
func (s Status) LatencyMS() float64 {
	return float64(s.Latency) / float64(time.Millisecond)
}

// Next applies one observation to s under hc's thresholds (gtm's defaults
// when zero) and returns the new status. It is a pure function:
//
//   - healthy becomes unhealthy after hc.Threshold consecutive failures;
//   - unhealthy becomes healthy after hc.HealthyThreshold consecutive
//     successes;
//   - unknown (nothing decided yet) becomes healthy after HealthyThreshold
//     consecutive successes and unhealthy after Threshold consecutive
//     failures. An endpoint is not declared healthy on one lucky probe,
//     and since gtm.Select uses unknown endpoints like healthy ones (fail
//     open), a new endpoint answers from the start and leaves only once
//     Threshold probes in a row have failed.
func (s Status) Next(o Observation, hc gtm.HealthCheck) Status {
	down, up := hc.Threshold, hc.HealthyThreshold
	if down <= 0 {
		down = gtm.DefaultThreshold
	}
	if up <= 0 {
		up = gtm.DefaultHealthyThreshold
	}
	s.EndpointID = o.EndpointID
	s.LastCheck = o.At
	s.Latency = o.Latency
	if o.OK {
		s.ConsecutiveFailures = 0
		s.ConsecutiveSuccesses++
		s.LastError = ""
		if s.Health != gtm.Healthy && s.ConsecutiveSuccesses >= up {
			s.Health = gtm.Healthy
		}
		return s
	}
	s.ConsecutiveSuccesses = 0
	s.ConsecutiveFailures++
	s.LastError = o.Error
	if s.Health != gtm.Unhealthy && s.ConsecutiveFailures >= down {
		s.Health = gtm.Unhealthy
	}
	return s
}

// Tracker keeps the Status of each endpoint of one policy from the
// observations fed to it. It is safe for concurrent use.
type Tracker struct {
	mu     sync.Mutex
	status map[string]Status
}

// NewTracker returns a Tracker that knows no endpoint yet.
func NewTracker() *Tracker {
	return &Tracker{status: map[string]Status{}}
}

// Observe applies o under hc's thresholds and returns the endpoint's new
// status and whether its Health changed.
func (t *Tracker) Observe(o Observation, hc gtm.HealthCheck) (Status, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.status[o.EndpointID]
	s := old.Next(o, hc)
	t.status[o.EndpointID] = s
	return s, s.Health != old.Health
}

// Status returns the endpoint's status; an endpoint never observed is
// Unknown with zero counters.
func (t *Tracker) Status(endpointID string) Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.status[endpointID]
	if !ok {
		s.EndpointID = endpointID
	}
	return s
}

// Forget drops an endpoint that is no longer checked.
func (t *Tracker) Forget(endpointID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.status, endpointID)
}
