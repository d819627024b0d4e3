package verdict

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// fakeCluster is three voters whose observations the test sets, and the
// committed state the loop reads and writes.
type fakeCluster struct {
	mu       sync.Mutex
	now      time.Time
	obs      map[string][]gtm.Observation // by node
	down     map[string]bool              // nodes that do not answer
	policies []gtm.Policy
	verdicts map[string]gtm.Verdicts
	commits  int
}

func (f *fakeCluster) Policies() []gtm.Policy { return f.policies }
func (f *fakeCluster) Verdicts(p string) gtm.Verdicts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.verdicts[p]
}

func (f *fakeCluster) set(node, endpoint string, h gtm.Health, age time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.obs[node]
	for i := range list {
		if list[i].Endpoint == endpoint {
			list[i].Status, list[i].LastCheck = h, f.now.Add(-age)
			return
		}
	}
	f.obs[node] = append(list, gtm.Observation{Node: node, Policy: "web", Endpoint: endpoint, Status: h, LastCheck: f.now.Add(-age)})
}

func newLoop(t *testing.T) (*Loop, *fakeCluster) {
	t.Helper()
	f := &fakeCluster{now: time.Unix(1000, 0), obs: map[string][]gtm.Observation{}, down: map[string]bool{}, verdicts: map[string]gtm.Verdicts{},
		policies: []gtm.Policy{{Name: "web", Type: gtm.Failover, Endpoints: []gtm.Endpoint{{ID: "a", Address: "192.0.2.1"}},
			HealthCheck: &gtm.HealthCheck{Type: "tcp", Port: 80, Interval: gtm.Duration(time.Second), Timeout: gtm.Duration(time.Second)}}}}
	c := &Collector{
		Node: "n1",
		Now:  func() time.Time { return f.now },
		Local: func() []gtm.Observation {
			f.mu.Lock()
			defer f.mu.Unlock()
			return append([]gtm.Observation(nil), f.obs["n1"]...)
		},
		Voters: func() ([]Member, error) {
			return []Member{{"n1", "a1"}, {"n2", "a2"}, {"n3", "a3"}}, nil
		},
		Call: func(_ context.Context, addr, method string, _, resp any) error {
			node := map[string]string{"a2": "n2", "a3": "n3"}[addr]
			if method != Method {
				t.Errorf("method %q", method)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.down[node] {
				return errors.New("unreachable")
			}
			var obs []gtm.Observation
			for _, o := range f.obs[node] {
				o.Node = "forged" // a node cannot speak for another: the collector names it
				obs = append(obs, o)
			}
			b, _ := json.Marshal(report{Now: f.now, Observations: obs})
			return json.Unmarshal(b, resp)
		},
	}
	l := New(Config{Collector: c, IsLeader: func() bool { return true }, State: func() State { return f },
		Commit: func(_ context.Context, p string, v gtm.Verdicts, addrs map[string]string) error {
			if addrs["a"] != "192.0.2.1" {
				t.Errorf("decided for addresses %v", addrs)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.verdicts[p] = v
			f.commits++
			return nil
		}})
	return l, f
}

// Invariant: the leader commits a verdict only when a majority of the
// fresh reporters agree, commits nothing when nothing changes, and ignores
// stale observations and unreachable nodes.
func TestLoopCommitsMajorityVerdicts(t *testing.T) {
	l, f := newLoop(t)
	ctx := context.Background()
	for _, n := range []string{"n1", "n2", "n3"} {
		f.set(n, "a", gtm.Healthy, 0)
	}
	if l.Once(ctx) != 1 || f.Verdicts("web").Of("a") != gtm.Healthy {
		t.Fatalf("first verdict: %+v", f.Verdicts("web"))
	}
	if l.Once(ctx) != 0 {
		t.Fatal("committed again without a change")
	}
	f.set("n1", "a", gtm.Unhealthy, 0) // one node cut off
	if l.Once(ctx) != 0 || f.Verdicts("web").Of("a") != gtm.Healthy {
		t.Fatal("one node flipped the verdict")
	}
	f.set("n2", "a", gtm.Unhealthy, 10*time.Second) // stale: does not vote
	if l.Once(ctx) != 0 {
		t.Fatal("a stale observation voted")
	}
	f.set("n2", "a", gtm.Unhealthy, 0) // a majority
	if l.Once(ctx) != 1 || f.Verdicts("web").Of("a") != gtm.Unhealthy {
		t.Fatalf("majority did not flip: %+v", f.Verdicts("web"))
	}
	// n2 and n3 unreachable: n1 alone says healthy, but one report of
	// three voters is no quorum, so the committed verdict stays.
	f.set("n1", "a", gtm.Healthy, 0)
	f.down["n2"], f.down["n3"] = true, true
	if l.Once(ctx) != 0 || f.Verdicts("web").Of("a") != gtm.Unhealthy {
		t.Fatalf("a lone reporter decided: %+v", f.Verdicts("web"))
	}
}

// Invariant: Observations names each node by who answered, not by what the
// answer claims, and says which nodes did not answer.
func TestCollectorNamesNodes(t *testing.T) {
	l, f := newLoop(t)
	for _, n := range []string{"n1", "n2", "n3"} {
		f.set(n, "a", gtm.Healthy, 0)
	}
	f.down["n3"] = true
	obs, err := l.cfg.Collector.Observations(context.Background())
	if err == nil {
		t.Fatal("no error for the unreachable node")
	}
	seen := map[string]bool{}
	for _, o := range obs {
		seen[o.Node] = true
	}
	if len(obs) != 2 || !seen["n1"] || !seen["n2"] {
		t.Fatalf("observations %+v", obs)
	}
}

// Invariant: a follower whose observations change passes the kick on to
// the leader, and decides nothing itself.
func TestFollowerKicksLeader(t *testing.T) {
	kicked := make(chan string, 1)
	c := &Collector{Node: "n2", Local: func() []gtm.Observation { return nil },
		Voters: func() ([]Member, error) { return nil, nil },
		Call: func(_ context.Context, addr, method string, _, _ any) error {
			kicked <- addr + " " + method
			return nil
		}}
	l := New(Config{Collector: c, IsLeader: func() bool { return false }, LeaderAddr: func() string { return "leader:7946" },
		State: func() State { t.Error("a follower read the state to decide"); return nil },
		Commit: func(context.Context, string, gtm.Verdicts, map[string]string) error {
			t.Error("a follower committed")
			return nil
		},
		Period: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	l.Kick()
	if got := <-kicked; got != "leader:7946 "+KickMethod {
		t.Fatalf("kick sent as %q", got)
	}
	cancel()
	<-done
}
