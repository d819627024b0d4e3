package verdict

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/gtm"
)

// DefaultPeriod is how often the leader decides the verdicts again.
const DefaultPeriod = 500 * time.Millisecond

// KickMethod is the cluster RPC method a follower calls on the leader when
// its own observations change, so the leader decides at once instead of at
// its next period.
const KickMethod = "health.kick"

// State is the committed policies and verdicts (fsm.State satisfies it).
type State interface {
	Policies() []gtm.Policy
	Verdicts(policy string) gtm.Verdicts
}

// Config configures a Loop.
type Config struct {
	Collector *Collector
	// IsLeader reports whether this node leads; only the leader decides.
	IsLeader func() bool
	// State returns the node's applied state.
	State func() State
	// Commit proposes the verdicts of one policy, decided for the given
	// endpoint addresses (fsm.Writer.SetVerdicts).
	Commit func(ctx context.Context, policy string, v gtm.Verdicts, addresses map[string]string) error
	// LeaderAddr returns the leader's cluster address ("" when unknown);
	// when set, a follower's Kick is passed on to the leader.
	LeaderAddr func() string
	// Period is how often the leader decides; DefaultPeriod when zero.
	Period time.Duration
	Logger *slog.Logger
	// Registerer, when set, receives the loop's metrics.
	Registerer prometheus.Registerer
}

// Loop is the leader's verdict loop.
type Loop struct {
	cfg     Config
	kick    chan struct{}
	metrics *metrics
}

// New returns a Loop; Run starts it.
func New(cfg Config) *Loop {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Loop{cfg: cfg, kick: make(chan struct{}, 1), metrics: newMetrics(cfg.Registerer)}
}

// Kick asks for a decision now (this node's own observations changed).
// It never blocks.
func (l *Loop) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// HandleKick serves KickMethod: a follower's observations changed.
func (l *Loop) HandleKick(context.Context, json.RawMessage) (any, error) {
	l.Kick()
	return struct{}{}, nil
}

// Run decides every Period, and on Kick, while this node leads, until ctx
// ends. On a follower, a Kick is passed on to the leader.
func (l *Loop) Run(ctx context.Context) {
	t := time.NewTicker(l.cfg.Period)
	defer t.Stop()
	for {
		kicked := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.kick:
			kicked = true
		}
		switch {
		case l.cfg.IsLeader():
			l.Once(ctx)
		case kicked && l.cfg.LeaderAddr != nil:
			l.kickLeader(ctx)
		}
	}
}

// kickLeader asks the leader to decide now; a failure only costs the wait
// for the leader's next period.
func (l *Loop) kickLeader(ctx context.Context) {
	addr := l.cfg.LeaderAddr()
	if addr == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Period)
	defer cancel()
	if err := l.cfg.Collector.Call(ctx, addr, KickMethod, struct{}{}, nil); err != nil {
		l.cfg.Logger.Debug("verdict: could not kick the leader", "leader", addr, "err", err)
	}
}

// Once collects the voters' observations and commits every policy's
// verdicts that changed. It returns how many policies it committed.
func (l *Loop) Once(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Period)
	defer cancel()
	aged, voters, errs := l.cfg.Collector.Collect(ctx)
	for _, err := range errs {
		l.cfg.Logger.Debug("verdict: a voter did not report", "err", err)
	}
	if voters == 0 {
		return 0
	}
	quorum := voters/2 + 1
	st := l.cfg.State()
	byPolicy := map[string][]Aged{}
	for _, a := range aged {
		byPolicy[a.Policy] = append(byPolicy[a.Policy], a)
	}
	committed := 0
	for _, p := range st.Policies() {
		if p.HealthCheck == nil {
			continue
		}
		fresh := freshOnly(byPolicy[p.Name], p.HealthCheck)
		cur := st.Verdicts(p.Name)
		next := gtm.Decide(&p, cur, fresh, quorum)
		if next.Equal(cur) {
			continue
		}
		addrs := make(map[string]string, len(p.Endpoints))
		for _, e := range p.Endpoints {
			addrs[e.ID] = e.Address
		}
		if err := l.cfg.Commit(ctx, p.Name, next, addrs); err != nil {
			l.metrics.commits.WithLabelValues("failed").Inc()
			l.cfg.Logger.Warn("verdict: commit failed; deciding again next period", "policy", p.Name, "err", err)
			continue
		}
		l.metrics.commits.WithLabelValues("ok").Inc()
		for _, e := range p.Endpoints {
			if h := next.Of(e.ID); h != cur.Of(e.ID) {
				l.metrics.changes.WithLabelValues(h.String()).Inc()
			}
		}
		committed++
		l.cfg.Logger.Info("verdict: committed", "policy", p.Name, "health", next.Health, "preferred", next.Preferred)
	}
	return committed
}

// freshOnly keeps the observations made within three check intervals (plus
// the timeout) on the observing node's clock: a node whose probes stopped
// does not vote with an old view, and no clocks need to agree.
func freshOnly(aged []Aged, hc *gtm.HealthCheck) []gtm.Observation {
	limit := 3*time.Duration(hc.Interval) + time.Duration(hc.Timeout)
	var out []gtm.Observation
	for _, a := range aged {
		if !a.LastCheck.IsZero() && a.Age <= limit {
			out = append(out, a.Observation)
		}
	}
	return out
}
