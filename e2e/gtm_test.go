package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/geo/geotest"
	"github.com/resolvx/resolvx/gtm"
)

// endpoint is an HTTP server on one loopback address that a test can stop,
// start and slow down: the thing a health check probes.
type endpoint struct {
	t     *testing.T
	addr  string // host:port
	delay atomic.Int64
	srv   *http.Server
}

func newEndpoint(t *testing.T, ip string, port int) *endpoint {
	e := &endpoint{t: t, addr: net.JoinHostPort(ip, fmt.Sprint(port))}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *endpoint) start() {
	e.t.Helper()
	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		e.t.Fatalf("endpoint %s: %v", e.addr, err)
	}
	e.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := time.Duration(e.delay.Load()); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprintln(w, "ok")
	}), ReadHeaderTimeout: 5 * time.Second}
	go e.srv.Serve(ln)
}

func (e *endpoint) stop() {
	if e.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
		e.srv = nil
	}
}

// freeLoopbackPort returns a TCP port free on every given loopback address.
func freeLoopbackPort(t *testing.T, ips ...string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", ips[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		var others []net.Listener
		for _, ip := range ips[1:] {
			o, err := net.Listen("tcp", net.JoinHostPort(ip, fmt.Sprint(port)))
			if err != nil {
				ok = false
				break
			}
			others = append(others, o)
		}
		l.Close()
		for _, o := range others {
			o.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatal("no port free on every address")
	return 0
}

// putPolicy creates or replaces a policy through n's API.
func (n *node) putPolicy(p gtm.Policy) {
	n.t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		n.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, n.api()+"/api/v1/policies/"+p.Name, bytes.NewReader(b))
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		n.t.Fatalf("PUT policy %s: %s: %s", p.Name, resp.Status, body.String())
	}
}

// ask sends one query from source (a loopback address; "" for any) with
// message ID id and, when ecs is valid, an EDNS Client Subnet option.
func (n *node) ask(name string, qtype uint16, id uint16, source string, ecs netip.Prefix) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = id
	if ecs.IsValid() {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.SetUDPSize(1232)
		family := uint16(1)
		if ecs.Addr().Is6() {
			family = 2
		}
		o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(ecs.Bits()), Address: ecs.Addr().AsSlice()})
		m.Extra = append(m.Extra, o)
	}
	c := &dns.Client{Timeout: time.Second}
	if source != "" {
		c.Dialer = &net.Dialer{Timeout: time.Second, LocalAddr: &net.UDPAddr{IP: net.ParseIP(source)}}
	}
	r, _, err := c.Exchange(m, n.dnsAddr)
	if err == nil && r.Id != id {
		err = errors.New("reply with another ID")
	}
	return r, err
}

// answerOf is a reply's answer section, A/AAAA/CNAME values joined.
func answerOf(r *dns.Msg) string { return strings.Join(answers(r), ",") }

// allAnswer waits until every node answers name A with want, and returns
// how long that took.
func allAnswer(t *testing.T, nodes []*node, name, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, timeout, fmt.Sprintf("every node answers %s A %s", name, want), func() bool {
		for _, n := range nodes {
			r, err := n.ask(name, dns.TypeA, 1, "", netip.Prefix{})
			if err != nil || r.Rcode != dns.RcodeSuccess || answerOf(r) != want {
				return false
			}
		}
		return true
	})
	return time.Since(start)
}

// Invariants, on three nodes with real HTTP endpoints on loopback:
//   - failover: with the primary's server stopped, every node answers the
//     secondary within interval × threshold + 2 s; with it started again,
//     every node answers the primary again within healthy_threshold ×
//     interval + 2 s;
//   - weighted: the same query (ID, source, name) gets the same answer
//     from every node, and different queries follow the weights;
//   - latency: the faster endpoint is chosen, the choice holds while both
//     are within the hysteresis, and moves when the chosen one slows down
//     past it.
func TestGTMThreeNodes(t *testing.T) {
	nodes := threeNodes(t)
	nodes[0].mustCLI("zone", "create", "example.com")

	const primaryIP, secondaryIP = "127.0.0.11", "127.0.0.12"
	port := freeLoopbackPort(t, primaryIP, secondaryIP)
	primary := newEndpoint(t, primaryIP, port)
	newEndpoint(t, secondaryIP, port)
	const interval, threshold, healthyThreshold = time.Second, 2, 2
	check := &gtm.HealthCheck{Type: "http", Port: port, Path: "/", Interval: gtm.Duration(interval), Timeout: gtm.Duration(500 * time.Millisecond),
		Threshold: threshold, HealthyThreshold: healthyThreshold}
	nodes[1].putPolicy(gtm.Policy{Name: "www-failover", Zone: "example.com", Record: "www", Type: gtm.Failover, TTL: 5,
		Endpoints:   []gtm.Endpoint{{ID: "primary", Address: primaryIP, Priority: 1}, {ID: "secondary", Address: secondaryIP, Priority: 2}},
		HealthCheck: check})
	allAnswer(t, nodes, "www.example.com", primaryIP, 5*time.Second)

	// Wait for a committed healthy verdict before the fault, so the
	// failover is measured from a settled state.
	eventually(t, 10*time.Second, "primary's committed verdict healthy", func() bool {
		out, err := nodes[2].cli("policy", "health", "www-failover", "--json")
		return err == nil && strings.Count(out, `"healthy"`) >= 2
	})
	primary.stop()
	took := allAnswer(t, nodes, "www.example.com", secondaryIP, interval*threshold+2*time.Second)
	t.Logf("failover: every node answers the secondary %v after the primary stopped (bound %v)", took.Round(time.Millisecond), interval*threshold+2*time.Second)
	primary.start()
	took = allAnswer(t, nodes, "www.example.com", primaryIP, interval*healthyThreshold+2*time.Second)
	t.Logf("failback: every node answers the primary %v after it started (bound %v)", took.Round(time.Millisecond), interval*healthyThreshold+2*time.Second)

	// The metrics show the probes and the committed verdict changes.
	var metrics bytes.Buffer
	for _, n := range nodes {
		resp, err := http.Get(n.api() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics.ReadFrom(resp.Body)
		resp.Body.Close()
	}
	for _, want := range []string{`resolvx_health_probes_total{result="failed",type="http"}`, `resolvx_gtm_verdict_commits_total{result="ok"}`, `resolvx_gtm_endpoint_verdict_changes_total{verdict="unhealthy"}`} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("no %s in the nodes' metrics", want)
		}
	}

	// Weighted: identical answers across nodes, query by query.
	nodes[0].putPolicy(gtm.Policy{Name: "api-weighted", Zone: "example.com", Record: "api", Type: gtm.Weighted, TTL: 5,
		Endpoints: []gtm.Endpoint{{ID: "a", Address: "192.0.2.1", Weight: 70}, {ID: "b", Address: "192.0.2.2", Weight: 20}, {ID: "c", Address: "192.0.2.3", Weight: 10}}})
	allAnswerSome(t, nodes, "api.example.com")
	counts := map[string]int{}
	for id := uint16(1); id <= 300; id++ {
		var first string
		for i, n := range nodes {
			r, err := n.ask("api.example.com", dns.TypeA, id, "127.0.0.1", netip.Prefix{})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = answerOf(r)
				counts[first]++
			} else if got := answerOf(r); got != first {
				t.Fatalf("query %d: %s answers %s, %s answers %s", id, nodes[0].id, first, n.id, got)
			}
		}
	}
	if counts["192.0.2.1"] < counts["192.0.2.2"] || counts["192.0.2.2"] == 0 || counts["192.0.2.3"] == 0 {
		t.Fatalf("300 queries do not follow 70/20/10: %v", counts)
	}
	t.Logf("weighted 70/20/10 over 300 queries, identical on three nodes: %v", counts)

	// Latency.
	const fastIP, slowIP = "127.0.0.21", "127.0.0.22"
	lport := freeLoopbackPort(t, fastIP, slowIP)
	fast := newEndpoint(t, fastIP, lport)
	slow := newEndpoint(t, slowIP, lport)
	slow.delay.Store(int64(300 * time.Millisecond))
	nodes[2].putPolicy(gtm.Policy{Name: "edge-latency", Zone: "example.com", Record: "edge", Type: gtm.Latency, TTL: 5,
		LatencyHysteresis: gtm.Duration(100 * time.Millisecond),
		Endpoints:         []gtm.Endpoint{{ID: "slow", Address: slowIP}, {ID: "fast", Address: fastIP}},
		HealthCheck:       &gtm.HealthCheck{Type: "http", Port: lport, Path: "/", Interval: gtm.Duration(time.Second), Timeout: gtm.Duration(900 * time.Millisecond), Threshold: 2, HealthyThreshold: 1}})
	took = allAnswer(t, nodes, "edge.example.com", fastIP, 10*time.Second)
	t.Logf("latency: every node answers the faster endpoint %v after the policy was created", took.Round(time.Millisecond))
	// Both within the hysteresis (30 ms apart, hysteresis 100 ms): the
	// answer must not move for five check intervals.
	slow.delay.Store(int64(30 * time.Millisecond))
	fast.delay.Store(0)
	sample := time.NewTicker(100 * time.Millisecond)
	defer sample.Stop()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); <-sample.C {
		for _, n := range nodes {
			r, err := n.ask("edge.example.com", dns.TypeA, 7, "", netip.Prefix{})
			if err != nil {
				t.Fatal(err)
			}
			if got := answerOf(r); got != fastIP {
				t.Fatalf("latency answer flapped to %s on %s within the hysteresis", got, n.id)
			}
		}
	}
	// The chosen one slows down past the hysteresis: the answer moves.
	fast.delay.Store(int64(400 * time.Millisecond))
	slow.delay.Store(0)
	took = allAnswer(t, nodes, "edge.example.com", slowIP, 10*time.Second)
	t.Logf("latency: the answer moved to the now faster endpoint after %v", took.Round(time.Millisecond))
}

// allAnswerSome waits until every node answers name A with something.
func allAnswerSome(t *testing.T, nodes []*node, name string) {
	t.Helper()
	eventually(t, 5*time.Second, "every node answers "+name, func() bool {
		for _, n := range nodes {
			r, err := n.ask(name, dns.TypeA, 1, "", netip.Prefix{})
			if err != nil || answerOf(r) == "" {
				return false
			}
		}
		return true
	})
}

// Invariant: a geographic policy answers clients in three regions with
// their region's endpoint, placed by EDNS Client Subnet when the query has
// one (echoed with the scope prefix the answer used) and by the source
// address otherwise, from a MaxMind DB the test generates; clients nowhere
// get the "*" endpoint.
func TestGTMGeographic(t *testing.T) {
	const anyScope = -2 // any scope up to the source prefix
	dir := t.TempDir()
	mmdb := filepath.Join(dir, "geo.mmdb")
	if err := geotest.WriteMMDB(mmdb, map[string]gtm.Location{
		"198.51.100.0/24": {Country: "US", Continent: "NA"},
		"192.0.2.0/24":    {Country: "DE", Continent: "EU"},
		"203.0.113.0/24":  {Country: "JP", Continent: "AS"},
		"127.0.0.2/32":    {Country: "CA", Continent: "NA"},
		"127.0.0.3/32":    {Country: "FR", Continent: "EU"},
		"127.0.0.4/32":    {Country: "SG", Continent: "AS"},
	}); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "resolvx.yaml")
	if err := os.WriteFile(cfg, []byte("gtm:\n  geoip_database: "+mmdb+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := newNode(t, "geo")
	n.config = cfg
	n.start()
	n.mustCLI("zone", "create", "example.com")
	n.putPolicy(gtm.Policy{Name: "geo", Zone: "example.com", Record: "www", Type: gtm.Geographic, TTL: 30,
		Endpoints: []gtm.Endpoint{
			{ID: "na", Address: "192.0.2.101", Region: "NA"},
			{ID: "eu", Address: "192.0.2.102", Region: "EU"},
			{ID: "jp", Address: "192.0.2.103", Region: "JP"},
			{ID: "as", Address: "192.0.2.104", Region: "AS"},
			{ID: "any", Address: "192.0.2.199", Region: "*"},
		}})
	for _, tc := range []struct {
		source    string
		ecs       string
		want      string
		wantScope int
	}{
		{"", "198.51.100.0/24", "192.0.2.101", 24},
		{"", "192.0.2.0/24", "192.0.2.102", 24},
		{"", "203.0.113.0/24", "192.0.2.103", 24},    // JP: the country beats its continent
		{"", "198.51.100.0/28", "192.0.2.101", 24},   // scope is the database's network, not the longer source
		{"", "10.9.0.0/16", "192.0.2.199", anyScope}, // nowhere: "*", for as wide a network as the database says
		{"127.0.0.2", "", "192.0.2.101", -1},
		{"127.0.0.3", "", "192.0.2.102", -1},
		{"127.0.0.4", "", "192.0.2.104", -1},                // SG: its continent
		{"127.0.0.3", "198.51.100.0/24", "192.0.2.101", 24}, // ECS wins over the source
	} {
		var ecs netip.Prefix
		if tc.ecs != "" {
			ecs = netip.MustParsePrefix(tc.ecs)
		}
		r, err := n.ask("www.example.com", dns.TypeA, 42, tc.source, ecs)
		if err != nil {
			t.Fatalf("source %s ecs %s: %v", tc.source, tc.ecs, err)
		}
		if got := answerOf(r); got != tc.want {
			t.Errorf("source %s ecs %s: answer %s, want %s", tc.source, tc.ecs, got, tc.want)
		}
		scope := -1
		if o := r.IsEdns0(); o != nil {
			for _, opt := range o.Option {
				if s, ok := opt.(*dns.EDNS0_SUBNET); ok {
					scope = int(s.SourceScope)
					if tc.ecs != "" && (int(s.SourceNetmask) != ecs.Bits() || !slices.Equal(netip.MustParsePrefix(tc.ecs).Masked().Addr().AsSlice(), s.Address.To4())) {
						t.Errorf("ecs %s echoed as %v/%d", tc.ecs, s.Address, s.SourceNetmask)
					}
				}
			}
		}
		want := tc.wantScope
		if tc.wantScope > ecs.Bits() && tc.ecs != "" {
			want = ecs.Bits()
		}
		if tc.wantScope == anyScope && scope >= 0 && scope <= ecs.Bits() {
			continue
		}
		if scope != want {
			t.Errorf("source %s ecs %s: scope %d, want %d", tc.source, tc.ecs, scope, want)
		}
	}
	out := n.mustCLI("explain", "www.example.com", "--ecs", "203.0.113.0/24")
	for _, want := range []string{"geo", "JP", "192.0.2.103"} {
		if !strings.Contains(out, want) {
			t.Fatalf("explain output lacks %q:\n%s", want, out)
		}
	}
}
