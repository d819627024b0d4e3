package health

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// httpServer serves a small health endpoint and records the last request's
// Host header.
type httpServer struct {
	mu       sync.Mutex
	lastHost string
}

func (s *httpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.lastHost = r.Host
	s.mu.Unlock()
	switch r.URL.Path {
	case "/healthz":
		if r.Header.Get("X-Token") != "" && r.Header.Get("X-Token") != "s3cret" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Write([]byte("status: ready\n"))
	case "/redirect":
		http.Redirect(w, r, "/healthz", http.StatusFound)
	case "/big":
		w.Write([]byte(strings.Repeat("x", 2*maxBody) + "needle"))
	case "/post":
		if r.Method != http.MethodPost {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		w.Write([]byte("posted"))
	default:
		http.NotFound(w, r)
	}
}

func (s *httpServer) host() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHost
}

func TestHTTP(t *testing.T) {
	h := &httpServer{}
	plain := httptest.NewServer(h)
	defer plain.Close()
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	ip, httpPort := splitHostPort(t, plain.Listener.Addr().String())
	_, httpsPort := splitHostPort(t, tlsSrv.Listener.Addr().String())
	p := &Prober{Resolver: fakeResolver{"app.example": {netip.MustParseAddr(ip)}}}

	cases := []struct {
		name   string
		addr   string
		hc     gtm.HealthCheck
		ok     bool
		errHas string
	}{
		{name: "ok", hc: gtm.HealthCheck{Type: "http", Path: "/healthz"}, ok: true},
		{name: "expected body", hc: gtm.HealthCheck{Type: "http", Path: "/healthz", ExpectedBody: "ready"}, ok: true},
		{name: "body mismatch", hc: gtm.HealthCheck{Type: "http", Path: "/healthz", ExpectedBody: "draining"}, errHas: "body does not contain"},
		{name: "wrong status", hc: gtm.HealthCheck{Type: "http", Path: "/missing"}, errHas: "status 404, want 200"},
		{name: "expected 404", hc: gtm.HealthCheck{Type: "http", Path: "/missing", ExpectedStatus: 404}, ok: true},
		{name: "redirect not followed", hc: gtm.HealthCheck{Type: "http", Path: "/redirect"}, errHas: "status 302"},
		{name: "redirect expected", hc: gtm.HealthCheck{Type: "http", Path: "/redirect", ExpectedStatus: 302}, ok: true},
		{name: "body read is bounded", hc: gtm.HealthCheck{Type: "http", Path: "/big", ExpectedBody: "needle"}, errHas: "body does not contain"},
		{name: "header sent", hc: gtm.HealthCheck{Type: "http", Path: "/healthz", Headers: map[string]string{"X-Token": "s3cret"}}, ok: true},
		{name: "wrong header", hc: gtm.HealthCheck{Type: "http", Path: "/healthz", Headers: map[string]string{"X-Token": "wrong-secret"}}, errHas: "status 403"},
		{name: "post", hc: gtm.HealthCheck{Type: "http", Path: "/post", Method: "POST", ExpectedBody: "posted"}, ok: true},
		{name: "head", hc: gtm.HealthCheck{Type: "http", Path: "/healthz", Method: "HEAD"}, ok: true},
		{name: "host name", addr: "app.example", hc: gtm.HealthCheck{Type: "http", Path: "/healthz"}, ok: true},
		{name: "https unverified", hc: gtm.HealthCheck{Type: "https", Path: "/healthz"}, errHas: "certificate"},
		{name: "https skip verify", hc: gtm.HealthCheck{Type: "https", Path: "/healthz", SkipTLSVerify: true, ExpectedBody: "ready"}, ok: true},
		{name: "https name skip verify", addr: "app.example", hc: gtm.HealthCheck{Type: "https", Path: "/healthz", SkipTLSVerify: true}, ok: true},
		{name: "http to https port", hc: gtm.HealthCheck{Type: "http", Path: "/healthz", Port: -1}, errHas: "status 400"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hc := c.hc
			hc.Timeout = gtm.Duration(gtm.DefaultTimeout)
			switch {
			case hc.Port == -1:
				hc.Port = httpsPort
			case hc.Type == "https":
				hc.Port = httpsPort
			default:
				hc.Port = httpPort
			}
			addr := c.addr
			if addr == "" {
				addr = ip
			}
			o := p.HTTP(context.Background(), Target{EndpointID: "web1", Address: addr}, hc)
			if o.EndpointID != "web1" || o.At.IsZero() {
				t.Errorf("observation %+v lacks its endpoint or time", o)
			}
			if o.OK != c.ok {
				t.Fatalf("OK = %v (error %q), want %v", o.OK, o.Error, c.ok)
			}
			if !c.ok && !strings.Contains(o.Error, c.errHas) {
				t.Errorf("error %q, want one containing %q", o.Error, c.errHas)
			}
			if strings.Contains(o.Error, "secret") {
				t.Errorf("error %q leaks a header", o.Error)
			}
			if o.OK && o.Latency <= 0 {
				t.Errorf("latency %v, want positive", o.Latency)
			}
			if c.addr == "app.example" && h.host() != "app.example" {
				t.Errorf("Host header %q, want the endpoint's name", h.host())
			}
		})
	}
}

func TestHTTPTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; ends when the prober gives up
	}))
	defer srv.Close()
	ip, port := splitHostPort(t, srv.Listener.Addr().String())
	hc := gtm.HealthCheck{Type: "http", Port: port, Timeout: gtm.Duration(50 * time.Millisecond)}
	o := (&Prober{}).HTTP(context.Background(), Target{EndpointID: "slow", Address: ip}, hc)
	if o.OK || o.Error != "timeout" {
		t.Fatalf("observation %+v, want a timeout", o)
	}
}
