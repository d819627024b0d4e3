package dnsserver

import (
	"context"
	"encoding/binary"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/zone"
)

// source is a Source over an atomic pointer, as the FSM publishes.
type source struct{ v atomic.Pointer[zone.View] }

func (s *source) Data() Data { return Data{Zones: s.v.Load()} }

func newSource(v *zone.View) *source {
	s := new(source)
	s.v.Store(v)
	return s
}

// panicSource panics on View while armed.
type panicSource struct {
	armed atomic.Bool
	next  Source
}

func (p *panicSource) Data() Data {
	if p.armed.Load() {
		panic("test: view exploded")
	}
	return p.next.Data()
}

// startServer runs a server on a free loopback port until the test ends.
func startServer(t testing.TB, cfg Config, src Source) *Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	s := New(cfg, src)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func exchange(t *testing.T, netw, addr string, req *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: netw, Timeout: 5 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(req, addr)
	if err != nil {
		t.Fatalf("%s exchange: %v", netw, err)
	}
	return r
}

func TestServerUDPAndTCP(t *testing.T) {
	s := startServer(t, Config{}, newSource(testView(t)))
	for _, netw := range []string{"udp", "tcp"} {
		r := exchange(t, netw, s.Addr(), query("www.example.com.", dns.TypeA))
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 2 {
			t.Fatalf("%s: %v", netw, r)
		}
		// The big TXT RRset is truncated over UDP and whole over TCP.
		r = exchange(t, netw, s.Addr(), query("big.example.com.", dns.TypeTXT))
		if wantTC := netw == "udp"; r.Truncated != wantTC || (!wantTC && len(r.Answer) != 40) {
			t.Fatalf("%s big: TC %v, %d answers", netw, r.Truncated, len(r.Answer))
		}
	}
	// A query larger than 512 bytes (EDNS padding) is read whole over UDP.
	req := query("www.example.com.", dns.TypeA)
	req.SetEdns0(1232, false)
	req.IsEdns0().Option = append(req.IsEdns0().Option, &dns.EDNS0_PADDING{Padding: make([]byte, 900)})
	if r := exchange(t, "udp", s.Addr(), req); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
		t.Fatalf("large query: %v", r)
	}
	// QDCOUNT 2 reaches Answer (miekg/dns's default accept function would
	// answer it itself) and gets FORMERR.
	req = query("www.example.com.", dns.TypeA)
	req.Question = append(req.Question, req.Question[0])
	if r := exchange(t, "udp", s.Addr(), req); r.Rcode != dns.RcodeFormatError {
		t.Fatalf("QDCOUNT 2: %v", r)
	}
}

// Invariant: pipelined queries on one TCP connection are all answered
// (RFC 7766), however many.
func TestServerPipelinedTCP(t *testing.T) {
	s := startServer(t, Config{}, newSource(testView(t)))
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var batch []byte
	for i := range n {
		req := query("www.example.com.", dns.TypeA)
		req.Id = uint16(1000 + i)
		wire, err := req.Pack()
		if err != nil {
			t.Fatal(err)
		}
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(wire)))
		batch = append(batch, wire...)
	}
	if _, err := conn.Write(batch); err != nil { // all 50 before reading any
		t.Fatal(err)
	}
	co := &dns.Conn{Conn: conn}
	seen := make(map[uint16]bool)
	for range n {
		r, err := co.ReadMsg()
		if err != nil {
			t.Fatalf("after %d replies: %v", len(seen), err)
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
			t.Fatalf("reply %d: %v", r.Id, r)
		}
		seen[r.Id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct replies, want %d", len(seen), n)
	}
}

// Invariant: garbage does not stop the server; a malformed message with a
// readable header gets FORMERR.
func TestServerGarbage(t *testing.T) {
	s := startServer(t, Config{}, newSource(testView(t)))
	conn, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Too short for a header: dropped.
	if _, err := conn.Write([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	// A header (id 0x0102, QDCOUNT 1) followed by a question that ends early.
	junk := []byte{0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 'a', 'b'}
	if _, err := conn.Write(junk); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no FORMERR for a malformed query: %v", err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil || r.Id != 0x0102 || r.Rcode != dns.RcodeFormatError {
		t.Fatalf("reply to junk: %v (%v)", r, err)
	}
	// The server still answers.
	if r := exchange(t, "udp", s.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("after garbage: %v", r)
	}
	if r := exchange(t, "tcp", s.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("after garbage, TCP: %v", r)
	}
}

// Invariant: a panic while answering is a SERVFAIL, never a crash.
func TestServerPanicIsServfail(t *testing.T) {
	src := &panicSource{next: newSource(testView(t))}
	reg := prometheus.NewRegistry()
	s := startServer(t, Config{Registerer: reg}, src)
	src.armed.Store(true)
	for _, netw := range []string{"udp", "tcp"} {
		if r := exchange(t, netw, s.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeServerFailure {
			t.Fatalf("%s: want SERVFAIL, got %v", netw, r)
		}
	}
	src.armed.Store(false)
	if r := exchange(t, "udp", s.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("after the panic: %v", r)
	}
	if got := counterValue(t, reg, "resolvx_dns_panics_total", nil); got != 2 {
		t.Fatalf("panics counted: %v, want 2", got)
	}
}

func TestServerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startServer(t, Config{Registerer: reg}, newSource(testView(t)))
	exchange(t, "udp", s.Addr(), query("www.example.com.", dns.TypeA))
	exchange(t, "udp", s.Addr(), query("nope.example.com.", dns.TypeA))
	exchange(t, "tcp", s.Addr(), query("www.example.net.", dns.TypeA))
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"proto": "udp", "rcode": "NOERROR"}, 1},
		{map[string]string{"proto": "udp", "rcode": "NXDOMAIN"}, 1},
		{map[string]string{"proto": "tcp", "rcode": "REFUSED"}, 1},
		{map[string]string{"proto": "tcp", "rcode": "NOERROR"}, 0},
	} {
		if got := counterValue(t, reg, "resolvx_dns_queries_total", c.labels); got != c.want {
			t.Errorf("queries %v = %v, want %v", c.labels, got, c.want)
		}
	}
}

// counterValue reads a counter from reg (0 when absent).
func counterValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// Invariant: Start reports a bind failure with the address, and a second
// server can take over the port after Shutdown.
func TestServerBindErrors(t *testing.T) {
	s := startServer(t, Config{}, newSource(testView(t)))
	other := New(Config{Listen: s.Addr()}, newSource(testView(t)))
	err := other.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), s.Addr()) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("want an address-in-use error naming %s, got %v", s.Addr(), err)
	}
	if err := New(Config{Listen: "not an address"}, newSource(nil)).Start(context.Background()); err == nil {
		t.Fatal("a bad listen address must fail")
	}
	// Shutdown frees the port for the next server; metrics unregister.
	reg := prometheus.NewRegistry()
	a := New(Config{Listen: "127.0.0.1:0", Registerer: reg}, newSource(testView(t)))
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := a.Addr()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err == nil {
		t.Fatal("a server starts once")
	}
	b := startServer(t, Config{Listen: addr, Registerer: reg}, newSource(testView(t)))
	if r := exchange(t, "tcp", b.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("restarted server: %v", r)
	}
}

// Invariant: connections beyond MaxTCPConnections are closed at once while
// the ones inside the cap are served.
func TestServerTCPConnectionLimit(t *testing.T) {
	s := startServer(t, Config{MaxTCPConnections: 1}, newSource(testView(t)))
	first, err := dns.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := first.WriteMsg(query("www.example.com.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	if r, err := first.ReadMsg(); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("first connection: %v %v", r, err)
	}
	second, err := dns.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_ = second.WriteMsg(query("www.example.com.", dns.TypeA))
	if r, err := second.ReadMsg(); err == nil {
		t.Fatalf("second connection over the cap was answered: %v", r)
	}
	// Closing the first frees the slot: poll until a new connection is served.
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := dns.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			if err = c.WriteMsg(query("www.example.com.", dns.TypeA)); err == nil {
				var r *dns.Msg
				if r, err = c.ReadMsg(); err == nil && r.Rcode == dns.RcodeSuccess {
					c.Close()
					return
				}
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot was not freed: %v", err)
		}
	}
}

// Invariant: Shutdown does not wait for idle TCP clients to go away.
func TestServerShutdownWithIdleConnection(t *testing.T) {
	s := New(Config{Listen: "127.0.0.1:0"}, newSource(testView(t)))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := dns.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMsg(query("www.example.com.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	// The connection now idles (10 s idle timeout); Shutdown must not wait
	// for it.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an idle client: %v", err)
	}
	if _, err := c.ReadMsg(); err == nil {
		t.Fatal("the idle connection is still open after Shutdown")
	}
}
