package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// Data is what one query is answered from: the zones and the compiled GTM
// policy table of one applied state (read together, so that they agree),
// and the locator that places client addresses for geographic policies.
// A nil Zones (nothing loaded yet) is answered SERVFAIL; a nil Policies
// has no policy; a nil Geo knows no client's location.
type Data struct {
	Zones    *zone.View
	Policies *gtm.Table
	Geo      Locator
}

// Source gives the current Data. Data is called once per query and must be
// cheap and lock-free (one atomic load of the FSM's state). The Server
// ignores the Geo it returns and uses Config.Geo.
type Source interface {
	Data() Data
}

// Config configures a Server. Zero values take the defaults below.
type Config struct {
	// Listen is the "host:port" both UDP and TCP bind to. Port 0 picks a
	// free port, the same for both.
	Listen string
	// Logger receives errors and recovered panics; nil discards them.
	Logger *slog.Logger
	// Registerer receives the server's metrics while it runs; nil means no
	// metrics.
	Registerer prometheus.Registerer
	// TCPIdleTimeout closes a TCP connection that sends no further query for
	// this long (default 10 s, as Knot's tcp-idle-timeout).
	TCPIdleTimeout time.Duration
	// TCPReadTimeout bounds the wait for the first query of a TCP
	// connection and every write of a reply (default 2 s).
	TCPReadTimeout time.Duration
	// MaxTCPConnections caps open TCP connections; connections beyond it
	// are closed at once. 0 means 1000, negative means no cap.
	MaxTCPConnections int
	// Geo places clients (the EDNS Client Subnet when a query has one, else
	// the source address) for geographic policies; nil means every client's
	// location is unknown.
	Geo Locator
}

// Defaults for the zero values of Config.
const (
	defaultTCPIdleTimeout    = 10 * time.Second
	defaultTCPReadTimeout    = 2 * time.Second
	defaultMaxTCPConnections = 1000
	// udpReadBuffer is the UDP read buffer: miekg/dns defaults to 512 bytes
	// and cuts larger EDNS queries, which then get FORMERR.
	udpReadBuffer = 65535
)

// Server answers DNS over UDP and TCP on one address.
type Server struct {
	cfg Config
	src Source
	log *slog.Logger
	met *metrics // nil without Registerer

	mu      sync.Mutex
	udp     *dns.Server
	tcp     *dns.Server
	addr    string
	running bool
	stopped atomic.Bool    // set once: by Shutdown or a failed Start
	wg      sync.WaitGroup // the two serving goroutines
}

// New returns a server that answers from src. It binds nothing until Start.
func New(cfg Config, src Source) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = defaultTCPIdleTimeout
	}
	if cfg.TCPReadTimeout <= 0 {
		cfg.TCPReadTimeout = defaultTCPReadTimeout
	}
	if cfg.MaxTCPConnections == 0 {
		cfg.MaxTCPConnections = defaultMaxTCPConnections
	}
	s := &Server{cfg: cfg, src: src, log: cfg.Logger}
	if cfg.Registerer != nil {
		s.met = newMetrics()
	}
	return s
}

// Start binds UDP and TCP on cfg.Listen before it returns (so that "address
// already in use" and the like come back here, naming the address), then
// serves in goroutines that Shutdown stops. ctx bounds the binding only. A
// Server starts once.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.stopped.Load() {
		return errors.New("dnsserver: the server was already started")
	}
	pc, l, err := bind(ctx, s.cfg.Listen)
	if err != nil {
		return err
	}
	if s.met != nil {
		if err := s.met.register(s.cfg.Registerer); err != nil {
			pc.Close()
			l.Close()
			return fmt.Errorf("dnsserver: registering metrics: %w", err)
		}
	}
	handler := dns.HandlerFunc(s.serveDNS)
	s.udp = &dns.Server{
		Net:            "udp",
		PacketConn:     pc,
		Handler:        handler,
		UDPSize:        udpReadBuffer,
		MsgAcceptFunc:  s.accept,
		MsgInvalidFunc: s.invalid,
	}
	idle := s.cfg.TCPIdleTimeout
	s.tcp = &dns.Server{
		Net:           "tcp",
		Listener:      newLimitListener(l, s.cfg.MaxTCPConnections, s.cfg.TCPReadTimeout, s.met.rejectedTCP),
		Handler:       handler,
		ReadTimeout:   s.cfg.TCPReadTimeout,
		IdleTimeout:   func() time.Duration { return idle },
		MaxTCPQueries: -1, // RFC 7766 pipelining: never close after N queries
		// TSIG (zone transfers) only over TCP: keys come from the View.
		TsigProvider:   keyring{s.src},
		MsgAcceptFunc:  s.accept,
		MsgInvalidFunc: s.invalid,
	}
	s.addr = pc.LocalAddr().String()
	addr := s.addr
	started := make(chan struct{}, 2)
	exited := make(chan error, 2)
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := srv.ActivateAndServe()
			if err != nil && !s.stopped.Load() {
				s.log.Error("DNS listener stopped", "net", srv.Net, "addr", addr, "err", err)
			}
			exited <- err
		}()
	}
	for n := 0; n < 2; n++ {
		select {
		case <-started:
		case err := <-exited:
			// One side could not start: take the other down too.
			s.stopped.Store(true)
			pc.Close()
			l.Close()
			s.wg.Wait()
			if s.met != nil {
				s.met.unregister(s.cfg.Registerer)
			}
			return fmt.Errorf("dnsserver: serving on %s: %w", s.addr, err)
		}
	}
	s.running = true
	return nil
}

// bind opens UDP and TCP on addr. With port 0 both get the same free port:
// UDP picks it, TCP follows, and the pair is retried if TCP finds it taken.
func bind(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	if addr == "" {
		return nil, nil, errors.New("dnsserver: no listen address")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dnsserver: listen address %q: %w", addr, err)
	}
	var lc net.ListenConfig
	tries := 1
	if port == "0" {
		tries = 10
	}
	for i := 1; ; i++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dnsserver: %w", err)
		}
		tcpAddr := net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		l, err := lc.Listen(ctx, "tcp", tcpAddr)
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		if i >= tries || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("dnsserver: %w", err)
		}
	}
}

// Shutdown stops both listeners, waits (within ctx) for queries in flight
// and open TCP connections to finish, and unregisters the metrics.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return nil
	}
	s.running = false
	s.stopped.Store(true)
	udp, tcp := s.udp, s.tcp
	s.mu.Unlock()

	var errs []error
	for _, srv := range []*dns.Server{udp, tcp} {
		// The only other error is "server not started", for a listener that
		// already stopped on its own (and was logged).
		if err := srv.ShutdownContext(ctx); err != nil && ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("dnsserver: shutting down %s: %w", srv.Net, err))
		}
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("dnsserver: waiting for the listeners: %w", ctx.Err()))
	}
	if s.met != nil {
		s.met.unregister(s.cfg.Registerer)
	}
	return errors.Join(errs...)
}

// Addr returns the address the server listens on ("127.0.0.1:1053"), the
// same for UDP and TCP, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// accept lets every request reach Answer, which decides FORMERR, NOTIMP and
// the rest itself; miekg/dns's default would reject QDCOUNT ≠ 1, UPDATE and
// more than two additional records before we see them. Responses are
// dropped: answering them invites reflection loops.
//
// A query with more than one question is rejected here (FORMERR, RFC 9619)
// before it is unpacked: when such a message fails to unpack, miekg/dns
// answers FORMERR with every question it had read copied into the reply,
// a reply many times the query's size that ignores the UDP size limit.
// Rejected here, the reply is the bare header.
func (s *Server) accept(h dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15
	if h.Bits&qr != 0 {
		s.met.drop("response")
		return dns.MsgIgnore
	}
	if h.Qdcount > 1 {
		s.met.drop("questions")
		return dns.MsgReject
	}
	return dns.MsgAccept
}

// invalid observes messages that cannot be unpacked. miekg/dns answers
// them FORMERR when the header is readable and drops them otherwise.
func (s *Server) invalid(_ []byte, err error) {
	s.met.drop("malformed")
	s.log.Debug("malformed DNS message", "err", err)
}

// serveDNS answers one request. A panic while answering is logged and
// answered SERVFAIL; it never takes the process down.
func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	q := queryOf(w)
	defer func() {
		if p := recover(); p != nil {
			s.met.panicked()
			s.log.Error("panic while answering a DNS query; answered SERVFAIL",
				"panic", p, "client", q.Client, "tcp", q.TCP, "question", questionOf(req), "stack", string(debug.Stack()))
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeServerFailure)
			s.met.reply(q.TCP, m)
			_ = w.WriteMsg(m)
		}
	}()
	if q.TCP && isTransfer(req) {
		s.serveTransfer(w, req, q)
		return
	}
	d := s.src.Data()
	d.Geo = s.cfg.Geo
	m := Answer(d, req, q)
	if m == nil {
		s.met.drop("response")
		return
	}
	// Counted before the write, so that a client that has its reply sees it
	// counted.
	s.met.reply(q.TCP, m)
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("writing a DNS reply failed", "client", q.Client, "tcp", q.TCP, "err", err)
	}
}

// queryOf describes the transport of a request.
func queryOf(w dns.ResponseWriter) Query {
	var q Query
	var ip net.IP
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip, q.TCP = a.IP, true
	}
	if addr, ok := netip.AddrFromSlice(ip); ok {
		q.Client = addr.Unmap()
	}
	return q
}

// questionOf presents the request's first question for a log line.
func questionOf(req *dns.Msg) string {
	if req == nil || len(req.Question) == 0 {
		return ""
	}
	qn := req.Question[0]
	return qn.Name + " " + dns.Type(qn.Qtype).String()
}
