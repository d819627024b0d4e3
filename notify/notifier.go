package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/zone"
)

// Source gives the current zones (fsm.FSM satisfies it).
type Source interface {
	View() *zone.View
}

// Leader says whether this node leads the Raft group (cluster.Node
// satisfies it).
type Leader interface {
	IsLeader() bool
}

// Replication tells whether every member has applied the log up to an
// index (cluster.Node satisfies it).
type Replication interface {
	AllApplied(ctx context.Context, index uint64) bool
}

// Config tunes a Notifier. Zero values take the defaults.
type Config struct {
	// Replication, when set, holds a zone's first NOTIFY until every
	// member has applied the change (at most ReplicationWait), so a
	// secondary that transfers from any node gets it.
	Replication Replication
	// ReplicationWait bounds that hold (default 1 s); after it the NOTIFY
	// goes out anyway.
	ReplicationWait time.Duration
	// Interval is how often serials are compared (default 100 ms).
	Interval time.Duration
	// Timeout bounds one NOTIFY exchange (default 1 s).
	Timeout time.Duration
	// Backoff is the wait after the first failed send; it doubles after
	// each further failure (default 1 s).
	Backoff time.Duration
	// Tries is how many sends a NOTIFY gets before it is given up
	// (default 5).
	Tries int
	// Logger receives one line per NOTIFY given up; nil discards.
	Logger *slog.Logger
	// Registerer receives resolvx_notify_sends_total while Run runs; nil
	// means no metrics.
	Registerer prometheus.Registerer
}

// Notifier sends NOTIFYs for one node. Create it with New, run it with Run.
type Notifier struct {
	cfg    Config
	src    Source
	leader Leader
	met    *metrics // nil without Registerer
}

// New returns a Notifier over src that acts while leader says so.
func New(cfg Config, src Source, leader Leader) *Notifier {
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 5
	}
	if cfg.ReplicationWait <= 0 {
		cfg.ReplicationWait = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{cfg: cfg, src: src, leader: leader}
	if cfg.Registerer != nil {
		n.met = newMetrics()
	}
	return n
}

// target is one secondary of one zone.
type target struct {
	zone, addr string
}

// job is the NOTIFY a target is owed.
type job struct {
	serial   uint32
	index    uint64 // the Raft index of the change (the serial's source)
	tries    int
	next     time.Time
	inFlight bool
}

// result is the outcome of one send.
type result struct {
	t      target
	serial uint32
	err    error
}

// Run notifies until ctx ends, then waits for the sends in flight. It is
// the owner of every goroutine it starts.
func (n *Notifier) Run(ctx context.Context) {
	if n.met != nil {
		if err := n.cfg.Registerer.Register(n.met.sends); err != nil {
			n.cfg.Logger.Warn("NOTIFY metrics not registered", "err", err)
		} else {
			defer n.cfg.Registerer.Unregister(n.met.sends)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	results := make(chan result)
	ticker := time.NewTicker(n.cfg.Interval)
	defer ticker.Stop()
	var notified map[string]uint32 // zone → serial owed to its targets; nil while not leader
	jobs := map[target]*job{}
	for {
		now := time.Now()
		if !n.leader.IsLeader() {
			notified = nil
			clear(jobs)
		} else if v := n.src.View(); v != nil {
			if notified == nil {
				notified = map[string]uint32{}
			}
			n.plan(v, notified, jobs, now)
			for t, j := range jobs {
				if j.inFlight || now.Before(j.next) {
					continue
				}
				msg, secret, ok := notifyMsg(v, t.zone)
				if !ok {
					delete(jobs, t)
					continue
				}
				j.inFlight = true
				wg.Add(1)
				go func(t target, j job) {
					defer wg.Done()
					if j.tries == 0 {
						n.awaitReplication(ctx, j.index)
					}
					err := send(ctx, msg, secret, t.addr, n.cfg.Timeout)
					select {
					case results <- result{t, j.serial, err}:
					case <-ctx.Done():
					}
				}(t, *j)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case r := <-results:
			n.settle(jobs, r, time.Now())
		}
	}
}

// plan records a job for every target of every zone whose serial moved
// since it was last planned, and drops jobs of targets no longer listed.
func (n *Notifier) plan(v *zone.View, notified map[string]uint32, jobs map[target]*job, now time.Time) {
	listed := map[target]bool{}
	for name := range notified {
		if v.Zone(name) == nil {
			delete(notified, name) // a deleted zone; a new one of that name is notified afresh
		}
	}
	for _, z := range v.Zones() {
		targets := z.Transfer().Notify
		for _, addr := range targets {
			listed[target{z.Name(), addr}] = true
		}
		if s, ok := notified[z.Name()]; ok && s == z.Serial() {
			continue
		}
		notified[z.Name()] = z.Serial()
		for _, addr := range targets {
			t := target{z.Name(), addr}
			if j, ok := jobs[t]; ok && j.inFlight {
				j.serial, j.index, j.tries, j.next = z.Serial(), z.Index(), 0, now // resent when the send in flight returns
				continue
			}
			jobs[t] = &job{serial: z.Serial(), index: z.Index(), next: now}
		}
	}
	for t := range jobs {
		if !listed[t] {
			delete(jobs, t)
		}
	}
}

// awaitReplication returns once every member has applied index, after
// ReplicationWait, or when ctx ends; at once without Replication.
func (n *Notifier) awaitReplication(ctx context.Context, index uint64) {
	if n.cfg.Replication == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ReplicationWait)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !n.cfg.Replication.AllApplied(ctx, index) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// settle records the outcome of a send: done, retry later, or given up.
func (n *Notifier) settle(jobs map[target]*job, r result, now time.Time) {
	j, ok := jobs[r.t]
	if !ok {
		return
	}
	j.inFlight = false
	if j.serial != r.serial {
		return // a newer serial is owed; it goes out on the next tick
	}
	if r.err == nil {
		n.met.count("ok")
		delete(jobs, r.t)
		return
	}
	j.tries++
	if j.tries >= n.cfg.Tries {
		n.met.count("given_up")
		n.cfg.Logger.Warn("NOTIFY given up", "zone", r.t.zone, "target", r.t.addr, "serial", r.serial, "tries", j.tries, "err", r.err)
		delete(jobs, r.t)
		return
	}
	n.met.count("failed")
	j.next = now.Add(n.cfg.Backoff << (j.tries - 1))
}
