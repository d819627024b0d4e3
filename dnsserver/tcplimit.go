package dnsserver

import (
	"net"
	"sync"
	"time"
)

// limitListener caps the number of open TCP connections: a connection
// accepted beyond the cap is closed at once (the client sees a reset and can
// retry or fall back), so the kernel backlog never fills with clients that
// wait for a slot. Each accepted connection also gets a write deadline per
// write, so a client that stops reading cannot hold a worker (or Shutdown)
// forever; miekg/dns sets read deadlines only.
type limitListener struct {
	net.Listener
	slots        chan struct{}
	writeTimeout time.Duration
	rejected     func()
}

// newLimitListener wraps l; max < 0 means no cap.
func newLimitListener(l net.Listener, max int, writeTimeout time.Duration, rejected func()) *limitListener {
	ll := &limitListener{Listener: l, writeTimeout: writeTimeout, rejected: rejected}
	if max >= 0 {
		ll.slots = make(chan struct{}, max)
	}
	return ll
}

// Accept returns the next connection that fits under the cap.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.slots == nil {
			return &limitConn{Conn: c, writeTimeout: l.writeTimeout}, nil
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, slots: l.slots, writeTimeout: l.writeTimeout}, nil
		default:
			c.Close()
			l.rejected()
		}
	}
}

// limitConn gives its slot back when closed and bounds every write.
type limitConn struct {
	net.Conn
	slots        chan struct{}
	writeTimeout time.Duration
	once         sync.Once
}

func (c *limitConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	if c.slots != nil {
		c.once.Do(func() { <-c.slots })
	}
	return err
}
