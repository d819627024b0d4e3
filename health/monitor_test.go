package health

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// Invariant: the Monitor reports one observation per checked endpoint,
// stamped with its node; an endpoint that fails threshold probes in a row
// is unhealthy on this node and OnChange fires; an endpoint whose address
// changes starts again from unknown; a policy without a check, or removed,
// is not reported.
func TestMonitorObservations(t *testing.T) {
	var down atomic.Bool
	var changes atomic.Int32
	probe := func(_ context.Context, tg Target, _ gtm.HealthCheck) Observation {
		ok := !(down.Load() && tg.EndpointID == "b")
		o := Observation{EndpointID: tg.EndpointID, OK: ok, Latency: time.Millisecond, At: time.Now()}
		if !ok {
			o.Error = "refused"
		}
		return o
	}
	m := NewMonitor(context.Background(), MonitorConfig{Node: "n1", Probe: probe, OnChange: func() { changes.Add(1) }})
	defer m.Stop()
	hc := &gtm.HealthCheck{Type: "tcp", Port: 1, Interval: gtm.Duration(5 * time.Millisecond), Threshold: 2, HealthyThreshold: 1}
	p := gtm.Policy{Name: "web", Type: gtm.Weighted, Endpoints: []gtm.Endpoint{{ID: "a", Address: "192.0.2.1", Weight: 1}, {ID: "b", Address: "192.0.2.2", Weight: 1}}, HealthCheck: hc}
	plain := gtm.Policy{Name: "plain", Type: gtm.Weighted, Endpoints: []gtm.Endpoint{{ID: "x", Address: "192.0.2.9", Weight: 1}}}
	m.SetPolicies([]gtm.Policy{p, plain})

	status := func(id string) gtm.Observation {
		for _, o := range m.Observations() {
			if o.Endpoint == id {
				return o
			}
		}
		t.Fatalf("no observation of %s in %+v", id, m.Observations())
		return gtm.Observation{}
	}
	waitFor(t, "both endpoints healthy", func() bool {
		return status("a").Status == gtm.Healthy && status("b").Status == gtm.Healthy
	})
	if obs := m.Observations(); len(obs) != 2 || obs[0].Node != "n1" || obs[0].Policy != "web" {
		t.Fatalf("observations %+v", obs)
	}
	before := changes.Load()
	down.Store(true)
	waitFor(t, "b unhealthy", func() bool { return status("b").Status == gtm.Unhealthy })
	if o := status("b"); o.LastError != "refused" || o.ConsecutiveFailures < 2 || changes.Load() <= before {
		t.Fatalf("b: %+v, changes %d (was %d)", o, changes.Load(), before)
	}

	moved := p
	moved.Endpoints = []gtm.Endpoint{p.Endpoints[0], {ID: "b", Address: "192.0.2.3", Weight: 1}}
	slow := *hc
	slow.Interval = gtm.Duration(time.Hour) // no probe of the new job runs during the test
	moved.HealthCheck = &slow
	m.SetPolicies([]gtm.Policy{moved})
	if o := status("b"); o.Status != gtm.HealthUnknown || o.ConsecutiveFailures != 0 {
		t.Fatalf("b after its address changed: %+v", o)
	}
	m.SetPolicies(nil)
	if obs := m.Observations(); len(obs) != 0 {
		t.Fatalf("observations after every policy went: %+v", obs)
	}
}
