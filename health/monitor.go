package health

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/gtm"
)

// MonitorConfig configures a Monitor.
type MonitorConfig struct {
	// Node is this node's ID, stamped on every observation.
	Node string
	// Probe runs one check; (*Prober).Probe is one.
	Probe ProbeFunc
	// Concurrency bounds the probes running at once (see SchedulerConfig).
	Concurrency int
	// OnChange, when set, is called after an endpoint's status on this
	// node changes (healthy, unhealthy, unknown), so that the verdict can be
	// decided again at once instead of at the next periodic pass. It is
	// called from probing goroutines and must return quickly.
	OnChange func()
	// Registerer, when set, receives the probe metrics.
	Registerer prometheus.Registerer
}

// Monitor is this node's share of health checking: it runs the checks of
// every policy that has one, keeps each endpoint's thresholded status
// (Tracker), and reports them as gtm.Observations. It decides nothing for
// the cluster: the leader turns every node's observations into verdicts.
type Monitor struct {
	cfg   MonitorConfig
	sched *Scheduler

	mu       sync.Mutex
	jobs     map[string]Job      // by policy and endpoint (Job.key)
	trackers map[string]*Tracker // by policy

	probes  *prometheus.CounterVec   // by check type and result
	seconds *prometheus.HistogramVec // by check type
}

// NewMonitor returns a Monitor with no policies. It stops when ctx ends or
// Stop is called.
func NewMonitor(ctx context.Context, cfg MonitorConfig) *Monitor {
	m := &Monitor{cfg: cfg, jobs: map[string]Job{}, trackers: map[string]*Tracker{},
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resolvx_health_probes_total",
			Help: "Health probes this node ran, by check type and result (ok, failed).",
		}, []string{"type", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resolvx_health_probe_duration_seconds",
			Help:    "How long this node's health probes took, by check type.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"type"}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(m.probes, m.seconds)
	}
	m.sched = NewScheduler(ctx, SchedulerConfig{Probe: cfg.Probe, Report: m.report, Concurrency: cfg.Concurrency})
	return m
}

// SetPolicies makes the Monitor check exactly the endpoints of the given
// policies that have a health check. An endpoint whose address or check
// changed starts again from unknown; one no longer checked is forgotten.
// Drained (disabled) endpoints are still checked, so an operator sees
// their health before putting them back.
func (m *Monitor) SetPolicies(ps []gtm.Policy) {
	var jobs []Job
	want := map[string]Job{}
	for _, p := range ps {
		if p.HealthCheck == nil {
			continue
		}
		for _, e := range p.Endpoints {
			j := Job{Policy: p.Name, Target: Target{EndpointID: e.ID, Address: e.Address}, Check: *p.HealthCheck}
			jobs = append(jobs, j)
			want[j.key()] = j
		}
	}
	// Stop changed and removed jobs first: the Scheduler reports nothing
	// from a job after Update returns, so the trackers can then be reset.
	m.sched.Update(jobs)

	m.mu.Lock()
	defer m.mu.Unlock()
	for k, old := range m.jobs {
		if j, ok := want[k]; !ok || !j.equal(old) {
			if t := m.trackers[old.Policy]; t != nil {
				t.Forget(old.Target.EndpointID)
			}
		}
	}
	m.jobs = want
	for name := range m.trackers {
		if !slices.ContainsFunc(ps, func(p gtm.Policy) bool { return p.Name == name && p.HealthCheck != nil }) {
			delete(m.trackers, name)
		}
	}
	for _, j := range jobs {
		if m.trackers[j.Policy] == nil {
			m.trackers[j.Policy] = NewTracker()
		}
	}
}

// report is the Scheduler's Report: one observation of one endpoint.
func (m *Monitor) report(policy string, o Observation) {
	m.mu.Lock()
	j, ok := m.jobs[Job{Policy: policy, Target: Target{EndpointID: o.EndpointID}}.key()]
	t := m.trackers[policy]
	m.mu.Unlock()
	if !ok || t == nil {
		return
	}
	result := "ok"
	if !o.OK {
		result = "failed"
	}
	m.probes.WithLabelValues(j.Check.Type, result).Inc()
	m.seconds.WithLabelValues(j.Check.Type).Observe(o.Latency.Seconds())
	if _, changed := t.Observe(o, j.Check); changed && m.cfg.OnChange != nil {
		m.cfg.OnChange()
	}
}

// Observations returns this node's status of every checked endpoint,
// sorted by policy and endpoint. Endpoints not probed yet are included as
// unknown.
func (m *Monitor) Observations() []gtm.Observation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]gtm.Observation, 0, len(m.jobs))
	for _, j := range m.jobs {
		s := m.trackers[j.Policy].Status(j.Target.EndpointID)
		out = append(out, gtm.Observation{
			Node:                m.cfg.Node,
			Policy:              j.Policy,
			Endpoint:            j.Target.EndpointID,
			Status:              s.Health,
			LastCheck:           s.LastCheck,
			LatencyMS:           s.LatencyMS(),
			ConsecutiveFailures: s.ConsecutiveFailures,
			LastError:           s.LastError,
		})
	}
	slices.SortFunc(out, func(a, b gtm.Observation) int {
		if c := strings.Compare(a.Policy, b.Policy); c != 0 {
			return c
		}
		return strings.Compare(a.Endpoint, b.Endpoint)
	})
	return out
}

// Stop stops every check and returns once they have ended.
func (m *Monitor) Stop() { m.sched.Stop() }
