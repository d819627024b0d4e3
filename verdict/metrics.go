package verdict

import "github.com/prometheus/client_golang/prometheus"

// metrics counts the leader's decisions.
type metrics struct {
	commits *prometheus.CounterVec // by result: ok, failed
	changes *prometheus.CounterVec // endpoint verdict changes, by new status
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resolvx_gtm_verdict_commits_total",
			Help: "Verdict changes the leader proposed through Raft, by result (ok, failed).",
		}, []string{"result"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resolvx_gtm_endpoint_verdict_changes_total",
			Help: "Committed changes of an endpoint's verdict, by the new verdict.",
		}, []string{"verdict"}),
	}
	if reg != nil {
		reg.MustRegister(m.commits, m.changes)
	}
	return m
}
