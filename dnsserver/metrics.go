package dnsserver

import (
	"strconv"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus counters. A nil *metrics counts
// nothing, so the query path needs no checks.
type metrics struct {
	queries     *prometheus.CounterVec // by proto and rcode
	truncated   *prometheus.CounterVec // by proto
	dropped     *prometheus.CounterVec // by reason
	panics      prometheus.Counter
	tcpRejected prometheus.Counter
	transfers   *prometheus.CounterVec // by kind
	// common holds the counters of the usual rcodes, resolved once, so that
	// counting a query does not hash label values.
	common [2][dns.RcodeRefused + 1]prometheus.Counter
}

// proto indexes metrics.common: 0 for UDP, 1 for TCP.
func proto(tcp bool) int {
	if tcp {
		return 1
	}
	return 0
}

// protoName is the proto label value.
func protoName(tcp bool) string {
	if tcp {
		return "tcp"
	}
	return "udp"
}

func newMetrics() *metrics {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resolvx_dns_queries_total",
			Help: "DNS queries answered, by transport protocol and response code.",
		}, []string{"proto", "rcode"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resolvx_dns_truncated_total",
			Help: "DNS replies sent with TC set because they did not fit, by transport protocol.",
		}, []string{"proto"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resolvx_dns_dropped_total",
			Help: "DNS messages not answered by Answer: responses (QR=1), messages with more than one question and malformed messages (both answered FORMERR by the listener, header only, when their header is readable).",
		}, []string{"reason"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "resolvx_dns_panics_total",
			Help: "Panics recovered while answering a DNS query (answered SERVFAIL).",
		}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resolvx_dns_transfers_total",
			Help: "Zone transfer requests over TCP, by outcome: axfr, ixfr (incremental), ixfr_full (AXFR-style fallback), ixfr_current (SOA only), refused, notauth.",
		}, []string{"kind"}),
		tcpRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "resolvx_dns_tcp_rejected_total",
			Help: "TCP connections closed at once because the connection limit was reached.",
		}),
	}
	for _, tcp := range []bool{false, true} {
		for rc := range m.common[proto(tcp)] {
			m.common[proto(tcp)][rc] = m.queries.WithLabelValues(protoName(tcp), rcodeName(rc))
		}
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.queries, m.truncated, m.dropped, m.panics, m.tcpRejected, m.transfers}
}

// register registers every collector or none.
func (m *metrics) register(reg prometheus.Registerer) error {
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return err
		}
		done = append(done, c)
	}
	return nil
}

func (m *metrics) unregister(reg prometheus.Registerer) {
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}

// reply counts one reply.
func (m *metrics) reply(tcp bool, r *dns.Msg) {
	if m == nil {
		return
	}
	p := proto(tcp)
	if r.Rcode >= 0 && r.Rcode < len(m.common[p]) {
		m.common[p][r.Rcode].Inc()
	} else {
		m.queries.WithLabelValues(protoName(tcp), rcodeName(r.Rcode)).Inc()
	}
	if r.Truncated {
		m.truncated.WithLabelValues(protoName(tcp)).Inc()
	}
}

func (m *metrics) drop(reason string) {
	if m != nil {
		m.dropped.WithLabelValues(reason).Inc()
	}
}

func (m *metrics) panicked() {
	if m != nil {
		m.panics.Inc()
	}
}

func (m *metrics) transfer(kind string) {
	if m != nil {
		m.transfers.WithLabelValues(kind).Inc()
	}
}

func (m *metrics) rejectedTCP() {
	if m != nil {
		m.tcpRejected.Inc()
	}
}

// rcodeName is the mnemonic of an rcode. miekg/dns names 16 BADSIG; for a
// query it is BADVERS (RFC 6891).
func rcodeName(rc int) string {
	if rc == dns.RcodeBadVers {
		return "BADVERS"
	}
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return strconv.Itoa(rc)
}
