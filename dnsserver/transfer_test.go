package dnsserver

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/zone"
)

const (
	xfrKey    = "xfr."
	xfrSecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
)

// transferView is testView with a key, transfer settings on example.com
// (127.0.0.1 with the key), example.org open to 127.0.0.2 only, and two
// changes of example.com after its import (serial 2): 3000 records at
// index 10, one deletion at index 11.
func transferView(t *testing.T) *zone.View {
	t.Helper()
	v, err := testView(t).PutTSIGKey(zone.TSIGKey{Name: xfrKey, Secret: xfrSecret})
	if err != nil {
		t.Fatal(err)
	}
	if v, err = v.SetTransfer("example.com", zone.Transfer{Allow: []string{"127.0.0.1/32"}, TSIGKey: xfrKey}); err != nil {
		t.Fatal(err)
	}
	if v, err = v.SetTransfer("example.org", zone.Transfer{Allow: []string{"127.0.0.2/32"}}); err != nil {
		t.Fatal(err)
	}
	var adds []zone.Change
	for i := range 3000 {
		adds = append(adds, zone.Change{Op: zone.OpAdd, Record: zone.Record{ID: fmt.Sprintf("bulk%05d", i), Name: fmt.Sprintf("bulk%d.example.com.", i), Type: "A", TTL: 300, Value: "192.0.2.200"}})
	}
	if v, err = v.Apply("example.com", adds, 10); err != nil {
		t.Fatal(err)
	}
	if v, err = v.Apply("example.com", []zone.Change{{Op: zone.OpDelete, ID: "bulk00007"}}, 11); err != nil {
		t.Fatal(err)
	}
	return v
}

// transferIn runs a transfer as a secondary would, signed with secret when
// it is not empty, from the local address laddr (nil: any), and returns
// every RR received, or the error (a refusal comes back as an error naming
// the rcode).
func transferIn(t *testing.T, addr string, laddr net.Addr, req *dns.Msg, secret string) ([]dns.RR, int, error) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: laddr}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: conn}, ReadTimeout: 5 * time.Second}
	if secret != "" {
		tr.TsigSecret = map[string]string{xfrKey: secret}
		req.SetTsig(xfrKey, dns.HmacSHA256, 300, time.Now().Unix())
	}
	ch, err := tr.In(req, addr)
	if err != nil {
		return nil, 0, err
	}
	var rrs []dns.RR
	msgs := 0
	for env := range ch {
		if env.Error != nil {
			return rrs, msgs, env.Error
		}
		msgs++
		rrs = append(rrs, env.RR...)
	}
	return rrs, msgs, nil
}

func axfr(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetAxfr(name)
	return m
}

func ixfr(name string, serial uint32) *dns.Msg {
	m := new(dns.Msg)
	m.SetIxfr(name, serial, "ns1."+name, "hostmaster."+name)
	return m
}

// Invariant: an allowed, signed AXFR returns the whole zone between two
// copies of the current SOA, in several signed messages when it is large
// (dns.Transfer verifies every message's TSIG), and exactly the RRs the
// zone holds.
func TestAXFRSignedMultiMessage(t *testing.T) {
	v := transferView(t)
	s := startServer(t, Config{}, newSource(v))
	rrs, msgs, err := transferIn(t, s.Addr(), nil, axfr("example.com."), xfrSecret)
	if err != nil {
		t.Fatal(err)
	}
	z := v.Zone("example.com")
	if msgs < 2 {
		t.Fatalf("a %d-RR transfer came in %d message(s)", len(rrs), msgs)
	}
	first, okf := rrs[0].(*dns.SOA)
	last, okl := rrs[len(rrs)-1].(*dns.SOA)
	if !okf || !okl || first.Serial != z.Serial() || last.Serial != z.Serial() {
		t.Fatalf("transfer does not start and end with the current SOA: %v … %v", rrs[0], rrs[len(rrs)-1])
	}
	if want := len(z.RRs()) + 2; len(rrs) != want {
		t.Fatalf("got %d RRs, want %d", len(rrs), want)
	}
}

// firstReply sends a transfer request (signed with secret when it is not
// empty) from laddr (nil: any) and returns the first reply message.
func firstReply(t *testing.T, addr string, laddr net.Addr, req *dns.Msg, secret string) *dns.Msg {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: laddr}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	conn := &dns.Conn{Conn: nc}
	if secret != "" {
		conn.TsigSecret = map[string]string{xfrKey: secret}
		req.SetTsig(xfrKey, dns.HmacSHA256, 300, time.Now().Unix())
	}
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteMsg(req); err != nil {
		t.Fatal(err)
	}
	conn.TsigSecret = nil // read refusals as they are: a BADSIG reply is unsigned
	r, err := conn.ReadMsg()
	if err != nil && (r == nil || r.IsTsig() == nil) { // a TSIG is read, not verified
		t.Fatal(err)
	}
	return r
}

// Invariant: transfers need the zone's ACL and key: unsigned → REFUSED,
// signed with a wrong secret → NOTAUTH with an unsigned TSIG RR carrying
// BADSIG (RFC 8945 §5.2.3), an unlisted source → REFUSED, a
// zone without settings → REFUSED, and over UDP → REFUSED; without a key
// in the settings, the ACL alone decides. Refusals carry no records.
func TestTransferRefusals(t *testing.T) {
	s := startServer(t, Config{}, newSource(transferView(t)))
	lo2 := &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}
	for _, c := range []struct {
		name   string
		req    *dns.Msg
		laddr  net.Addr
		secret string
		rcode  int
	}{
		{"unsigned", axfr("example.com."), nil, "", dns.RcodeRefused},
		{"wrong secret", axfr("example.com."), nil, "d3Jvbmd3cm9uZ3dyb25n", dns.RcodeNotAuth},
		{"unlisted source with the key", axfr("example.com."), lo2, xfrSecret, dns.RcodeRefused},
		{"zone without settings", axfr("child.example.com."), nil, xfrSecret, dns.RcodeRefused},
		{"unknown zone", axfr("example.net."), nil, xfrSecret, dns.RcodeRefused},
		{"ACL-only zone from an unlisted source", ixfr("example.org.", 1), nil, "", dns.RcodeRefused},
		{"ACL-only zone from its listed source", axfr("example.org."), lo2, "", dns.RcodeSuccess},
	} {
		r := firstReply(t, s.Addr(), c.laddr, c.req, c.secret)
		if r.Rcode != c.rcode || (c.rcode != dns.RcodeSuccess && len(r.Answer) != 0) {
			t.Errorf("%s: rcode %s with %d answers, want %s", c.name, dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[c.rcode])
		}
		if ts := r.IsTsig(); c.rcode == dns.RcodeNotAuth && (ts == nil || ts.Error != dns.RcodeBadSig || ts.MAC != "") {
			t.Errorf("%s: NOTAUTH without an unsigned BADSIG TSIG: %v", c.name, r.IsTsig())
		}
	}
	r := exchange(t, "udp", s.Addr(), axfr("example.com."))
	if r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
		t.Errorf("AXFR over UDP: %v", r)
	}
}

// Invariant: IXFR from a remembered serial sends the changes since it
// (RFC 1995 §4 framing, each change's SOAs in order); from the current
// serial, or a newer one, the SOA alone; from an unknown serial the whole
// zone. Each is
// counted by kind in resolvx_dns_transfers_total.
func TestIXFR(t *testing.T) {
	v := transferView(t)
	z := v.Zone("example.com")
	reg := prometheus.NewRegistry()
	s := startServer(t, Config{Registerer: reg}, newSource(v))
	rrs, _, err := transferIn(t, s.Addr(), nil, ixfr("example.com.", 10), xfrSecret)
	if err != nil {
		t.Fatal(err)
	}
	// SOA 11, SOA 10, the deleted A, SOA 11, SOA 11.
	if len(rrs) != 5 || rrs[1].(*dns.SOA).Serial != 10 || rrs[2].Header().Name != "bulk7.example.com." || rrs[3].(*dns.SOA).Serial != 11 {
		t.Fatalf("IXFR from 10: %v", rrs)
	}
	rrs, _, err = transferIn(t, s.Addr(), nil, ixfr("example.com.", 2), xfrSecret)
	if err != nil {
		t.Fatal(err)
	}
	// SOA 11, [SOA 2, SOA 10, 3000 A], [SOA 10, 1 A, SOA 11], SOA 11.
	if want := 1 + (2 + 3000) + 3 + 1; len(rrs) != want {
		t.Fatalf("IXFR from 2: %d RRs", len(rrs))
	}
	rrs, _, err = transferIn(t, s.Addr(), nil, ixfr("example.com.", z.Serial()), xfrSecret)
	if err != nil {
		t.Fatal(err)
	}
	if len(rrs) != 1 {
		t.Fatalf("IXFR from the current serial: %v", rrs)
	}
	// A newer serial (RFC 1982) is current too (RFC 1995 §2); dns.Transfer
	// stops at the first SOA itself, so read the first message.
	if r := firstReply(t, s.Addr(), nil, ixfr("example.com.", z.Serial()+5), xfrSecret); len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial != z.Serial() {
		t.Fatalf("IXFR from a newer serial: %v", r.Answer)
	}
	rrs, _, err = transferIn(t, s.Addr(), nil, ixfr("example.com.", 5), xfrSecret)
	if err != nil {
		t.Fatal(err)
	}
	if len(rrs) != len(z.RRs())+2 {
		t.Fatalf("IXFR from an unknown serial: %d RRs, want the whole zone (%d)", len(rrs), len(z.RRs())+2)
	}
	for kind, want := range map[string]float64{"ixfr": 2, "ixfr_current": 2, "ixfr_full": 1, "axfr": 0} {
		if got := counterValue(t, reg, "resolvx_dns_transfers_total", map[string]string{"kind": kind}); got != want {
			t.Errorf("transfers{kind=%q} = %v, want %v", kind, got, want)
		}
	}
}
