package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/vip"
)

// vipWiring connects the VIP manager and the cluster node, which need each
// other: the manager asks the node (its gate), the node reports the
// manager's state and has it drop the VIP before a leadership transfer.
type vipWiring struct {
	cfg    vip.Config
	on     bool
	mgr    atomic.Pointer[vip.Manager] // set once the node exists
	cancel context.CancelFunc
	done   chan struct{}
}

// newVIPWiring removes a VIP an earlier run left on the interface — before
// Raft starts, so this run never sees a stale one — when the VIP is
// enabled.
func newVIPWiring(ctx context.Context, c VIPConfig, logger *slog.Logger) (*vipWiring, error) {
	w := &vipWiring{on: c.Enabled}
	if !w.on {
		return w, nil
	}
	w.cfg = c.vipConfig(logger.With("component", "vip"))
	if err := vip.RemoveLeftover(ctx, w.cfg); err != nil {
		return nil, fmt.Errorf("cluster.vip.interface/address: removing a left-over VIP: %w", err)
	}
	return w, nil
}

// configure sets the cluster's VIP fields.
func (w *vipWiring) configure(cc *cluster.Config) {
	if !w.on {
		return
	}
	cc.VIPLease = w.cfg.ExpiryBound()
	cc.VIPAddress = w.cfg.Address.String()
	cc.VIPHeld = func() bool {
		m := w.mgr.Load()
		return m != nil && m.Holding()
	}
	cc.BeforeTransfer = func(ctx context.Context) error {
		if m := w.mgr.Load(); m != nil {
			return m.Drop(ctx)
		}
		return nil
	}
}

// start runs the manager with node as its gate.
func (w *vipWiring) start(node *cluster.Node) error {
	if !w.on {
		return nil
	}
	m, err := vip.NewManager(w.cfg, node)
	if err != nil {
		return fmt.Errorf("cluster.vip: %w", err)
	}
	w.mgr.Store(m)
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		_ = m.Run(ctx) // returns nil when ctx ends
	}()
	return nil
}

// stop releases the VIP for good and stops the manager.
func (w *vipWiring) stop(ctx context.Context, logger *slog.Logger) {
	m := w.mgr.Load()
	if m == nil {
		return
	}
	if err := m.Release(ctx); err != nil {
		logger.Error("vip release", "err", err)
	}
	w.cancel()
	<-w.done
}
