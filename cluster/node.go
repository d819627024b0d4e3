package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/transport"
)

// Timings of the node's own protocol (Raft's are in Config).
const (
	// leaderWait bounds how long a write or read waits for a leader to be
	// known (and retries a leader that moved) before NO_QUORUM. Below a
	// second with margin: a minority must refuse a write within a second
	// of the request, and an election on a LAN takes well under this.
	leaderWait = 800 * time.Millisecond
	// firstLeaderWait replaces leaderWait on a node that has not seen any
	// leader since it started: a freshly bootstrapped node elects itself
	// after one election timeout, and a user's first write right after
	// `resolvx server` must wait for that rather than fail.
	firstLeaderWait = 3 * time.Second
	// enqueueTimeout bounds handing an entry to raft on the leader.
	enqueueTimeout = time.Second
	// commitCap bounds waiting for a proposed entry to commit. Normally the
	// leader's lease ends the wait much sooner when it loses its quorum.
	commitCap = 5 * time.Second
	// forwardTimeout bounds a write forwarded to the leader.
	forwardTimeout = enqueueTimeout + commitCap + time.Second
	// catchUpWait bounds waiting for the local FSM to reach an index (after
	// a forwarded write, or for a read barrier).
	catchUpWait = time.Second
	// readBarrierWait bounds a read barrier's wait for the local FSM.
	readBarrierWait = 2 * time.Second
	// probeTimeout bounds each member's status probe.
	probeTimeout = 300 * time.Millisecond
	// transferWait bounds a leadership transfer (and seeing the new leader).
	transferWait = 3 * time.Second
	// configTimeout bounds a membership change.
	configTimeout = 5 * time.Second
	// join loop backoff.
	joinBackoffMin = 100 * time.Millisecond
	joinBackoffMax = 5 * time.Second
	// joinCallTimeout bounds one join attempt.
	joinCallTimeout = 10 * time.Second
)

// Node is one member of the Raft group.
type Node struct {
	cfg    Config
	id     string
	addr   string // advertised cluster address
	logger *slog.Logger
	fsm    *fsm.FSM
	store  *raftboltdb.BoltStore
	mux    *transport.Mux
	raft   *raft.Raft

	contacts *contactLog // leader contacts and own leadership, for the VIP gate
	vip      vipGate

	notifyCh     chan bool // raft's NotifyCh (buffered: raft blocks on it)
	leaderEvents chan bool
	observer     *raft.Observer
	obsCh        chan raft.Observation

	leaderMu  sync.Mutex
	leaderChg chan struct{} // closed and replaced when the leader changes

	// readyTerm is the term in which this node, as leader, has applied
	// every entry of earlier terms (a barrier): its applied index is then a
	// valid read index.
	readyTerm atomic.Uint64

	ctx    context.Context // ends at Shutdown
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup // every goroutine the node starts

	joined atomic.Bool // the join loop succeeded

	persisted atomic.Uint64 // the applied index last written to the stable store

	sawLeader atomic.Bool // some leader has been known since the node started

	startOnce sync.Once
	shutOnce  sync.Once
	shutErr   error
}

// New opens the Raft stores in cfg.DataDir, listens on the cluster port and
// starts Raft. A node with no Raft state bootstraps a one-node cluster of
// itself when it has no Join addresses or cfg.Bootstrap is set; otherwise
// it waits for a member to add it (Start runs the join loop). A node with
// state resumes from it.
func New(cfg Config, f *fsm.FSM) (n *Node, err error) {
	if f == nil {
		return nil, errors.New("cluster: an FSM is required")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	logger := cfg.Logger

	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()

	if err := prepareDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	store, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { store.Close() })
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotsRetained, newHCLog(logger, "raft-snapshots"))
	if err != nil {
		return nil, fmt.Errorf("cluster: snapshot store in data directory %q: %w", cfg.DataDir, err)
	}
	mux, err := transport.Listen(cfg.Listen, cfg.Advertise, logger)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	undo = append(undo, func() { mux.Close() })
	contacts := newContactLog(time.Now())
	trans := newContactTransport(raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  mux.RaftLayer(),
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  newHCLog(logger, "raft-net"),
	}), contacts)
	undo = append(undo, func() { trans.Close() })

	notify := make(chan bool, 16)
	rc, err := cfg.raftConfig(notify, logger)
	if err != nil {
		return nil, err
	}
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		return nil, fmt.Errorf("cluster: reading raft state in data directory %q: %w", cfg.DataDir, err)
	}
	r, err := raft.NewRaft(rc, f, store, store, snaps, trans)
	if err != nil {
		return nil, fmt.Errorf("cluster: starting raft: %w", err)
	}
	undo = append(undo, func() { r.Shutdown().Error() })

	ctx, cancel := context.WithCancel(context.Background())
	n = &Node{
		cfg:          cfg,
		id:           cfg.NodeID,
		addr:         mux.Addr(),
		logger:       logger,
		fsm:          f,
		store:        store,
		mux:          mux,
		raft:         r,
		contacts:     contacts,
		notifyCh:     notify,
		leaderEvents: make(chan bool, 16),
		obsCh:        make(chan raft.Observation, 16),
		leaderChg:    make(chan struct{}),
		ctx:          ctx,
		cancel:       cancel,
	}
	undo = append(undo, cancel)

	switch {
	case existing:
		logger.Info("cluster: resuming from existing raft state", "node", n.id, "address", n.addr, "data_dir", cfg.DataDir)
	case len(cfg.Join) == 0 || cfg.Bootstrap:
		boot := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(n.id), Address: raft.ServerAddress(n.addr)}}}
		if err := r.BootstrapCluster(boot).Error(); err != nil {
			return nil, fmt.Errorf("cluster: bootstrapping a one-node cluster: %w", err)
		}
		logger.Info("cluster: bootstrapped a one-node cluster", "node", n.id, "address", n.addr)
	default:
		logger.Info("cluster: no raft state; waiting to be added through a join", "node", n.id, "address", n.addr, "join", cfg.Join)
	}

	if k := n.replayCommitted(); k > 0 {
		logger.Info("cluster: applied committed entries from the local log before contacting the cluster", "entries", k, "applied_index", f.AppliedIndex())
	}
	n.persisted.Store(f.AppliedIndex())

	n.observer = raft.NewObserver(n.obsCh, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	r.RegisterObserver(n.observer)
	n.spawn(n.notifyLoop)
	n.spawn(n.observeLoop)
	n.spawn(n.persistAppliedLoop)
	n.registerHandlers()
	return n, nil
}

// Start starts the node's background work: the join loop when Join is set.
// It ends when ctx ends or the node shuts down. Calling it again is a no-op.
func (n *Node) Start(ctx context.Context) {
	n.startOnce.Do(func() {
		if len(n.cfg.Join) > 0 {
			n.spawn(func() { n.joinLoop(ctx) })
		}
	})
}

// ID returns the node's id.
func (n *Node) ID() string { return n.id }

// Addr returns the node's advertised cluster address.
func (n *Node) Addr() string { return n.addr }

// IsLeader reports whether this node is the Raft leader now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// LeaderEvents delivers true when this node becomes leader and false when it
// stops being leader. It is buffered and keeps the latest transitions: a
// consumer must also reconcile with IsLeader on a timer.
func (n *Node) LeaderEvents() <-chan bool { return n.leaderEvents }

// Shutdown stops the node. A leader with other voters first hands its
// leadership over (bounded by ctx and a few seconds) so the cluster does not
// wait out an election. Then Raft stops and the stores and the cluster port
// close. Idempotent: later calls return the first result.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutOnce.Do(func() {
		if n.raft.State() == raft.Leader && n.otherVoters() > 0 {
			start := time.Now()
			tctx, cancel := context.WithTimeout(ctx, transferWait)
			err := n.transferLeadership(tctx)
			cancel()
			if err != nil {
				n.logger.Warn("cluster: leadership transfer before shutdown failed; the others will elect a leader after a timeout", "err", err)
			} else {
				_, id := n.raft.LeaderWithID()
				n.logger.Info("cluster: leadership transferred before shutdown", "to", string(id), "took", time.Since(start).Round(time.Millisecond))
			}
		}
		n.shutErr = n.close()
	})
	return n.shutErr
}

// close stops everything the node owns, without a leadership transfer.
func (n *Node) close() error {
	n.mu.Lock()
	n.closing = true
	n.mu.Unlock()
	n.cancel()
	n.raft.DeregisterObserver(n.observer)
	var errs []error
	if err := n.raft.Shutdown().Error(); err != nil { // also closes the NetworkTransport
		errs = append(errs, fmt.Errorf("cluster: raft shutdown: %w", err))
	}
	if err := n.mux.Close(); err != nil {
		errs = append(errs, fmt.Errorf("cluster: closing the cluster port: %w", err))
	}
	n.wg.Wait()
	n.persistApplied()
	if err := n.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("cluster: closing raft.db in %q: %w", n.cfg.DataDir, err))
	}
	n.logger.Info("cluster: node stopped", "node", n.id)
	return errors.Join(errs...)
}

// spawn runs f in a goroutine owned by the node (close waits for it), unless
// the node is closing.
func (n *Node) spawn(f func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
	return true
}

var errWaitTimeout = errors.New("timed out")

// waitFuture waits for a raft future, at most limit and while ctx lasts.
// The waiting goroutine ends when raft resolves the future, which it always
// does by its own shutdown at the latest.
func (n *Node) waitFuture(ctx context.Context, f raft.Future, limit time.Duration) error {
	done := make(chan error, 1)
	if !n.spawn(func() { done <- f.Error() }) {
		return raft.ErrRaftShutdown
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errWaitTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notifyLoop forwards raft's leadership notifications to LeaderEvents.
func (n *Node) notifyLoop() {
	for {
		select {
		case v := <-n.notifyCh:
			if v {
				n.contacts.becameLeader(n.raft.CurrentTerm(), time.Now())
			} else {
				n.contacts.steppedDown(time.Now())
			}
			if v {
				n.logger.Info("cluster: this node is now the leader", "node", n.id, "term", n.raft.CurrentTerm())
			} else {
				n.logger.Info("cluster: this node is no longer the leader", "node", n.id)
			}
			n.signalLeaderChange()
			pushLatest(n.leaderEvents, v)
		case <-n.ctx.Done():
			return
		}
	}
}

// pushLatest sends v, dropping the oldest event when the buffer is full.
func pushLatest(ch chan bool, v bool) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// observeLoop wakes waiters on every leader change raft observes.
func (n *Node) observeLoop() {
	for {
		select {
		case o := <-n.obsCh:
			if lo, ok := o.Data.(raft.LeaderObservation); ok {
				n.logger.Debug("cluster: leader changed", "leader", string(lo.LeaderID), "address", string(lo.LeaderAddr))
				if lo.LeaderAddr != "" {
					n.sawLeader.Store(true)
				}
			}
			n.signalLeaderChange()
		case <-n.ctx.Done():
			return
		}
	}
}

func (n *Node) signalLeaderChange() {
	n.leaderMu.Lock()
	close(n.leaderChg)
	n.leaderChg = make(chan struct{})
	n.leaderMu.Unlock()
}

func (n *Node) leaderChanged() <-chan struct{} {
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	return n.leaderChg
}

var (
	errNoLeader = errors.New("no leader known")
	errStopped  = errors.New("this node is shutting down")
)

// awaitLeader returns the leader's address and id once one is known, or
// errNoLeader at deadline. Event-driven (raft's leader observations), with
// a short poll in case an observation was dropped.
func (n *Node) awaitLeader(ctx context.Context, deadline time.Time) (string, string, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ch := n.leaderChanged()
		if addr, id := n.raft.LeaderWithID(); addr != "" {
			return string(addr), string(id), nil
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-timer.C:
			return "", "", errNoLeader
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-n.ctx.Done():
			return "", "", errStopped
		}
	}
}

// pause waits for a leader change, a short tick, or the deadline: the
// breath between two attempts to reach a leader that moved.
func (n *Node) pause(ctx context.Context, deadline time.Time) {
	d := min(50*time.Millisecond, time.Until(deadline))
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-n.leaderChanged():
	case <-t.C:
	case <-ctx.Done():
	case <-n.ctx.Done():
	}
}

// joinLoop asks the Join addresses, in turn, to add this node, with
// exponential backoff and jitter, until one succeeds or ctx ends.
func (n *Node) joinLoop(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(n.ctx, cancel)
	defer stop()

	req := joinRequest{ID: n.id, Address: n.addr}
	backoff := joinBackoffMin
	for attempt := 1; ; attempt++ {
		for _, addr := range n.cfg.Join {
			if addr == n.addr {
				continue
			}
			cctx, ccancel := context.WithTimeout(ctx, joinCallTimeout)
			err := transport.Call(cctx, addr, methodJoin, req, nil)
			ccancel()
			if err == nil {
				n.joined.Store(true)
				n.logger.Info("cluster: joined the cluster", "node", n.id, "through", addr, "attempts", attempt)
				return
			}
			if ctx.Err() != nil {
				return
			}
			n.logger.Debug("cluster: join attempt failed", "through", addr, "attempt", attempt, "err", err)
		}
		wait := backoff + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		backoff = min(2*backoff, joinBackoffMax)
	}
}
