package health

import (
	"testing"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

func TestStatusNext(t *testing.T) {
	const (
		U = gtm.HealthUnknown
		H = gtm.Healthy
		D = gtm.Unhealthy
	)
	cases := []struct {
		name      string
		threshold int // failures to go down; 0 = gtm default (3)
		healthy   int // successes to come up; 0 = gtm default (2)
		seq       string
		want      []gtm.Health // status after each observation
	}{
		{name: "unknown needs healthy_threshold successes", seq: "++", want: []gtm.Health{U, H}},
		{name: "unknown needs threshold failures", seq: "---", want: []gtm.Health{U, U, D}},
		{name: "unknown, mixed, stays unknown", seq: "+-+-+-", want: []gtm.Health{U, U, U, U, U, U}},
		{name: "healthy goes down after threshold", seq: "++---", want: []gtm.Health{U, H, H, H, D}},
		{name: "a success resets failures", seq: "++--+--", want: []gtm.Health{U, H, H, H, H, H, H}},
		{name: "unhealthy comes back after healthy_threshold", seq: "---++", want: []gtm.Health{U, U, D, D, H}},
		{name: "a failure resets successes", seq: "---+-+", want: []gtm.Health{U, U, D, D, D, D}},
		{name: "flap back down", seq: "++---++---", want: []gtm.Health{U, H, H, H, D, D, H, H, H, D}},
		{name: "thresholds of one", threshold: 1, healthy: 1, seq: "+-+", want: []gtm.Health{H, D, H}},
		{name: "custom thresholds", threshold: 2, healthy: 3, seq: "+++--+++", want: []gtm.Health{U, U, H, H, D, D, D, H}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hc := gtm.HealthCheck{Threshold: c.threshold, HealthyThreshold: c.healthy}
			var s Status
			for i, r := range c.seq {
				o := Observation{EndpointID: "e", OK: r == '+', At: time.Unix(int64(i), 0)}
				if !o.OK {
					o.Error = "timeout"
				}
				s = s.Next(o, hc)
				if s.Health != c.want[i] {
					t.Fatalf("after %q: %v, want %v", c.seq[:i+1], s.Health, c.want[i])
				}
			}
		})
	}
}

func TestStatusFields(t *testing.T) {
	hc := gtm.HealthCheck{}
	var s Status
	at := time.Unix(100, 0)
	s = s.Next(Observation{EndpointID: "e", Error: "status 500, want 200", Latency: 3 * time.Millisecond, At: at}, hc)
	s = s.Next(Observation{EndpointID: "e", Error: "timeout", Latency: 0, At: at.Add(time.Second)}, hc)
	if s.EndpointID != "e" || s.ConsecutiveFailures != 2 || s.ConsecutiveSuccesses != 0 || s.LastError != "timeout" || !s.LastCheck.Equal(at.Add(time.Second)) {
		t.Fatalf("after two failures: %+v", s)
	}
	s = s.Next(Observation{EndpointID: "e", OK: true, Latency: 1500 * time.Microsecond, At: at.Add(2 * time.Second)}, hc)
	if s.ConsecutiveFailures != 0 || s.ConsecutiveSuccesses != 1 || s.LastError != "" || s.LatencyMS() != 1.5 {
		t.Fatalf("after a success: %+v (latency %v ms)", s, s.LatencyMS())
	}
}

func TestTracker(t *testing.T) {
	tr := NewTracker()
	hc := gtm.HealthCheck{Threshold: 1, HealthyThreshold: 1}
	if s := tr.Status("a"); s.Health != gtm.HealthUnknown || s.EndpointID != "a" {
		t.Fatalf("unobserved: %+v", s)
	}
	if s, changed := tr.Observe(Observation{EndpointID: "a", OK: true}, hc); !changed || s.Health != gtm.Healthy {
		t.Fatalf("first success: %+v changed=%v", s, changed)
	}
	if _, changed := tr.Observe(Observation{EndpointID: "a", OK: true}, hc); changed {
		t.Fatal("second success changed the status")
	}
	if s, changed := tr.Observe(Observation{EndpointID: "b", Error: "timeout"}, hc); !changed || s.Health != gtm.Unhealthy {
		t.Fatalf("b failure: %+v changed=%v", s, changed)
	}
	if tr.Status("a").Health != gtm.Healthy || tr.Status("b").Health != gtm.Unhealthy {
		t.Fatal("endpoints are not tracked apart")
	}
	tr.Forget("a")
	if tr.Status("a").Health != gtm.HealthUnknown {
		t.Fatal("Forget kept the status")
	}
}
