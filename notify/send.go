package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// notifyMsg builds the NOTIFY for zoneName with its current SOA in the
// answer section (RFC 1996 §3.7), and the TSIG secret map when the zone's
// transfer settings name a key. ok is false when the zone is gone.
func notifyMsg(v *zone.View, zoneName string) (*dns.Msg, map[string]string, bool) {
	z := v.Zone(zoneName)
	if z == nil {
		return nil, nil, false
	}
	m := new(dns.Msg)
	m.SetNotify(z.Name())
	m.Authoritative = true
	m.Answer = []dns.RR{z.SOA()}
	var secret map[string]string
	if name := z.Transfer().TSIGKey; name != "" {
		k, ok := v.TSIGKey(name)
		if !ok {
			return nil, nil, false
		}
		secret = map[string]string{k.Name: k.Secret}
		m.SetTsig(k.Name, k.Algorithm, 300, time.Now().Unix())
	}
	return m, secret, true
}

// send sends one NOTIFY over UDP and succeeds on a NOERROR reply.
func send(ctx context.Context, m *dns.Msg, secret map[string]string, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &dns.Client{Net: "udp", Timeout: timeout, TsigSecret: secret}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("NOTIFY answered %s", dns.RcodeToString[r.Rcode])
	}
	return nil
}
