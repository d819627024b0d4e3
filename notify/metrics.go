package notify

import "github.com/prometheus/client_golang/prometheus"

// metrics counts NOTIFY outcomes. A nil *metrics counts nothing.
type metrics struct {
	sends *prometheus.CounterVec // by result: ok, failed (to be retried), given_up
}

func newMetrics() *metrics {
	return &metrics{sends: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "resolvx_notify_sends_total",
		Help: "NOTIFY messages sent by this node (the leader), by result: ok (NOERROR), failed (retried with backoff), given_up (after the last try).",
	}, []string{"result"})}
}

func (m *metrics) count(result string) {
	if m != nil {
		m.sends.WithLabelValues(result).Inc()
	}
}
