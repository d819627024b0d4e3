package dnsserver

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// benchView is a 100,000-record zone bench.test.: 90,000 A records h<i>,
// 5,000 CNAMEs c<i> → h<i>, 4,999 MX m<i> → h<i>, and a wildcard *.wild.
func benchView(b *testing.B) *zone.View {
	b.Helper()
	const apex = "bench.test."
	recs := make([]zone.Record, 0, 100_000)
	add := func(name, typ, value string, prio uint16) {
		recs = append(recs, zone.Record{ID: fmt.Sprintf("%08d", len(recs)), Name: name + "." + apex, Type: typ, TTL: 300, Priority: prio, Value: value})
	}
	for i := range 90_000 {
		add(fmt.Sprintf("h%d", i), "A", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), 0)
	}
	for i := range 5_000 {
		add(fmt.Sprintf("c%d", i), "CNAME", fmt.Sprintf("h%d.%s", i, apex), 0)
	}
	for i := range 4_999 {
		add(fmt.Sprintf("m%d", i), "MX", fmt.Sprintf("h%d.%s", i, apex), 10)
	}
	add("*.wild", "A", "192.0.2.9", 0)
	z, err := zone.BuildZone(apex, zone.DefaultSOA(apex), 1, 2, recs)
	if err != nil {
		b.Fatal(err)
	}
	v := zone.Empty().PutZone(z)
	runtime.GC() // the build's garbage must not be collected on the first sub-benchmark's time
	return v
}

// BenchmarkAnswer measures Answer alone and Answer with the request's
// Unpack and the reply's Pack (the per-query cost of the handler), over
// 1,024 different names per kind.
//
//	go test -tags hashicorpmetrics -run '^$' -bench Answer -benchmem ./dnsserver/
func BenchmarkAnswer(b *testing.B) {
	v := benchView(b)
	kinds := []struct {
		name  string
		qname func(i int) string
		qtype uint16
	}{
		{"hit", func(i int) string { return fmt.Sprintf("h%d.bench.test.", i*83) }, dns.TypeA},
		{"nxdomain", func(i int) string { return fmt.Sprintf("nope%d.bench.test.", i) }, dns.TypeA},
		{"wildcard", func(i int) string { return fmt.Sprintf("x%d.wild.bench.test.", i) }, dns.TypeA},
		{"cname", func(i int) string { return fmt.Sprintf("c%d.bench.test.", i*4) }, dns.TypeA},
		{"mx", func(i int) string { return fmt.Sprintf("m%d.bench.test.", i*4) }, dns.TypeMX},
		{"nodata", func(i int) string { return fmt.Sprintf("h%d.bench.test.", i*83) }, dns.TypeAAAA},
	}
	const n = 1024
	for _, k := range kinds {
		reqs := make([]*dns.Msg, n)
		for i := range n {
			reqs[i] = query(k.qname(i), k.qtype)
			reqs[i].SetEdns0(1232, false)
		}
		if m := Answer(Data{Zones: v}, reqs[0], Query{}); m.Rcode != dns.RcodeSuccess && k.name != "nxdomain" || m.Truncated {
			b.Fatalf("%s: unexpected reply\n%v", k.name, m)
		}
		benchAnswers(b, k.name, Data{Zones: v}, Query{}, reqs)
	}
}

// benchAnswers runs two benchmarks over reqs in turn: name, Answer alone,
// and name/wire, with the query unpacked and the reply packed.
func benchAnswers(b *testing.B, name string, d Data, q Query, reqs []*dns.Msg) {
	wires := make([][]byte, len(reqs))
	for i, r := range reqs {
		w, err := r.Pack()
		if err != nil {
			b.Fatal(err)
		}
		wires[i] = w
	}
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			Answer(d, reqs[i%len(reqs)], q)
			i++
		}
	})
	b.Run(name+"/wire", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			req := new(dns.Msg)
			if err := req.Unpack(wires[i%len(wires)]); err != nil {
				b.Fatal(err)
			}
			if _, err := Answer(d, req, q).Pack(); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkAnswerPolicy measures Answer for a name bound to a weighted
// policy of three endpoints, beside BenchmarkAnswer's plain records: the
// same zone, 1,024 queries that differ in message ID (so the choice moves
// over the endpoints), with and without an EDNS Client Subnet option.
//
//	go test -tags hashicorpmetrics -run '^$' -bench AnswerPolicy -benchmem ./dnsserver/
func BenchmarkAnswerPolicy(b *testing.B) {
	v := benchView(b)
	p := gtm.Policy{Name: "w", Zone: "bench.test.", Record: "gtm", Type: gtm.Weighted, TTL: 30, Endpoints: []gtm.Endpoint{
		{ID: "a", Address: "192.0.2.1", Weight: 70},
		{ID: "b", Address: "192.0.2.2", Weight: 20},
		{ID: "c", Address: "192.0.2.3", Weight: 10},
	}}
	d := Data{Zones: v, Policies: gtm.Compile([]gtm.Policy{p}, nil)}
	const n = 1024
	for _, k := range []struct {
		name string
		ecs  bool
	}{{"weighted", false}, {"weighted/ecs", true}} {
		reqs := make([]*dns.Msg, n)
		for i := range n {
			reqs[i] = query("gtm.bench.test.", dns.TypeA)
			reqs[i].Id = uint16(i)
			reqs[i].SetEdns0(1232, false)
			if k.ecs {
				opt := reqs[i].IsEdns0()
				opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.IPv4(198, 51, byte(i), 0).To4()})
			}
		}
		q := Query{Client: netip.MustParseAddr("203.0.113.7")}
		if m := Answer(d, reqs[0], q); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			b.Fatalf("%s: unexpected reply\n%v", k.name, m)
		}
		benchAnswers(b, k.name, d, q, reqs)
	}
}
