package dnsserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/resolvx/resolvx/internal/testwait"
)

// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.1.6).
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagZ  = 1 << 6
	flagCD = 1 << 4
)

// opcodeFlags puts an opcode into the flags word.
func opcodeFlags(op int) uint16 { return uint16(op&0xf) << 11 }

// wireHeader is a DNS header: id, flags and the four section counts.
func wireHeader(id, flags, qd, an, ns, ar uint16) []byte {
	b := make([]byte, 0, 12)
	for _, v := range []uint16{id, flags, qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

// wireName encodes a name from its labels, uncompressed.
func wireName(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// wireQuestion is one question entry.
func wireQuestion(name []byte, qtype, qclass uint16) []byte {
	b := append([]byte(nil), name...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, qclass)
}

// wireOPT is an OPT RR (RFC 6891 §6.1.2) owned by owner.
func wireOPT(owner []byte, size uint16, version uint8, do bool, rdata []byte) []byte {
	b := append([]byte(nil), owner...)
	b = binary.BigEndian.AppendUint16(b, dns.TypeOPT)
	b = binary.BigEndian.AppendUint16(b, size)
	var flags uint16
	if do {
		flags = 1 << 15
	}
	b = append(b, 0, version)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// wireOption is one EDNS option.
func wireOption(code uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// badPacket is one entry of the catalogue: raw bytes sent to a real Server
// and the reply the handler path (miekg/dns accept and unpack, then
// Answer) must give.
type badPacket struct {
	name string
	wire []byte
	// noReply: nothing comes back (the server counts the packet as
	// dropped).
	noReply bool
	rcode   int
	opt     bool // the reply carries an OPT record
	tc      bool
	answers int // records in the answer section
	// check is an extra condition on the reply (and its size on the
	// wire); "" means it holds.
	check func(m *dns.Msg, size int) string
	// knot is what Knot 3.2.6 replies to the same bytes over UDP, for the
	// record (not checked here): "same" or its reply.
	knot string
}

// badPackets is the catalogue of issue 4 ("Bad packets to cover"), with
// Knot 3.2.6's reply to the same bytes for comparison. Where Knot drops a
// message it cannot parse, resolvx (miekg/dns) answers FORMERR whenever the
// header is readable (RFC 1035 §4.1.1: "Format error - The name server was
// unable to interpret the query"); a datagram shorter than a header, and a
// response, get nothing from either.
func badPackets() []badPacket {
	www := wireName("www", "example", "com")
	apex := wireName("example", "com")
	qWWW := wireQuestion(www, dns.TypeA, dns.ClassINET)
	long := make([]string, 5) // 5 × 64 octets: a name of 321 octets
	for i := range long {
		long[i] = strings.Repeat("a", 63)
	}
	padding := wireOption(dns.EDNS0PADDING, make([]byte, 1400-12-len(qWWW)-11-4))
	noOptions := func(m *dns.Msg, _ int) string {
		if o := m.IsEdns0(); o != nil && len(o.Option) > 0 {
			return fmt.Sprintf("options echoed: %v", o.Option)
		}
		return ""
	}
	return []badPacket{
		{name: "empty datagram", knot: "same", wire: []byte{}, noReply: true},
		{name: "short datagram (11 octets)", knot: "same", wire: wireHeader(1, flagRD, 1, 0, 0, 0)[:11], noReply: true},
		{name: "QR=1 (a response)", knot: "same", wire: cat(wireHeader(2, flagQR|flagAA, 1, 0, 0, 0), qWWW), noReply: true},
		{name: "QDCOUNT 0", knot: "same", wire: wireHeader(3, flagRD, 0, 0, 0, 0), rcode: dns.RcodeFormatError},
		{name: "QDCOUNT 2", knot: "no reply", wire: cat(wireHeader(4, 0, 2, 0, 0, 0), qWWW, wireQuestion(apex, dns.TypeSOA, dns.ClassINET)), rcode: dns.RcodeFormatError},
		{name: "question cut short in the name", knot: "no reply", wire: cat(wireHeader(5, 0, 1, 0, 0, 0), []byte{3, 'w', 'w', 'w', 7, 'e', 'x'}), rcode: dns.RcodeFormatError},
		// miekg/dns unpacks a question cut after its name or its type with
		// type or class 0; Answer refuses both as FORMERR.
		{name: "question cut after the name", knot: "no reply", wire: cat(wireHeader(6, 0, 1, 0, 0, 0), www), rcode: dns.RcodeFormatError},
		{name: "question cut after the type", knot: "no reply", wire: cat(wireHeader(39, 0, 1, 0, 0, 0), www, []byte{0, 1}), rcode: dns.RcodeFormatError},
		{name: "question cut inside the class", knot: "no reply", wire: cat(wireHeader(40, 0, 1, 0, 0, 0), www, []byte{0, 1, 0}), rcode: dns.RcodeFormatError},
		{name: "compression loop", knot: "no reply", wire: cat(wireHeader(7, 0, 1, 0, 0, 0), []byte{3, 'w', 'w', 'w', 0xc0, 12, 0, 1, 0, 1}), rcode: dns.RcodeFormatError},
		{name: "compression pointer to itself", knot: "no reply", wire: cat(wireHeader(8, 0, 1, 0, 0, 0), []byte{0xc0, 12, 0, 1, 0, 1}), rcode: dns.RcodeFormatError},
		{name: "compression pointer out of bounds", knot: "no reply", wire: cat(wireHeader(9, 0, 1, 0, 0, 0), []byte{3, 'w', 'w', 'w', 0xc3, 0xff, 0, 1, 0, 1}), rcode: dns.RcodeFormatError},
		{name: "label type 0x40 (extended label)", knot: "no reply", wire: cat(wireHeader(10, 0, 1, 0, 0, 0), []byte{0x41, 'x', 0, 0, 1, 0, 1}), rcode: dns.RcodeFormatError},
		{name: "label type 0x80 (reserved)", knot: "no reply", wire: cat(wireHeader(11, 0, 1, 0, 0, 0), []byte{0x81, 'x', 0, 0, 1, 0, 1}), rcode: dns.RcodeFormatError},
		{name: "name over 255 octets", knot: "no reply", wire: cat(wireHeader(12, 0, 1, 0, 0, 0), wireQuestion(wireName(long...), dns.TypeA, dns.ClassINET)), rcode: dns.RcodeFormatError},
		{name: "opcode IQUERY", knot: "same", wire: cat(wireHeader(13, opcodeFlags(dns.OpcodeIQuery), 1, 0, 0, 0), qWWW), rcode: dns.RcodeNotImplemented},
		{name: "opcode STATUS", knot: "same", wire: cat(wireHeader(14, opcodeFlags(dns.OpcodeStatus), 1, 0, 0, 0), qWWW), rcode: dns.RcodeNotImplemented},
		{name: "opcode 3 (unassigned)", knot: "same", wire: cat(wireHeader(15, opcodeFlags(3), 1, 0, 0, 0), qWWW), rcode: dns.RcodeNotImplemented},
		{name: "opcode 15 (unassigned)", knot: "same", wire: cat(wireHeader(16, opcodeFlags(15), 1, 0, 0, 0), qWWW), rcode: dns.RcodeNotImplemented},
		{name: "opcode NOTIFY", knot: "NOTAUTH", wire: cat(wireHeader(17, opcodeFlags(dns.OpcodeNotify)|flagAA, 1, 0, 0, 0), wireQuestion(apex, dns.TypeSOA, dns.ClassINET)), rcode: dns.RcodeNotImplemented},
		{name: "opcode UPDATE", knot: "NOTAUTH", wire: cat(wireHeader(18, opcodeFlags(dns.OpcodeUpdate), 1, 0, 0, 0), wireQuestion(apex, dns.TypeSOA, dns.ClassINET)), rcode: dns.RcodeNotImplemented},
		{name: "EDNS version 1: BADVERS", knot: "same", wire: cat(wireHeader(19, 0, 1, 0, 0, 1), qWWW, wireOPT([]byte{0}, 1232, 1, false, nil)), rcode: dns.RcodeBadVers, opt: true},
		{name: "two OPT records", knot: "same", wire: cat(wireHeader(20, 0, 1, 0, 0, 2), qWWW, wireOPT([]byte{0}, 1232, 0, false, nil), wireOPT([]byte{0}, 4096, 0, true, nil)), rcode: dns.RcodeFormatError},
		{name: "OPT owned by a non-root name", knot: "answered, the OPT ignored", wire: cat(wireHeader(21, 0, 1, 0, 0, 1), qWWW, wireOPT(apex, 1232, 0, false, nil)), rcode: dns.RcodeFormatError},
		{name: "OPT UDP size 100: treated as 512", knot: "same", wire: cat(wireHeader(22, 0, 1, 0, 0, 1), wireQuestion(wireName("manymx", "example", "com"), dns.TypeMX, dns.ClassINET), wireOPT([]byte{0}, 100, 0, false, nil)),
			opt: true, answers: 12, check: func(m *dns.Msg, size int) string {
				if len(m.Extra) < 2 || size > 512 {
					return fmt.Sprintf("%d additional records in %d octets: want some, within 512", len(m.Extra), size)
				}
				return ""
			}},
		{name: "unknown EDNS options: ignored", knot: "same", wire: cat(wireHeader(23, 0, 1, 0, 0, 1), qWWW, wireOPT([]byte{0}, 1232, 0, true, cat(wireOption(65001, []byte("x")), wireOption(dns.EDNS0COOKIE, []byte("01234567"))))),
			opt: true, answers: 2, check: noOptions},
		{name: "EDNS option overrunning its RDATA", knot: "same", wire: cat(wireHeader(24, 0, 1, 0, 0, 1), qWWW, wireOPT([]byte{0}, 1232, 0, false, []byte{0xfd, 0xe9, 0, 9, 'x'})), rcode: dns.RcodeFormatError},
		{name: "1,400-octet query: answered", knot: "same", wire: cat(wireHeader(25, 0, 1, 0, 0, 1), qWWW, wireOPT([]byte{0}, 1232, 0, false, padding)), opt: true, answers: 2, check: noOptions},
		{name: "AXFR over UDP", knot: "NOTIMP", wire: cat(wireHeader(26, 0, 1, 0, 0, 0), wireQuestion(apex, dns.TypeAXFR, dns.ClassINET)), rcode: dns.RcodeRefused},
		{name: "IXFR over UDP", knot: "NOTAUTH", wire: cat(wireHeader(27, 0, 1, 0, 0, 0), wireQuestion(apex, dns.TypeIXFR, dns.ClassINET)), rcode: dns.RcodeRefused},
		{name: "QTYPE 0", knot: "NOTIMP", wire: cat(wireHeader(28, 0, 1, 0, 0, 0), wireQuestion(www, 0, dns.ClassINET)), rcode: dns.RcodeFormatError},
		{name: "QTYPE OPT", knot: "NODATA", wire: cat(wireHeader(29, 0, 1, 0, 0, 0), wireQuestion(www, dns.TypeOPT, dns.ClassINET)), rcode: dns.RcodeFormatError},
		{name: "QTYPE TSIG", knot: "NODATA", wire: cat(wireHeader(30, 0, 1, 0, 0, 0), wireQuestion(www, dns.TypeTSIG, dns.ClassINET)), rcode: dns.RcodeFormatError},
		{name: "QTYPE TKEY", knot: "NODATA", wire: cat(wireHeader(31, 0, 1, 0, 0, 0), wireQuestion(www, dns.TypeTKEY, dns.ClassINET)), rcode: dns.RcodeFormatError},
		{name: "CHAOS TXT version.bind: no version", knot: "its version string", wire: cat(wireHeader(32, 0, 1, 0, 0, 0), wireQuestion(wireName("version", "bind"), dns.TypeTXT, dns.ClassCHAOS)), rcode: dns.RcodeRefused},
		{name: "class 42 (unknown)", knot: "same", wire: cat(wireHeader(33, 0, 1, 0, 0, 0), wireQuestion(www, dns.TypeA, 42)), rcode: dns.RcodeRefused},
		{name: "class ANY", knot: "answered as IN", wire: cat(wireHeader(34, 0, 1, 0, 0, 0), wireQuestion(www, dns.TypeA, dns.ClassANY)), rcode: dns.RcodeRefused},
		// The bytes after the counted sections are ignored (miekg/dns does
		// not look at them); the question is well formed.
		{name: "trailing bytes after the question", knot: "FORMERR", wire: cat(wireHeader(35, 0, 1, 0, 0, 0), qWWW, []byte("trailing garbage")), answers: 2},
		{name: "additional section cut short (ARCOUNT 1, half an OPT)", knot: "same", wire: cat(wireHeader(36, 0, 1, 0, 0, 1), qWWW, wireOPT([]byte{0}, 1232, 0, false, nil)[:6]), rcode: dns.RcodeFormatError},
		// miekg/dns takes the records that are there when the message ends
		// on a record boundary; the reply answers the question asked.
		{name: "ARCOUNT 2 with one record", knot: "FORMERR", wire: cat(wireHeader(37, 0, 1, 0, 0, 2), qWWW, wireOPT([]byte{0}, 1232, 0, false, nil)), opt: true, answers: 2},
		{name: "TC, Z and CD set in the query: answered, Z clear, CD copied", knot: "same, CD cleared", wire: cat(wireHeader(38, flagTC|flagZ|flagCD|flagRD, 1, 0, 0, 0), qWWW), answers: 2,
			check: func(m *dns.Msg, _ int) string {
				if m.Zero || !m.CheckingDisabled || !m.RecursionDesired || m.Truncated {
					return fmt.Sprintf("flags Z %v CD %v RD %v TC %v; want Z clear, CD and RD copied, TC clear", m.Zero, m.CheckingDisabled, m.RecursionDesired, m.Truncated)
				}
				return ""
			}},
	}
}

// startCatalogueServer runs a Server with metrics (to see drops) and, by
// default, short TCP timeouts (300 ms).
func startCatalogueServer(t *testing.T, cfg Config) (*Server, *prometheus.Registry) {
	t.Helper()
	cfg.Registerer = prometheus.NewRegistry()
	if cfg.TCPReadTimeout == 0 {
		cfg.TCPReadTimeout = 300 * time.Millisecond
	}
	if cfg.TCPIdleTimeout == 0 {
		cfg.TCPIdleTimeout = 300 * time.Millisecond
	}
	s := startServer(t, cfg, newSource(testView(t)))
	return s, cfg.Registerer.(*prometheus.Registry)
}

// dropped is the number of requests the server dropped so far.
func dropped(t *testing.T, reg *prometheus.Registry) float64 {
	return counterValue(t, reg, "resolvx_dns_dropped_total", map[string]string{"reason": "response"}) +
		counterValue(t, reg, "resolvx_dns_dropped_total", map[string]string{"reason": "malformed"})
}

// Invariant: every bad packet of issue 4's list, sent as raw bytes over UDP
// to a real Server, gets exactly the reply its catalogue entry states (or
// none), and the server keeps answering.
func TestBadPacketsUDP(t *testing.T) {
	s, reg := startCatalogueServer(t, Config{})
	conn, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 65535)
	for _, c := range badPackets() {
		t.Run(c.name, func(t *testing.T) {
			before := dropped(t, reg)
			if _, err := conn.Write(c.wire); err != nil {
				t.Fatal(err)
			}
			if c.noReply {
				// The server counts the packet as dropped; then nothing
				// may be waiting on the socket.
				testwait.For(t, 5*time.Second, "the packet to be answered or counted as dropped", func() bool { return dropped(t, reg) != before })
				_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if n, err := conn.Read(buf); err == nil {
					t.Fatalf("got a %d-octet reply, want none", n)
				}
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("no reply: %v", err)
			}
			checkCatalogueReply(t, c, buf[:n])
		})
	}
	// Still healthy.
	for _, netw := range []string{"udp", "tcp"} {
		if r := exchange(t, netw, s.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
			t.Fatalf("%s after the catalogue: %v", netw, r)
		}
	}
}

// checkCatalogueReply checks a reply's bytes against c.
func checkCatalogueReply(t *testing.T, c badPacket, wire []byte) {
	t.Helper()
	if len(wire) < 12 || binary.BigEndian.Uint16(wire) != binary.BigEndian.Uint16(c.wire) {
		t.Fatalf("reply %x does not carry the request's ID", wire)
	}
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		t.Fatalf("the reply does not unpack: %v", err)
	}
	var probs []string
	if !m.Response {
		probs = append(probs, "QR clear")
	}
	if m.Rcode != c.rcode {
		probs = append(probs, fmt.Sprintf("rcode %s, want %s", rcodeName(m.Rcode), rcodeName(c.rcode)))
	}
	if got := m.IsEdns0() != nil; got != c.opt {
		probs = append(probs, fmt.Sprintf("OPT in the reply %v, want %v", got, c.opt))
	}
	if m.Truncated != c.tc {
		probs = append(probs, fmt.Sprintf("TC %v, want %v", m.Truncated, c.tc))
	}
	if len(m.Answer) != c.answers {
		probs = append(probs, fmt.Sprintf("%d answer records, want %d", len(m.Answer), c.answers))
	}
	if c.rcode != dns.RcodeSuccess && (len(m.Answer) != 0 || len(m.Ns) != 0) {
		probs = append(probs, "an error reply carries records")
	}
	if c.check != nil {
		if p := c.check(m, len(wire)); p != "" {
			probs = append(probs, p)
		}
	}
	for _, p := range probs {
		t.Error(p)
	}
	if len(probs) > 0 {
		t.Logf("reply:\n%v", m)
	}
}

// Invariant: over TCP the same catalogue (every entry that has a reply)
// is answered the same way on one connection, one message after another:
// a malformed message does not cost the client its connection.
func TestBadPacketsTCP(t *testing.T) {
	s, _ := startCatalogueServer(t, Config{})
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range badPackets() {
		if c.noReply || len(c.wire) < 12 {
			continue // a message a TCP server drops gives nothing to read
		}
		t.Run(c.name, func(t *testing.T) {
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write(cat(binary.BigEndian.AppendUint16(nil, uint16(len(c.wire))), c.wire)); err != nil {
				t.Fatal(err)
			}
			var l [2]byte
			if _, err := io.ReadFull(conn, l[:]); err != nil {
				t.Fatalf("no reply: %v", err)
			}
			b := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(conn, b); err != nil {
				t.Fatal(err)
			}
			tc := c
			if tc.name == "OPT UDP size 100: treated as 512" {
				tc.check = nil // over TCP the whole additional section fits
			}
			checkCatalogueReply(t, tc, b)
		})
	}
}

// Invariant: a TCP client that stalls — after one octet of the length
// prefix, or after the prefix with part of the message — is disconnected
// once the read timeout passes, and the server keeps answering others.
func TestTCPStalledLengthPrefix(t *testing.T) {
	s, _ := startCatalogueServer(t, Config{})
	for _, c := range []struct {
		name string
		sent []byte
	}{
		{"one octet of the length", []byte{0}},
		{"length 40, 10 octets sent", cat([]byte{0, 40}, wireHeader(1, 0, 1, 0, 0, 0)[:10])},
		{"connected, nothing sent", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if len(c.sent) > 0 {
				if _, err := conn.Write(c.sent); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			_ = conn.SetReadDeadline(start.Add(5 * time.Second))
			n, err := conn.Read(make([]byte, 16))
			if !errors.Is(err, io.EOF) && !isReset(err) {
				t.Fatalf("read %d octets, err %v: want the server to close the connection", n, err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("closed after %v; the read timeout is 300 ms", d)
			}
			if r := exchange(t, "tcp", s.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeSuccess {
				t.Fatalf("after a stalled client: %v", r)
			}
		})
	}
}

// isReset reports a connection reset by the peer.
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}

// Invariant: connections beyond the cap are closed at once while those
// inside it and UDP keep being served, and a new connection is served once
// a slot frees: the server stays healthy.
func TestTCPConnectionCapKeepsServing(t *testing.T) {
	const max = 3
	s, reg := startCatalogueServer(t, Config{MaxTCPConnections: max, TCPIdleTimeout: 30 * time.Second})
	ask := func(c *dns.Conn) (*dns.Msg, error) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMsg(query("www.example.com.", dns.TypeA)); err != nil {
			return nil, err
		}
		return c.ReadMsg()
	}
	held := make([]*dns.Conn, 0, max)
	for range max {
		c, err := dns.DialTimeout("tcp", s.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if r, err := ask(c); err != nil || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("a connection inside the cap: %v %v", r, err)
		}
		held = append(held, c)
	}
	const over = 5
	for i := range over {
		c, err := dns.DialTimeout("tcp", s.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err) // the kernel accepts; the server closes
		}
		if r, err := ask(c); err == nil {
			t.Fatalf("connection %d over the cap was answered: %v", i, r)
		}
		c.Close()
	}
	// The client sees the close before the server has counted it: poll.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(5 * time.Second); ; <-tick.C {
		got := counterValue(t, reg, "resolvx_dns_tcp_rejected_total", nil)
		if got == over {
			break
		}
		if got > over || time.Now().After(deadline) {
			t.Fatalf("%v connections counted as rejected, want %d", got, over)
		}
	}
	if r := exchange(t, "udp", s.Addr(), query("www.example.com.", dns.TypeA)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("UDP while TCP is full: %v", r)
	}
	for i, c := range held {
		if r, err := ask(c); err != nil || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("held connection %d after the rejections: %v %v", i, r, err)
		}
	}
	// A freed slot is taken by the next client (polled: the server sees
	// the close asynchronously).
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := dns.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			r, err := ask(c)
			c.Close()
			if err == nil && r.Rcode == dns.RcodeSuccess {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the freed slot was not given to a new connection")
		}
	}
}
