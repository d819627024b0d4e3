package health

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// TCP succeeds when a connection to the endpoint at hc.Port opens within
// hc.Timeout. The connection is closed at once.
func (p *Prober) TCP(ctx context.Context, t Target, hc gtm.HealthCheck) Observation {
	ctx, cancel := withTimeout(ctx, hc)
	defer cancel()
	addr, _, err := resolve(ctx, p.Resolver, t, hc.AllowUnsafeTargets)
	if err != nil {
		return p.fail(t, 0, err)
	}
	if hc.Port <= 0 {
		return p.fail(t, 0, errors.New("no port"))
	}
	start := time.Now()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(addr, port(hc, 0)).String())
	latency := time.Since(start)
	if err != nil {
		return p.fail(t, latency, err)
	}
	c.Close()
	return p.ok(t, latency)
}
