package gtm

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Invariant: every bad policy is refused with a VALIDATION_ERROR that says
// why (nothing is applied: Validate is called before a command is proposed).
func TestValidateRefuses(t *testing.T) {
	base := func() Policy {
		return Policy{Name: "web", Zone: "example.com", Record: "www", Type: Weighted, TTL: 30,
			Endpoints: []Endpoint{{ID: "a", Address: "192.0.2.1", Weight: 1}, {ID: "b", Address: "192.0.2.2", Weight: 1}}}
	}
	for _, tc := range []struct {
		name string
		edit func(*Policy)
		want string
	}{
		{"negative weight", func(p *Policy) { p.Endpoints[0].Weight = -1 }, "negative weight"},
		{"all zero", func(p *Policy) { p.Endpoints[0].Weight, p.Endpoints[1].Weight = 0, 0 }, "positive weight"},
		{"failover without endpoints", func(p *Policy) { p.Type, p.Endpoints = Failover, nil }, "at least one endpoint"},
		{"unknown region", func(p *Policy) { p.Type = Geographic; p.Endpoints[0].Region = "XX"; p.Endpoints[1].Region = "*" }, `region "XX"`},
		{"missing region", func(p *Policy) { p.Type = Geographic; p.Endpoints[1].Region = "EU" }, `region ""`},
		{"interval below 1s", func(p *Policy) {
			p.HealthCheck = &HealthCheck{Type: "tcp", Port: 80, Interval: Duration(500 * time.Millisecond)}
		}, "below the minimum"},
		{"file url", func(p *Policy) { p.HealthCheck = &HealthCheck{Type: "http", Path: "file:///etc/passwd"} }, "absolute URL path"},
		{"link-local", func(p *Policy) { p.Endpoints[0].Address = "169.254.10.1"; p.HealthCheck = &HealthCheck{Type: "http"} }, "link-local"},
		{"metadata", func(p *Policy) {
			p.Endpoints[0].Address = "169.254.169.254"
			p.HealthCheck = &HealthCheck{Type: "http"}
		}, "cloud-metadata"},
		{"tcp without port", func(p *Policy) { p.HealthCheck = &HealthCheck{Type: "tcp"} }, "needs a port"},
		{"unknown check", func(p *Policy) { p.HealthCheck = &HealthCheck{Type: "icmp"} }, "not one of http"},
		{"dns without query", func(p *Policy) { p.HealthCheck = &HealthCheck{Type: "dns"} }, "query name"},
		{"mixed families", func(p *Policy) { p.Endpoints[1].Address = "2001:db8::1" }, "mix"},
		{"bad fallback", func(p *Policy) { p.Fallback = "zzz" }, "fallback"},
	} {
		p := base()
		tc.edit(&p)
		_, err := Validate(p)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a validation error containing %q", tc.name, err, tc.want)
		}
	}
}

// Invariant: a valid policy gets its defaults, and unsafe targets pass when
// explicitly allowed.
func TestValidateDefaults(t *testing.T) {
	p := Policy{Name: "web", Zone: "example.com", Record: "www", Type: Geographic,
		Endpoints:   []Endpoint{{ID: "a", Address: "169.254.1.1", Region: "eu"}, {ID: "b", Address: "192.0.2.2", Region: "*"}},
		HealthCheck: &HealthCheck{Type: "HTTP", AllowUnsafeTargets: true}}
	got, err := Validate(p)
	if err != nil {
		t.Fatal(err)
	}
	hc := got.HealthCheck
	if hc.Type != "http" || hc.Port != 80 || hc.Path != "/" || hc.Method != "GET" || hc.ExpectedStatus != 200 ||
		time.Duration(hc.Interval) != DefaultInterval || time.Duration(hc.Timeout) != DefaultTimeout || hc.Threshold != 3 || hc.HealthyThreshold != 2 {
		t.Fatalf("defaults not filled: %+v", hc)
	}
	if got.Endpoints[0].Region != "EU" || p.Endpoints[0].Region != "eu" {
		t.Fatal("region not normalised on a copy")
	}
}
