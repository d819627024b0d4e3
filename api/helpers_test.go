package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/internal/testwait"
)

// The real implementations satisfy the interfaces the API declares.
var (
	_ Writer         = (*fsm.Writer)(nil)
	_ TransferWriter = (*fsm.Writer)(nil)
	_ StateReader    = (*fsm.FSM)(nil)
)

// fakeApplier applies commands straight to the FSM, as a one-node Raft
// would; err, when set, fails every proposal (a lost quorum).
type fakeApplier struct {
	mu    sync.Mutex
	f     *fsm.FSM
	index uint64
	err   error
}

func (a *fakeApplier) Apply(_ context.Context, b []byte) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return 0, a.err
	}
	a.index++
	if err, ok := a.f.Apply(&raft.Log{Index: a.index, Type: raft.LogCommand, Data: b}).(error); ok {
		return 0, err
	}
	return a.index, nil
}

func (a *fakeApplier) fail(err error) {
	a.mu.Lock()
	a.err = err
	a.mu.Unlock()
}

// fakeCluster records the read levels asked for and the membership calls.
type fakeCluster struct {
	mu         sync.Mutex
	status     cluster.Status
	barrierErr error
	levels     []cluster.Consistency
	leaveErr   error
	left       int
	removed    []string
}

func (c *fakeCluster) Status(context.Context) cluster.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *fakeCluster) LocalStatus() cluster.NodeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status.Nodes[0]
}

func (c *fakeCluster) ReadBarrier(_ context.Context, level cluster.Consistency) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.levels = append(c.levels, level)
	return c.barrierErr
}

func (c *fakeCluster) Leave(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leaveErr != nil {
		return c.leaveErr
	}
	c.left++
	return nil
}

func (c *fakeCluster) Remove(_ context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.status.Nodes {
		if n.ID == id {
			c.removed = append(c.removed, id)
			return nil
		}
	}
	return cluster.ErrNotFound
}

func (c *fakeCluster) lastLevel() cluster.Consistency {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.levels) == 0 {
		return ""
	}
	return c.levels[len(c.levels)-1]
}

// testAPI is one API over a real FSM with a fake Raft and a fake cluster.
type testAPI struct {
	srv     *httptest.Server
	handler http.Handler
	client  *Client
	fsm     *fsm.FSM
	applier *fakeApplier
	cluster *fakeCluster
	onLeave atomic.Int32
}

func newTestAPI(t testing.TB) *testAPI {
	t.Helper()
	f := fsm.New(nil)
	ap := &fakeApplier{f: f}
	cl := &fakeCluster{status: cluster.Status{
		NodeID: "n1", IsLeader: true, Leader: "n1", LeaderAddress: "127.0.0.1:7946",
		Nodes: []cluster.NodeStatus{
			{ID: "n1", Address: "127.0.0.1:7946", Status: "leader", IsLeader: true, Suffrage: "voter", LastContact: "0s"},
			{ID: "n2", Address: "127.0.0.1:7947", Status: "follower", Suffrage: "voter", LastContact: "12ms"},
		},
	}}
	ta := &testAPI{fsm: f, applier: ap, cluster: cl}
	w := fsm.NewWriter(f, ap)
	ta.handler = New(Config{
		Writer:    w,
		Transfers: w,
		State:     f,
		Cluster:   cl,
		Version:   "v0.test",
		OnLeave:   func() { ta.onLeave.Add(1) },
	})
	ta.srv = httptest.NewServer(ta.handler)
	t.Cleanup(ta.srv.Close)
	ta.client = NewClient(ta.srv.URL, ta.srv.Client())
	return ta
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, 5*time.Second, what, cond)
}
