package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// maxBody bounds how much of a response body an http check reads.
const maxBody = 64 << 10

// HTTP requests hc.Method hc.Path from the endpoint over http, or https
// when hc.Type is "https", and succeeds when the status is
// hc.ExpectedStatus (200 when unset) and, if hc.ExpectedBody is set, the
// first 64 KiB of the body contain it. Redirects are not followed, no proxy
// is used, and connections are not reused. For a host-name endpoint the
// Host header and TLS server name are the name; the connection goes to the
// resolved address.
func (p *Prober) HTTP(ctx context.Context, t Target, hc gtm.HealthCheck) Observation {
	ctx, cancel := withTimeout(ctx, hc)
	defer cancel()
	addr, host, err := resolve(ctx, p.Resolver, t, hc.AllowUnsafeTargets)
	if err != nil {
		return p.fail(t, 0, err)
	}
	scheme, def := "http", 80
	if strings.EqualFold(hc.Type, "https") {
		scheme, def = "https", 443
	}
	ap := netip.AddrPortFrom(addr, port(hc, def)).String()
	path := hc.Path
	if path == "" {
		path = "/"
	}
	method := strings.ToUpper(hc.Method)
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+ap+path, nil)
	if err != nil {
		return p.fail(t, 0, fmt.Errorf("bad request: %w", err))
	}
	for k, v := range hc.Headers {
		req.Header.Set(k, v)
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	} else if host != "" {
		req.Host = host
	}
	tlsConf := &tls.Config{InsecureSkipVerify: hc.SkipTLSVerify, ServerName: host} //nolint:gosec // opt-in per check
	if host == "" {
		tlsConf.ServerName = addr.String()
	}
	var dialer net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, ap)
		},
		TLSClientConfig:        tlsConf,
		DisableKeepAlives:      true,
		TLSHandshakeTimeout:    time.Duration(hc.Timeout),
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return p.fail(t, time.Since(start), err)
	}
	defer resp.Body.Close()
	want := hc.ExpectedStatus
	if want == 0 {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		return p.fail(t, time.Since(start), fmt.Errorf("status %d, want %d", resp.StatusCode, want))
	}
	if hc.ExpectedBody != "" {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil {
			return p.fail(t, time.Since(start), fmt.Errorf("read body: %w", err))
		}
		if !strings.Contains(string(body), hc.ExpectedBody) {
			return p.fail(t, time.Since(start), fmt.Errorf("body does not contain the expected text"))
		}
	}
	return p.ok(t, time.Since(start))
}
