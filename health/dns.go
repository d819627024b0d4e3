package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/gtm"
)

// DNS asks the endpoint at hc.Port (53 when unset) for hc.Query of
// hc.RecordType (A when unset), over UDP and again over TCP when the reply
// is truncated. It succeeds when the rcode is NOERROR and, if
// hc.ExpectedValue is set, the presentation form of some answer's rdata
// contains it (compared without regard to case, so "192.0.2.1" or
// "ns1.example." match as written).
func (p *Prober) DNS(ctx context.Context, t Target, hc gtm.HealthCheck) Observation {
	ctx, cancel := withTimeout(ctx, hc)
	defer cancel()
	addr, _, err := resolve(ctx, p.Resolver, t, hc.AllowUnsafeTargets)
	if err != nil {
		return p.fail(t, 0, err)
	}
	if hc.Query == "" {
		return p.fail(t, 0, errors.New("no query name"))
	}
	rtype := dns.TypeA
	if hc.RecordType != "" {
		var ok bool
		if rtype, ok = dns.StringToType[strings.ToUpper(hc.RecordType)]; !ok {
			return p.fail(t, 0, errors.New("unknown record type"))
		}
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(hc.Query), rtype)
	m.RecursionDesired = false
	server := netip.AddrPortFrom(addr, port(hc, 53)).String()
	start := time.Now()
	c := &dns.Client{Net: "udp"}
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && r.Truncated {
		c = &dns.Client{Net: "tcp"}
		r, _, err = c.ExchangeContext(ctx, m, server)
	}
	latency := time.Since(start)
	if err != nil {
		return p.fail(t, latency, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return p.fail(t, latency, fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode]))
	}
	if hc.ExpectedValue != "" && !answerContains(r.Answer, hc.ExpectedValue) {
		return p.fail(t, latency, fmt.Errorf("no answer contains the expected value"))
	}
	return p.ok(t, latency)
}

// answerContains says whether the rdata of some answer, in presentation
// form, contains want.
func answerContains(rrs []dns.RR, want string) bool {
	want = strings.ToLower(want)
	for _, rr := range rrs {
		rdata := strings.TrimPrefix(rr.String(), rr.Header().String())
		if strings.Contains(strings.ToLower(rdata), want) {
			return true
		}
	}
	return false
}
