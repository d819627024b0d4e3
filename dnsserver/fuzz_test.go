package dnsserver

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/resolvx/resolvx/internal/testwait"
)

// fuzzTarget is a real Server and one UDP socket and one TCP connection
// to it, reused across fuzz inputs.
type fuzzTarget struct {
	s   *Server
	reg *prometheus.Registry
	udp net.Conn
	tcp net.Conn
	buf []byte
}

// staticData is a Source that always returns the same Data.
type staticData struct{ d Data }

func (s staticData) Data() Data { return s.d }

func newFuzzTarget(tb testing.TB) *fuzzTarget {
	reg := prometheus.NewRegistry()
	// The zones of the table tests, with the policies of policy_test.go.
	d := policyData(tb)
	d.Zones = mustView(tb, "example.com.", testZone(), "example.org.", orgZone, "child.example.com.", childZone, "gtm.test.", policyZone)
	s := startServer(tb, Config{Registerer: reg, TCPReadTimeout: 2 * time.Second, TCPIdleTimeout: time.Minute, Geo: d.Geo}, staticData{d})
	udp, err := net.Dial("udp", s.Addr())
	if err != nil {
		tb.Fatal(err)
	}
	ft := &fuzzTarget{s: s, reg: reg, udp: udp, buf: make([]byte, 65535)}
	tb.Cleanup(func() {
		udp.Close()
		if ft.tcp != nil {
			ft.tcp.Close()
		}
	})
	return ft
}

// drops is the number of messages the server dropped so far.
func (ft *fuzzTarget) drops(t testing.TB) float64 {
	return counterValue(t, ft.reg, "resolvx_dns_dropped_total", map[string]string{"reason": "response"}) +
		counterValue(t, ft.reg, "resolvx_dns_dropped_total", map[string]string{"reason": "malformed"})
}

// send delivers data over UDP or TCP and returns the reply, or nil when the
// message was dropped (the drop counter moved); it fails the test when
// neither happens within 2 s.
func (ft *fuzzTarget) send(t *testing.T, data []byte, tcp, wantReply bool) []byte {
	t.Helper()
	before := ft.drops(t)
	deadline := time.Now().Add(2 * time.Second)
	if tcp {
		return ft.sendTCP(t, data, wantReply, before, deadline)
	}
	if _, err := ft.udp.Write(data); err != nil {
		t.Fatal(err)
	}
	if !wantReply {
		ft.waitDrop(t, before, deadline)
		return nil
	}
	for {
		_ = ft.udp.SetReadDeadline(deadline)
		n, err := ft.udp.Read(ft.buf)
		if err != nil {
			t.Fatalf("UDP: no reply within 2 s to %x: %v", data, err)
		}
		if n >= 2 && ft.buf[0] == data[0] && ft.buf[1] == data[1] {
			return append([]byte(nil), ft.buf[:n]...)
		}
	}
}

func (ft *fuzzTarget) sendTCP(t *testing.T, data []byte, wantReply bool, before float64, deadline time.Time) []byte {
	t.Helper()
	if ft.tcp == nil {
		c, err := net.DialTimeout("tcp", ft.s.Addr(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ft.tcp = c
	}
	_ = ft.tcp.SetDeadline(deadline)
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(data)))
	if _, err := ft.tcp.Write(append(msg, data...)); err != nil {
		t.Fatalf("TCP write: %v", err)
	}
	if !wantReply {
		ft.waitDrop(t, before, deadline)
		return nil
	}
	var l [2]byte
	if _, err := io.ReadFull(ft.tcp, l[:]); err != nil {
		t.Fatalf("TCP: no reply within 2 s to %x: %v", data, err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(ft.tcp, b); err != nil {
		t.Fatalf("TCP: reply cut short: %v", err)
	}
	return b
}

// waitDrop waits until the drop counter passes before.
func (ft *fuzzTarget) waitDrop(t *testing.T, before float64, deadline time.Time) {
	t.Helper()
	testwait.For(t, time.Until(deadline), "a message that gets no reply to be counted as dropped", func() bool { return ft.drops(t) != before })
}

// FuzzAnswer sends arbitrary bytes to a real Server over UDP and over TCP
// (one connection, length-prefixed): the path of every query, miekg/dns's
// read and unpack, the accept function, Answer, the reply packed and
// written. Invariants: the server never panics (its panic counter stays
// 0); a message shorter than a header or with QR set gets no reply and is
// counted as dropped; every other message gets one reply within 2 s that
// carries its ID with QR set, unpacks, and over UDP fits the size the
// request allows (512 octets without usable EDNS, at most 1232).
// The server answers the zones of the table tests and the GTM policies of
// policy_test.go, placing clients with the fake locator. The seed corpus is
// every request of the table tests (Client Subnet options included), every
// bad packet of the catalogue, and testdata/fuzz/FuzzAnswer.
func FuzzAnswer(f *testing.F) {
	cases := answerCases()
	for _, c := range policyCases() {
		cases = append(cases, c.Case)
	}
	for _, c := range cases {
		req := query(c.Qname, c.Qtype)
		if c.EDNS > 0 {
			req.SetEdns0(c.EDNS, c.DO)
		}
		if c.Mutate != nil {
			c.Mutate(req)
		}
		if wire, err := req.Pack(); err == nil {
			f.Add(wire)
		}
	}
	for _, c := range badPackets() {
		f.Add(c.wire)
	}
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > dns.MaxMsgSize {
			return // cannot be framed over TCP nor sent in one datagram
		}
		wantReply := len(data) >= 12 && data[2]&0x80 == 0
		limit := minUDPPayload
		if req := new(dns.Msg); req.Unpack(data) == nil {
			if e, ok := readEDNS(req); ok {
				limit = e.udpLimit()
			}
		}
		for _, tcp := range []bool{false, true} {
			wire := ft.send(t, data, tcp, wantReply)
			if wire == nil {
				continue
			}
			m := new(dns.Msg)
			if err := m.Unpack(wire); err != nil {
				t.Fatalf("tcp %v: the reply does not unpack: %v\nrequest %x", tcp, err, data)
			}
			if !m.Response || m.Id != binary.BigEndian.Uint16(data) {
				t.Fatalf("tcp %v: reply header QR %v id %d, request id %d", tcp, m.Response, m.Id, binary.BigEndian.Uint16(data))
			}
			if !tcp && len(wire) > limit {
				t.Fatalf("UDP reply of %d octets, limit %d\nrequest %x", len(wire), limit, data)
			}
		}
		if p := counterValue(t, ft.reg, "resolvx_dns_panics_total", nil); p != 0 {
			t.Fatalf("the server panicked %v times (request %x)", p, data)
		}
	})
}
