package lab

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// queryA asks the DNS server at ip:53 for name A, from the client
// namespace, and returns the A values; an answer other than NOERROR is an
// error.
func (l *Lab) queryA(ip, name string) ([]string, error) {
	conn, err := listenUDP(l.client)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, err := exchange(conn, &net.UDPAddr{IP: net.ParseIP(ip), Port: 53}, m, 500*time.Millisecond)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("%s %s: %s", ip, name, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

// exchange sends m from an unconnected UDP socket and waits for the reply
// with the same id from server.
func exchange(conn *net.UDPConn, server *net.UDPAddr, m *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	m.Id = dns.Id()
	b, err := m.Pack()
	if err != nil {
		return nil, err
	}
	if _, err := conn.WriteToUDP(b, server); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 65535)
	for {
		_ = conn.SetReadDeadline(deadline)
		k, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return nil, err
		}
		if !from.IP.Equal(server.IP) || from.Port != server.Port {
			continue
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:k]); err != nil || r.Id != m.Id {
			continue
		}
		return r, nil
	}
}

// probe is one query of the prober.
type probe struct {
	sent  time.Time
	recv  time.Time // zero: no reply (within the timeout)
	rcode int
}

func (p probe) ok() bool { return !p.recv.IsZero() && p.rcode == dns.RcodeSuccess }

// prober asks the VIP for probeName A every interval from the client
// namespace, one UDP socket, each query with its own id; a reply counts
// when it comes from the VIP within timeout. It timestamps every probe.
type prober struct {
	conn     *net.UDPConn
	target   *net.UDPAddr
	interval time.Duration
	timeout  time.Duration

	mu      sync.Mutex
	probes  []probe // index = sequence number
	sendErr error   // the last send error, for failure messages
	readErr error   // the last read error
	late    int     // replies after the timeout
	stop    chan struct{}
	wg      sync.WaitGroup
}

// startProber starts the client's VIP prober; it stops in t.Cleanup.
func startProber(t *testing.T, l *Lab, interval, timeout time.Duration) *prober {
	t.Helper()
	conn, err := listenUDP(l.client)
	if err != nil {
		t.Fatal(err)
	}
	p := &prober{conn: conn, target: &net.UDPAddr{IP: net.ParseIP(vipIP), Port: 53},
		interval: interval, timeout: timeout, stop: make(chan struct{})}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(probeName), dns.TypeA)
	tmpl, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	p.wg.Add(2)
	go p.send(tmpl)
	go p.receive()
	t.Cleanup(p.close)
	l.prober = p
	return p
}

func (p *prober) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.conn.Close()
	p.wg.Wait()
}

func (p *prober) send(tmpl []byte) {
	defer p.wg.Done()
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	msg := append([]byte(nil), tmpl...)
	for {
		p.mu.Lock()
		seq := len(p.probes)
		msg[0], msg[1] = byte(seq>>8), byte(seq)
		p.probes = append(p.probes, probe{sent: time.Now(), rcode: -1})
		p.mu.Unlock()
		// Errors (no route while nobody answers ARP for the VIP) are just
		// probes without a reply.
		if _, err := p.conn.WriteToUDP(msg, p.target); err != nil {
			p.mu.Lock()
			p.sendErr = err
			p.mu.Unlock()
		}
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

func (p *prober) receive() {
	defer p.wg.Done()
	buf := make([]byte, 4096)
	for {
		k, from, err := p.conn.ReadFromUDP(buf)
		now := time.Now()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.mu.Lock()
			p.readErr = err
			p.mu.Unlock()
			continue // ICMP errors on the socket
		}
		if k < 12 || !from.IP.Equal(p.target.IP) || from.Port != p.target.Port || buf[2]&0x80 == 0 {
			continue
		}
		id := int(buf[0])<<8 | int(buf[1])
		p.mu.Lock()
		// The newest probe with this id (ids wrap every 65536 probes, 22 min).
		for seq := len(p.probes) - 1; seq >= 0 && seq >= len(p.probes)-65536; seq-- {
			if seq&0xffff != id {
				continue
			}
			pr := &p.probes[seq]
			if pr.recv.IsZero() && now.Sub(pr.sent) <= p.timeout {
				pr.recv, pr.rcode = now, int(buf[3]&0x0f)
			} else {
				p.late++
			}
			break
		}
		p.mu.Unlock()
	}
}

// snapshot copies the probes so far; probes younger than the timeout are
// left out, they may still be answered.
func (p *prober) snapshot() []probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	cut := time.Now().Add(-p.timeout)
	n := len(p.probes)
	for n > 0 && p.probes[n-1].sent.After(cut) {
		n--
	}
	return append([]probe(nil), p.probes[:n]...)
}

// answeredAfter returns the reply time of the first answered probe sent at
// or after t0, waiting up to timeout for one.
func (p *prober) answeredAfter(t *testing.T, t0 time.Time, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	eventually(t, timeout, "an answer at the VIP", func() (bool, string) {
		for _, pr := range p.snapshot() {
			if !pr.sent.Before(t0) && pr.ok() {
				at = pr.recv
				return true, ""
			}
		}
		return false, p.describe()
	})
	return at
}

// maxGap is the longest time between two consecutive answered probes with
// at least one of them in [from, to]; it also returns the gap's start.
func (p *prober) maxGap(from, to time.Time) (time.Duration, time.Time) {
	var prev time.Time
	var gap time.Duration
	var gapStart time.Time
	for _, pr := range p.snapshot() {
		if !pr.ok() {
			continue
		}
		if !prev.IsZero() && !pr.recv.Before(from) && !prev.After(to) {
			if d := pr.recv.Sub(prev); d > gap {
				gap, gapStart = d, prev
			}
		}
		prev = pr.recv
	}
	return gap, gapStart
}

// counts returns how many probes were sent and answered in [from, to].
func (p *prober) counts(from, to time.Time) (sent, answered int) {
	for _, pr := range p.snapshot() {
		if pr.sent.Before(from) || pr.sent.After(to) {
			continue
		}
		sent++
		if pr.ok() {
			answered++
		}
	}
	return sent, answered
}

// describe summarises the prober for failure messages.
func (p *prober) describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok, replied := 0, 0
	for _, pr := range p.probes {
		if !pr.recv.IsZero() {
			replied++
		}
		if pr.ok() {
			ok++
		}
	}
	return fmt.Sprintf("%d probes, %d replies, %d NOERROR, %d late; last send error %v, last read error %v",
		len(p.probes), replied, ok, p.late, p.sendErr, p.readErr)
}
