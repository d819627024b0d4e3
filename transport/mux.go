package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Protocol bytes: the first byte a dialler writes on a new connection.
const (
	ProtoRaft byte = 'R'
	ProtoRPC  byte = 'C'
)

// firstByteTimeout bounds how long an accepted connection may stay silent
// before it says which protocol it speaks.
const firstByteTimeout = 5 * time.Second

// Mux owns the node's cluster listener and every connection on it.
type Mux struct {
	ln        net.Listener
	advertise string
	logger    *slog.Logger

	ctx    context.Context // cancelled by Close; parent of every handler's ctx
	cancel context.CancelFunc

	raftConns chan net.Conn // accepted Raft connections waiting for Accept
	layer     *raftLayer

	maxFrame int // RPC frame limit, fixed at construction

	mu       sync.Mutex
	handlers map[string]Handler
	conns    map[*conn]struct{}
	closed   bool

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Listen opens the cluster port on addr. advertise is the address peers use
// to reach this node (it becomes the node's Raft address); "" means the
// listener's own address, which must then name a specific host.
func Listen(addr, advertise string, logger *slog.Logger) (*Mux, error) {
	return listenWithLimit(addr, advertise, logger, MaxFrameSize)
}

// listenWithLimit is Listen with an RPC frame limit (tests lower it).
func listenWithLimit(addr, advertise string, logger *slog.Logger, maxFrame int) (*Mux, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("transport: bad listen address %q: %v", addr, err)
	}
	if advertise != "" {
		if err := checkAdvertise(advertise); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: cannot listen on %q: %w", addr, err)
	}
	if advertise == "" {
		advertise = ln.Addr().String()
		if err := checkAdvertise(advertise); err != nil {
			ln.Close()
			return nil, fmt.Errorf("%w (derived from listen address %q: set an advertise address)", err, addr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mux{
		maxFrame:  maxFrame,
		ln:        ln,
		advertise: advertise,
		logger:    logger,
		ctx:       ctx,
		cancel:    cancel,
		raftConns: make(chan net.Conn),
		handlers:  make(map[string]Handler),
		conns:     make(map[*conn]struct{}),
	}
	m.layer = &raftLayer{m: m, closed: make(chan struct{})}
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

// checkAdvertise refuses an address peers could not dial: no port, or an
// unspecified host (0.0.0.0, ::) or none at all.
func checkAdvertise(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("transport: bad advertise address %q: %v", a, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("transport: advertise address %q needs a port between 1 and 65535", a)
	}
	if host == "" {
		return fmt.Errorf("transport: advertise address %q has no host: peers need an address they can dial", a)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("transport: advertise address %q is unspecified (%s): peers need an address they can dial", a, host)
	}
	return nil
}

// Addr returns the advertised address (the node's Raft server address).
func (m *Mux) Addr() string { return m.advertise }

// ListenAddr returns the address the listener is bound to.
func (m *Mux) ListenAddr() net.Addr { return m.ln.Addr() }

// RaftLayer returns the raft.StreamLayer carried on this port.
func (m *Mux) RaftLayer() raft.StreamLayer { return m.layer }

// Close stops the listener, closes every connection and waits for every
// goroutine of the Mux (handlers see their ctx cancelled). Idempotent.
func (m *Mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		conns := make([]*conn, 0, len(m.conns))
		for c := range m.conns {
			conns = append(conns, c)
		}
		m.mu.Unlock()
		m.cancel()
		err = m.ln.Close()
		m.layer.Close()
		for _, c := range conns {
			c.Close()
		}
		m.wg.Wait()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
	})
	return err
}

// conn is a connection the Mux tracks so Close can close it.
type conn struct {
	net.Conn
	m    *Mux
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() {
		c.m.mu.Lock()
		delete(c.m.conns, c)
		c.m.mu.Unlock()
	})
	return c.Conn.Close()
}

// track registers c, or closes it when the Mux is already closed.
func (m *Mux) track(nc net.Conn) (*conn, bool) {
	c := &conn{Conn: nc, m: m}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		nc.Close()
		return nil, false
	}
	m.conns[c] = struct{}{}
	return c, true
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		nc, err := m.ln.Accept()
		if err != nil {
			if m.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failures (EMFILE and the like): back off and retry.
			m.logger.Warn("cluster listener: accept failed", "addr", m.ln.Addr().String(), "err", err)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-m.ctx.Done():
				t.Stop()
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		c, ok := m.track(nc)
		if !ok {
			return
		}
		m.wg.Add(1)
		go m.serveConn(c)
	}
}

// serveConn reads the protocol byte and hands the connection on.
func (m *Mux) serveConn(c *conn) {
	defer m.wg.Done()
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(firstByteTimeout))
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	switch b[0] {
	case ProtoRaft:
		select {
		case m.raftConns <- c: // NetworkTransport owns it now (and Close still closes it)
		case <-m.layer.closed:
			c.Close()
		case <-m.ctx.Done():
			c.Close()
		}
	case ProtoRPC:
		m.serveRPC(c)
	default:
		m.logger.Debug("cluster listener: unknown protocol byte, closing", "remote", c.RemoteAddr().String(), "byte", b[0])
		c.Close()
	}
}

// raftLayer is the raft.StreamLayer on the shared port.
type raftLayer struct {
	m      *Mux
	once   sync.Once
	closed chan struct{}
}

var errLayerClosed = errors.New("transport: raft stream layer closed")

// Accept returns the next connection that announced itself as Raft.
func (l *raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.m.raftConns:
		return c, nil
	case <-l.closed:
		return nil, errLayerClosed
	case <-l.m.ctx.Done():
		return nil, errLayerClosed
	}
}

// Close stops Accept; the Mux keeps serving RPC until its own Close.
func (l *raftLayer) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the advertised address: NetworkTransport uses it as this node's
// Raft server address.
func (l *raftLayer) Addr() net.Addr { return advertiseAddr(l.m.advertise) }

// Dial connects to a peer's cluster port and announces Raft.
func (l *raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(l.m.ctx, "tcp", string(address))
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		nc.SetWriteDeadline(time.Now().Add(timeout))
	}
	if _, err := nc.Write([]byte{ProtoRaft}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("transport: dial %s: %w", address, err)
	}
	nc.SetWriteDeadline(time.Time{})
	c, ok := l.m.track(nc)
	if !ok {
		return nil, errLayerClosed
	}
	return c, nil
}

type advertiseAddr string

func (a advertiseAddr) Network() string { return "tcp" }
func (a advertiseAddr) String() string  { return string(a) }

var _ raft.StreamLayer = (*raftLayer)(nil)
