package health

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// Prober runs health checks. Its HTTP, TCP, DNS and Probe methods all have
// the form func(ctx, Target, gtm.HealthCheck) Observation. The check is
// expected to have been validated by gtm (defaults filled in); zero
// timeouts and ports fall back to gtm's defaults.
type Prober struct {
	// Resolver resolves host-name endpoints. It must not be resolvx
	// itself. When nil, checks of host-name endpoints fail.
	Resolver Resolver
	// Now stamps observations; time.Now when nil.
	Now func() time.Time
}

// Probe runs the check of hc.Type ("http", "https", "tcp" or "dns").
func (p *Prober) Probe(ctx context.Context, t Target, hc gtm.HealthCheck) Observation {
	switch strings.ToLower(hc.Type) {
	case "http", "https":
		return p.HTTP(ctx, t, hc)
	case "tcp":
		return p.TCP(ctx, t, hc)
	case "dns":
		return p.DNS(ctx, t, hc)
	}
	return p.fail(t, 0, errors.New("unknown check type "+strings.ToValidUTF8(hc.Type, "?")))
}

func (p *Prober) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// withTimeout bounds one probe by the check's timeout.
func withTimeout(ctx context.Context, hc gtm.HealthCheck) (context.Context, context.CancelFunc) {
	d := time.Duration(hc.Timeout)
	if d <= 0 {
		d = gtm.DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// port returns the check's port, or def when unset.
func port(hc gtm.HealthCheck, def int) uint16 {
	if hc.Port > 0 && hc.Port <= 65535 {
		return uint16(hc.Port)
	}
	return uint16(def)
}

func (p *Prober) ok(t Target, latency time.Duration) Observation {
	return Observation{EndpointID: t.EndpointID, OK: true, Latency: latency, At: p.now()}
}

func (p *Prober) fail(t Target, latency time.Duration, err error) Observation {
	return Observation{EndpointID: t.EndpointID, Latency: latency, Error: shortError(err), At: p.now()}
}
