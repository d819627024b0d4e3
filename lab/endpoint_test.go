package lab

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// endpointTable is the nftables table the GTM scenario adds inside node
// namespaces to cut a node off from one endpoint (partitionTable is the
// other scenarios'; they never meet).
const endpointTable = "rxlab_endpoint"

// httpEndpoint is a real HTTP server that a GTM policy's health checks
// probe. It listens on an extra address of the client namespace's
// interface, so it is on the lab bridge: every node reaches it, nothing
// outside the lab does. The test stops and starts it directly.
//
// The listening socket is opened on an OS thread that has entered the
// client namespace (inNetns: the thread is locked, never unlocked, and
// thrown away when its goroutine ends). A socket belongs to the namespace
// it was created in for its whole life, so the server's goroutines,
// which run on ordinary threads in the root namespace, still accept and
// answer inside the lab. No process is started.
type httpEndpoint struct {
	t    *testing.T
	ns   string
	ip   string
	port int

	mu      sync.Mutex
	srv     *http.Server
	started time.Time
	hits    map[string][]time.Time // since started: request arrival times by source IP
}

// startEndpoint adds ip/24 to the client namespace's interface and serves
// HTTP on ip:port there, answering 200 to every request. Cleanup stops
// the server and removes the address, also when the test fails.
func startEndpoint(t *testing.T, l *Lab, ip string, port int) *httpEndpoint {
	t.Helper()
	l.ip("-n", l.client, "addr", "add", ip+"/24", "dev", ifName)
	e := &httpEndpoint{t: t, ns: l.client, ip: ip, port: port}
	t.Cleanup(func() {
		e.stop()
		if netnsExists(l.client) {
			if _, err := runCmd(10*time.Second, "ip", "-n", l.client, "addr", "del", ip+"/24", "dev", ifName); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	if err := e.start(); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *httpEndpoint) addr() string { return net.JoinHostPort(e.ip, fmt.Sprint(e.port)) }

// start listens again (after stop) and resets the hit log.
func (e *httpEndpoint) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return fmt.Errorf("endpoint %s: already serving", e.addr())
	}
	var ln net.Listener
	err := inNetns(e.ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", e.addr())
		return err
	})
	if err != nil {
		return fmt.Errorf("endpoint %s: %w", e.addr(), err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			e.mu.Lock()
			e.hits[host] = append(e.hits[host], now)
			e.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain")
			_, _ = fmt.Fprintf(w, "ok %s\n", e.ip)
		}),
	}
	e.srv, e.started, e.hits = srv, time.Now(), map[string][]time.Time{}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.t.Logf("endpoint %s: %v", e.addr(), err)
		}
	}()
	return nil
}

// stop closes the listener and every open connection: from then on a
// probe's connect is refused. It returns the time it was done.
func (e *httpEndpoint) stop() time.Time {
	e.mu.Lock()
	srv := e.srv
	e.srv = nil
	e.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	return time.Now()
}

// majorityReached returns the earliest time at which at least need
// sources had each sent at least n requests since start (zero if that has
// not happened yet).
func (e *httpEndpoint) majorityReached(need, n int) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	var nth []time.Time // each source's n-th request
	for _, ts := range e.hits {
		if len(ts) >= n {
			nth = append(nth, ts[n-1])
		}
	}
	if len(nth) < need {
		return time.Time{}
	}
	// The need-th earliest.
	for i := range nth {
		for j := i + 1; j < len(nth); j++ {
			if nth[j].Before(nth[i]) {
				nth[i], nth[j] = nth[j], nth[i]
			}
		}
	}
	return nth[need-1]
}

// hitCounts is how many requests each source sent since start.
func (e *httpEndpoint) hitCounts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for src, ts := range e.hits {
		out[src] = len(ts)
	}
	return out
}

// blockEndpoint drops, inside n's namespace only, every packet n sends to
// ip (table endpointTable). It returns when the rule is in place.
func (l *Lab) blockEndpoint(n *Node, ip string) time.Time {
	l.t.Helper()
	rules := fmt.Sprintf(`table inet %s {
	chain output { type filter hook output priority -10; policy accept; ip daddr %s drop; }
}
`, endpointTable, ip)
	f := n.dir + "/endpoint.nft"
	if err := os.WriteFile(f, []byte(rules), 0o644); err != nil {
		l.t.Fatal(err)
	}
	if _, err := runCmd(10*time.Second, "ip", "netns", "exec", n.ns, "nft", "-f", f); err != nil {
		l.t.Fatal(err)
	}
	at := time.Now()
	l.t.Logf("%s cannot reach %s any more (nftables table %s in %s)", n.id, ip, endpointTable, n.ns)
	return at
}

// unblockEndpoints deletes the endpointTable from every node namespace
// that has one and returns when they are gone. It reports errors with
// report (t.Fatal in the scenario, t.Errorf in cleanup).
func (l *Lab) unblockEndpoints(report func(...any)) time.Time {
	for _, n := range l.nodes {
		if !netnsExists(n.ns) {
			continue
		}
		if _, err := runCmd(10*time.Second, "ip", "netns", "exec", n.ns, "nft", "list", "table", "inet", endpointTable); err != nil {
			continue // no table in this namespace
		}
		if _, err := runCmd(10*time.Second, "ip", "netns", "exec", n.ns, "nft", "delete", "table", "inet", endpointTable); err != nil {
			report(err)
		}
	}
	return time.Now()
}

// dnsClient asks the nodes from one UDP socket bound to the client's own
// address in the client namespace: every query has the same source. It is
// for one goroutine at a time.
type dnsClient struct {
	l    *Lab
	conn *net.UDPConn
}

func newDNSClient(t *testing.T, l *Lab) *dnsClient {
	t.Helper()
	var c *net.UDPConn
	err := inNetns(l.client, func() error {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(clientIP)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &dnsClient{l: l, conn: c}
}

// a returns the A values each node answers for name (NOERROR only).
func (c *dnsClient) a(name string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, n := range c.l.nodes {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		r, err := exchange(c.conn, &net.UDPAddr{IP: net.ParseIP(n.ip), Port: 53}, m, 500*time.Millisecond)
		if err != nil {
			return out, fmt.Errorf("%s: %w", n.id, err)
		}
		if r.Rcode != dns.RcodeSuccess {
			return out, fmt.Errorf("%s: %s", n.id, dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				out[n.id] = append(out[n.id], a.A.String())
			}
		}
	}
	return out, nil
}

// allAnswer reports whether every node answers name A with exactly want,
// and what they answered (or why not).
func (c *dnsClient) allAnswer(name, want string) (bool, string) {
	ok, detail, err := c.answers(name, want)
	if err != nil {
		return false, err.Error()
	}
	return ok, detail
}

// answers is allAnswer with an error when a node did not reply NOERROR.
func (c *dnsClient) answers(name, want string) (bool, string, error) {
	got, err := c.a(name)
	if err != nil {
		return false, "", fmt.Errorf("%w (so far %v)", err, got)
	}
	for _, n := range c.l.nodes {
		if v := got[n.id]; len(v) != 1 || v[0] != want {
			return false, fmt.Sprint(got), nil
		}
	}
	return true, fmt.Sprint(got), nil
}

// raw sends one query with the given id to every node, from this one
// socket, and returns each node's reply exactly as it came off the wire.
func (c *dnsClient) raw(name string, qtype uint16, id uint16) (map[string][]byte, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = id
	q, err := m.Pack()
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	buf := make([]byte, 65535)
	for _, n := range c.l.nodes {
		server := &net.UDPAddr{IP: net.ParseIP(n.ip), Port: 53}
		if _, err := c.conn.WriteToUDP(q, server); err != nil {
			return out, fmt.Errorf("%s: %w", n.id, err)
		}
		deadline := time.Now().Add(time.Second)
		for {
			_ = c.conn.SetReadDeadline(deadline)
			k, from, err := c.conn.ReadFromUDP(buf)
			if err != nil {
				return out, fmt.Errorf("%s: %w", n.id, err)
			}
			// A reply from this node to this id (a late reply to an
			// earlier poll has another id or comes from another node).
			if !from.IP.Equal(server.IP) || from.Port != 53 || k < 12 || int(buf[0])<<8|int(buf[1]) != int(id) {
				continue
			}
			out[n.id] = append([]byte(nil), buf[:k]...)
			break
		}
	}
	return out, nil
}
