package conformance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// peer sends raw queries to one server over a connected UDP socket and one
// reused TCP connection, one query at a time.
type peer struct {
	name string
	addr string
	udp  net.Conn
	tcp  net.Conn
	buf  []byte
}

func newPeer(name, addr string) (*peer, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	return &peer{name: name, addr: addr, udp: c, buf: make([]byte, 65535)}, nil
}

func (p *peer) close() {
	p.udp.Close()
	if p.tcp != nil {
		p.tcp.Close()
	}
}

// exchange sends wire (a query with ID id) and returns the reply's bytes,
// or nil and no error when no reply came within the timeout.
func (p *peer) exchange(wire []byte, id uint16, tcp bool) ([]byte, error) {
	if tcp {
		fresh := p.tcp == nil
		b, err := p.exchangeTCP(wire)
		if err != nil && !fresh {
			// The server may have closed an idle connection: one retry on
			// a fresh one.
			p.closeTCP()
			b, err = p.exchangeTCP(wire)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			// A fresh connection closed (or reset, as NSD does)
			// instead of a reply: the server's way of not answering
			// over TCP.
			p.closeTCP()
			return nil, nil
		}
		if err != nil {
			p.closeTCP()
		}
		return b, err
	}
	// Like a stub resolver: one retry after a second without a reply, so
	// that a datagram lost on a busy machine is not a difference.
	for try := 0; try < 2; try++ {
		if _, err := p.udp.Write(wire); err != nil {
			return nil, err
		}
		b, err := p.readUDP(id, time.Now().Add(time.Second))
		if b != nil || err != nil {
			return b, err
		}
	}
	return nil, nil
}

// readUDP reads until the reply with ID id arrives (nil at the deadline).
func (p *peer) readUDP(id uint16, deadline time.Time) ([]byte, error) {
	for {
		if err := p.udp.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		n, err := p.udp.Read(p.buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, nil
			}
			return nil, err
		}
		if n >= 2 && binary.BigEndian.Uint16(p.buf) == id {
			return append([]byte(nil), p.buf[:n]...), nil
		}
		// A late reply to an earlier query: keep reading.
	}
}

func (p *peer) closeTCP() {
	if p.tcp != nil {
		p.tcp.Close()
		p.tcp = nil
	}
}

func (p *peer) exchangeTCP(wire []byte) ([]byte, error) {
	if p.tcp == nil {
		c, err := net.DialTimeout("tcp", p.addr, 2*time.Second)
		if err != nil {
			return nil, err
		}
		p.tcp = c
	}
	if err := p.tcp.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return nil, err
	}
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(wire)))
	if _, err := p.tcp.Write(append(msg, wire...)); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(p.tcp, l[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("reading the length: %w", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(p.tcp, b); err != nil {
		return nil, fmt.Errorf("reading the reply: %w", err)
	}
	return b, nil
}

// ask sends q and unpacks the reply; a nil message with a nil error means
// no reply came.
func (p *peer) ask(q *query) (*dns.Msg, int, error) {
	b, err := p.exchange(q.wire, q.msg.Id, q.tcp)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", p.name, err)
	}
	if b == nil {
		return nil, 0, nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return nil, len(b), fmt.Errorf("%s: reply does not unpack: %w", p.name, err)
	}
	return m, len(b), nil
}
