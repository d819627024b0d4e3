package health

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/gtm"
)

// dnsHandler answers svc.example. A 192.0.2.1, big.example. truncated over
// UDP and with a TXT record over TCP, and NXDOMAIN otherwise.
func dnsHandler(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	name := q.Question[0].Name
	switch {
	case name == "svc.example." && q.Question[0].Qtype == dns.TypeA:
		rr, _ := dns.NewRR("svc.example. 60 IN A 192.0.2.1")
		m.Answer = append(m.Answer, rr)
	case name == "svc.example.":
		// NODATA
	case name == "big.example." && w.LocalAddr().Network() == "udp":
		m.Truncated = true
	case name == "big.example.":
		rr, _ := dns.NewRR(`big.example. 60 IN TXT "v=only-over-tcp"`)
		m.Answer = append(m.Answer, rr)
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

// startDNS serves dnsHandler over UDP and TCP on one loopback port.
func startDNS(t *testing.T) (string, int) {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ln == nil; i++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			if i == 20 {
				t.Fatalf("no port free for both udp and tcp: %v", err)
			}
		}
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // runs after the Shutdowns: cleanups run last first
	for _, srv := range []*dns.Server{
		{PacketConn: pc, Handler: dns.HandlerFunc(dnsHandler)},
		{Listener: ln, Handler: dns.HandlerFunc(dnsHandler)},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return splitHostPort(t, pc.LocalAddr().String())
}

func TestDNS(t *testing.T) {
	ip, port := startDNS(t)
	p := &Prober{}
	cases := []struct {
		name   string
		hc     gtm.HealthCheck
		ok     bool
		errHas string
	}{
		{name: "noerror", hc: gtm.HealthCheck{Query: "svc.example"}, ok: true},
		{name: "expected value", hc: gtm.HealthCheck{Query: "svc.example.", RecordType: "A", ExpectedValue: "192.0.2.1"}, ok: true},
		{name: "value mismatch", hc: gtm.HealthCheck{Query: "svc.example", ExpectedValue: "192.0.2.99"}, errHas: "expected value"},
		{name: "nodata with expected value", hc: gtm.HealthCheck{Query: "svc.example", RecordType: "AAAA", ExpectedValue: "2001:db8::1"}, errHas: "expected value"},
		{name: "nodata without expected value", hc: gtm.HealthCheck{Query: "svc.example", RecordType: "aaaa"}, ok: true},
		{name: "nxdomain", hc: gtm.HealthCheck{Query: "gone.example"}, errHas: "rcode NXDOMAIN"},
		{name: "truncated retried over tcp", hc: gtm.HealthCheck{Query: "big.example", RecordType: "TXT", ExpectedValue: "only-over-tcp"}, ok: true},
		{name: "bad type", hc: gtm.HealthCheck{Query: "svc.example", RecordType: "NOPE"}, errHas: "unknown record type"},
		{name: "no query", hc: gtm.HealthCheck{}, errHas: "no query"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hc := c.hc
			hc.Type, hc.Port, hc.Timeout = "dns", port, gtm.Duration(gtm.DefaultTimeout)
			o := p.Probe(context.Background(), Target{EndpointID: "ns1", Address: ip}, hc)
			if o.OK != c.ok {
				t.Fatalf("OK = %v (error %q), want %v", o.OK, o.Error, c.ok)
			}
			if !c.ok && !strings.Contains(o.Error, c.errHas) {
				t.Errorf("error %q, want one containing %q", o.Error, c.errHas)
			}
		})
	}
}
