package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/geo"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/health"
	"github.com/resolvx/resolvx/transport"
	"github.com/resolvx/resolvx/verdict"
)

// gtmWiring is this node's part of GTM: it runs the node's health checks
// for the committed policies, serves the observations to the leader, and,
// while this node leads, commits the verdicts a majority agrees on.
type gtmWiring struct {
	cfg       Config
	logger    *slog.Logger
	geo       *geo.DB
	collector atomic.Pointer[verdict.Collector] // set by start
	monitor   *health.Monitor
	cancel    context.CancelFunc
	done      chan struct{}
}

// newGTMWiring opens the client-location data: a bad database or CIDR map
// is a startup error. start runs the rest.
func newGTMWiring(cfg Config, logger *slog.Logger) (*gtmWiring, error) {
	db, err := geo.Open(cfg.GTM.GeoIPDatabase, cfg.GTM.GeoCIDRs)
	if err != nil {
		return nil, fmt.Errorf("gtm: %w", err)
	}
	return &gtmWiring{cfg: cfg, logger: logger, geo: db, done: make(chan struct{})}, nil
}

// start serves this node's observations on the cluster port and runs its
// checks and the verdict loop until stop.
func (w *gtmWiring) start(node *cluster.Node, state *fsm.FSM, writer *fsm.Writer, reg prometheus.Registerer) {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	collector := &verdict.Collector{
		Node: w.cfg.Cluster.NodeID,
		Call: transport.Call,
		Voters: func() ([]verdict.Member, error) {
			vs, err := node.Voters()
			out := make([]verdict.Member, len(vs))
			for i, v := range vs {
				out[i] = verdict.Member{ID: v.ID, Address: v.Address}
			}
			return out, err
		},
	}
	loop := verdict.New(verdict.Config{
		Collector: collector,
		IsLeader:  node.IsLeader,
		State:     func() verdict.State { return state.State() },
		Commit: func(ctx context.Context, policy string, v gtm.Verdicts, addrs map[string]string) error {
			_, err := writer.SetVerdicts(ctx, policy, v, addrs)
			return err
		},
		LeaderAddr: node.LeaderAddress,
		Logger:     w.logger,
		Registerer: reg,
	})
	prober := &health.Prober{Resolver: healthResolver(w.cfg, w.logger)}
	w.monitor = health.NewMonitor(ctx, health.MonitorConfig{
		Node:        w.cfg.Cluster.NodeID,
		Probe:       prober.Probe,
		Concurrency: w.cfg.GTM.ProbeConcurrency,
		OnChange:    loop.Kick,
		Registerer:  reg,
	})
	collector.Local = w.monitor.Observations
	node.HandleRPC(verdict.Method, collector.Handle)
	node.HandleRPC(verdict.KickMethod, loop.HandleKick)
	w.collector.Store(collector)
	go func() {
		defer close(w.done)
		go loop.Run(ctx)
		w.followPolicies(ctx, state)
	}()
}

// Observations returns every voter's own observations (the API's
// HealthReports).
func (w *gtmWiring) Observations(ctx context.Context) ([]gtm.Observation, error) {
	c := w.collector.Load()
	if c == nil {
		return nil, errors.New("health checks have not started yet on this node")
	}
	return c.Observations(ctx)
}

// followPolicies gives the monitor the committed policies whenever they
// (or their verdicts) change.
func (w *gtmWiring) followPolicies(ctx context.Context, state *fsm.FSM) {
	var last *gtm.Table
	for {
		st := state.State()
		if t := st.GTM(); t != last {
			w.monitor.SetPolicies(st.Policies())
			last = t
		}
		if err := state.WaitApplied(ctx, st.Index+1); err != nil {
			return
		}
	}
}

// stop ends the checks and the loop (if start ran) and closes the
// location data.
func (w *gtmWiring) stop() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
		w.monitor.Stop()
	}
	if err := w.geo.Close(); err != nil {
		w.logger.Warn("gtm: closing the GeoIP database", "err", err)
	}
}
