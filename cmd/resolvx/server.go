package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	gometrics "github.com/hashicorp/go-metrics"
	gometricsprom "github.com/hashicorp/go-metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/resolvx/resolvx/api"
	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/dnsserver"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/notify"
)

// shutdownTimeout bounds a graceful stop (leadership transfer included).
const shutdownTimeout = 15 * time.Second

func newServerCmd(stderr io.Writer) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a resolvx node: Raft member, authoritative DNS, REST API",
		Long: `Run a resolvx node. With no state and no --join it bootstraps a one-node
cluster; with state it resumes; with --join it joins (or rejoins) a cluster
through any member's cluster address.

Configuration sources, later wins: embedded defaults, the YAML file
(--config), RESOLVX_* environment variables, flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, configPath)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServer(ctx, cfg, newLogger(stderr, cfg.Log))
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "YAML configuration file")
	f.String("node-id", "", "this node's id (cluster.node_id; default: host name)")
	f.String("data-dir", "", "state directory (storage.path; default ./data)")
	f.String("dns-listen", "", "DNS address, UDP and TCP (dns.listen; default 127.0.0.1:1053)")
	f.String("api-listen", "", "REST API and dashboard address (api.listen; default 127.0.0.1:8080)")
	f.String("cluster-listen", "", "Raft and cluster RPC address (cluster.listen; default 127.0.0.1:7946)")
	f.String("cluster-advertise", "", "cluster address other nodes use to reach this one (cluster.advertise)")
	f.Bool("bootstrap", false, "bootstrap a new one-node cluster when there is no state (cluster.bootstrap)")
	f.String("join", "", "host:port[,host:port…] of any members to join (cluster.join)")
	f.String("vip", "", "floating service address ADDR/PREFIX held by the leader; enables the VIP (cluster.vip.address)")
	f.String("vip-interface", "", "interface that carries the VIP (cluster.vip.interface)")
	f.String("log-level", "", "debug, info, warn or error (log.level)")
	f.String("log-format", "", "text or json (log.format)")
	return cmd
}

// loadConfig merges defaults, the file, the environment and the flags the
// user set, then validates the result.
func loadConfig(cmd *cobra.Command, path string) (Config, error) {
	cfg := defaultConfig()
	if path != "" {
		if err := cfg.loadFile(path); err != nil {
			return cfg, err
		}
	}
	if err := cfg.loadEnv(os.LookupEnv); err != nil {
		return cfg, err
	}
	for _, s := range settings() {
		fl := cmd.Flags().Lookup(s.flag)
		if fl == nil || !fl.Changed {
			continue
		}
		if err := s.set(&cfg, fl.Value.String()); err != nil {
			return cfg, fmt.Errorf("%s (from --%s): %w", s.key, s.flag, err)
		}
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// runServer wires one node and runs it until ctx ends or the node leaves
// the cluster. Listeners are bound before anything is served, so a busy
// port is a startup error.
func runServer(ctx context.Context, cfg Config, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := exportRaftMetrics(reg); err != nil {
		return err
	}

	state := fsm.New(logger.With("component", "fsm"))
	gtmw, err := newGTMWiring(cfg, logger.With("component", "gtm"))
	if err != nil {
		return err
	}
	defer gtmw.stop()
	vipw, err := newVIPWiring(ctx, cfg.Cluster.VIP, logger)
	if err != nil {
		return err
	}
	r := cfg.Cluster.Raft
	ccfg := cluster.Config{
		NodeID:             cfg.Cluster.NodeID,
		DataDir:            filepath.Join(cfg.Storage.Path, "raft"),
		Listen:             cfg.Cluster.Listen,
		Advertise:          cfg.Cluster.Advertise,
		APIAddress:         cfg.API.Listen,
		DNSAddress:         cfg.DNS.Listen,
		Bootstrap:          cfg.Cluster.Bootstrap,
		Join:               cfg.Cluster.Join,
		HeartbeatTimeout:   time.Duration(r.HeartbeatTimeout),
		ElectionTimeout:    time.Duration(r.ElectionTimeout),
		LeaderLeaseTimeout: time.Duration(r.LeaderLeaseTimeout),
		CommitTimeout:      time.Duration(r.CommitTimeout),
		SnapshotThreshold:  r.SnapshotThreshold,
		SnapshotInterval:   time.Duration(r.SnapshotInterval),
		Logger:             logger.With("component", "cluster"),
	}
	vipw.configure(&ccfg)
	node, err := cluster.New(ccfg, state)
	if err != nil {
		return fmt.Errorf("cluster.listen/storage.path: %w", err)
	}
	// A leader's Shutdown removes its VIP (BeforeTransfer), records the
	// release and hands leadership over; then the VIP manager stops for
	// good.
	stopNode := func() {
		sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer scancel()
		if err := node.Shutdown(sctx); err != nil {
			logger.Error("cluster shutdown", "err", err)
		}
		vipw.stop(sctx, logger)
	}
	if err := vipw.start(node); err != nil {
		stopNode()
		return err
	}

	dnsSrv := dnsserver.New(dnsserver.Config{Listen: cfg.DNS.Listen, Logger: logger.With("component", "dns"), Registerer: reg, Geo: gtmw.geo}, dnsData{state})
	if err := dnsSrv.Start(ctx); err != nil {
		stopNode()
		return fmt.Errorf("dns.listen: %w", err)
	}

	apiLn, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		stopNode()
		_ = dnsSrv.Shutdown(context.Background())
		return fmt.Errorf("api.listen: %w", err)
	}
	left := make(chan struct{})
	writer := fsm.NewWriter(state, node)
	writer.CatchUp = func(ctx context.Context) error { return node.ReadBarrier(ctx, cluster.Leader) }
	handler := api.New(api.Config{
		Writer:        writer,
		Transfers:     writer,
		Policies:      writer,
		PolicyState:   policyReader{state},
		Explainer:     explainer{f: state, geo: gtmw.geo},
		HealthReports: gtmw,
		State:         state,
		Cluster:       node,
		Version:       version,
		Metrics:       promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Logger:        logger.With("component", "api"),
		OnLeave:       func() { close(left) },
	})
	httpSrv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(apiLn) }()

	node.Start(ctx)
	gtmw.start(node, state, writer, reg)
	// NOTIFY to each zone's secondaries, sent by the leader only.
	notifyCtx, stopNotify := context.WithCancel(ctx)
	notifyDone := make(chan struct{})
	go func() {
		defer close(notifyDone)
		notify.New(notify.Config{Replication: node, Registerer: reg, Logger: logger.With("component", "notify")}, state, node).Run(notifyCtx)
	}()
	logger.Info("resolvx node running", "version", version, "node_id", cfg.Cluster.NodeID,
		"dns", cfg.DNS.Listen, "api", cfg.API.Listen, "cluster", cfg.Cluster.Listen, "data", cfg.Storage.Path,
		"vip", cfg.Cluster.VIP.Address, "vip_interface", cfg.Cluster.VIP.Interface)

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case <-left:
		logger.Info("left the cluster; shutting down")
	case err := <-httpErr:
		runErr = fmt.Errorf("api: %w", err)
	}

	stopNotify()
	<-notifyDone
	// Raft first (a leader removes its VIP, records the release and hands
	// over leadership), then the API, DNS last: this node answers queries
	// until the very end.
	stopNode()
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	if err := httpSrv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("api shutdown", "err", err)
	}
	if err := dnsSrv.Shutdown(sctx); err != nil {
		logger.Error("dns shutdown", "err", err)
	}
	return runErr
}

// exportRaftMetrics sends hashicorp/raft's metrics (go-metrics, selected by
// the hashicorpmetrics build tag) to the Prometheus registry. go-metrics has
// one process-wide sink; this is the one place that sets it.
func exportRaftMetrics(reg prometheus.Registerer) error {
	sink, err := gometricsprom.NewPrometheusSinkFrom(gometricsprom.PrometheusOpts{Expiration: time.Minute, Registerer: reg})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mc := gometrics.DefaultConfig("resolvx")
	mc.EnableHostname = false
	mc.EnableRuntimeMetrics = false
	if _, err := gometrics.NewGlobal(mc, sink); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// dnsData is the DNS server's dnsserver.Source: the zones and the policy
// table of one applied state (one atomic load), so they always agree.
type dnsData struct{ f *fsm.FSM }

func (d dnsData) Data() dnsserver.Data {
	st := d.f.State()
	return dnsserver.Data{Zones: st.Zones, Policies: st.GTM()}
}
