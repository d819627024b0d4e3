package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/internal/testwait"
	"github.com/resolvx/resolvx/zone"
)

// Raft timings for tests: short, so elections take a few hundred ms.
const (
	testHeartbeat = 250 * time.Millisecond
	testElection  = 250 * time.Millisecond
	testLease     = 150 * time.Millisecond
)

// logBuffer collects a test's logs; they are printed only when the test
// fails (or always with RESOLVX_TEST_LOG=1).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a logger into a buffer dumped on failure.
func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	lb := &logBuffer{}
	level := slog.LevelInfo
	if os.Getenv("RESOLVX_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	// Registered first, so it runs last: after every node has stopped.
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("RESOLVX_TEST_LOG") != "" {
			t.Logf("logs:\n%s", lb.String())
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: level})), lb
}

// testNode is one in-process node with its own FSM and data dir.
type testNode struct {
	t    *testing.T
	id   string
	dir  string
	cfg  Config
	fsm  *fsm.FSM
	node *Node
}

type testCluster struct {
	t      *testing.T
	logger *slog.Logger
	logs   *logBuffer
	nodes  []*testNode
	// tweak, when set, adjusts every node's Config before it starts.
	tweak func(*Config)
}

func newTestCluster(t *testing.T) *testCluster {
	logger, logs := testLogger(t)
	return &testCluster{t: t, logger: logger, logs: logs}
}

// start creates and starts a node. listen "" picks a free loopback port.
func (c *testCluster) start(id, dir, listen string, bootstrap bool, join ...string) *testNode {
	c.t.Helper()
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	cfg := Config{
		NodeID:             id,
		DataDir:            dir,
		Listen:             listen,
		APIAddress:         "api-" + id,
		DNSAddress:         "dns-" + id,
		Bootstrap:          bootstrap,
		Join:               join,
		HeartbeatTimeout:   testHeartbeat,
		ElectionTimeout:    testElection,
		LeaderLeaseTimeout: testLease,
		Logger:             c.logger.With("node", id),
	}
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	tn := &testNode{t: c.t, id: id, dir: dir, cfg: cfg}
	tn.boot()
	c.nodes = append(c.nodes, tn)
	return tn
}

// boot (re)starts tn's node on its data dir, with a fresh FSM.
func (tn *testNode) boot() {
	tn.t.Helper()
	tn.fsm = fsm.New(nil)
	n, err := New(tn.cfg, tn.fsm)
	if err != nil {
		tn.t.Fatalf("starting %s: %v", tn.id, err)
	}
	tn.node = n
	tn.cfg.Listen = n.Addr() // a restart reuses the port
	tn.t.Cleanup(func() { killNode(n) })
	n.Start(context.Background())
}

// kill stops the node without a leadership transfer (a crash, as far as
// the others can tell).
func (tn *testNode) kill() { killNode(tn.node) }

func killNode(n *Node) { n.shutOnce.Do(func() { n.shutErr = n.close() }) }

func (tn *testNode) stopped() bool { return tn.node.raft.State() == raft.Shutdown }

// live returns the nodes that are running.
func (c *testCluster) live() []*testNode {
	var out []*testNode
	for _, tn := range c.nodes {
		if !tn.stopped() {
			out = append(out, tn)
		}
	}
	return out
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, timeout, what, cond)
}

// leader waits until exactly one of the given nodes leads and every one of
// them names it as leader; it returns it.
func (c *testCluster) leader(timeout time.Duration, among ...*testNode) *testNode {
	c.t.Helper()
	if len(among) == 0 {
		among = c.live()
	}
	var found *testNode
	waitFor(c.t, timeout, "one leader all nodes agree on", func() bool {
		found = nil
		for _, tn := range among {
			if tn.node.IsLeader() {
				if found != nil {
					return false
				}
				found = tn
			}
		}
		if found == nil {
			return false
		}
		for _, tn := range among {
			if _, id := tn.node.raft.LeaderWithID(); string(id) != found.id {
				return false
			}
		}
		return true
	})
	return found
}

// followers returns the live nodes other than l.
func (c *testCluster) followers(l *testNode) []*testNode {
	var out []*testNode
	for _, tn := range c.live() {
		if tn != l {
			out = append(out, tn)
		}
	}
	return out
}

// startThree forms a three-node cluster the documented way: n1 bootstraps,
// n2 and n3 join n1's address.
func startThree(t *testing.T) *testCluster {
	t.Helper()
	return startThreeWith(t, nil)
}

// startThreeWith is startThree with every node's Config adjusted by tweak.
func startThreeWith(t *testing.T, tweak func(*Config)) *testCluster {
	t.Helper()
	c := newTestCluster(t)
	c.tweak = tweak
	n1 := c.start("n1", t.TempDir(), "", false)
	c.leader(5*time.Second, n1)
	c.start("n2", t.TempDir(), "", false, n1.node.Addr())
	c.start("n3", t.TempDir(), "", false, n1.node.Addr())
	// Every node, not only n1, must hold the three-voter configuration: a
	// joiner whose join RPC returned may not have received it yet.
	waitFor(t, 10*time.Second, "three voters on every node", func() bool {
		for _, tn := range c.nodes {
			if voters(t, tn.node) != 3 {
				return false
			}
		}
		return true
	})
	c.leader(5 * time.Second)
	return c
}

// voters counts the voters in n's configuration.
func voters(t *testing.T, n *Node) int {
	servers, err := n.configuration()
	if err != nil {
		return -1
	}
	c := 0
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			c++
		}
	}
	return c
}

// createZone is a valid command the first time, ALREADY_EXISTS after.
func createZone(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fsm.Encode(fsm.OpCreateZone, fsm.CreateZone{Name: name, SOA: zone.DefaultSOA(name)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invalidCmd is rejected by the FSM with VALIDATION_ERROR.
var invalidCmd = []byte(`{"v":1,"op":"zone.create","data":{"name":"bad..name"}}`)

// hasZone reports whether tn's FSM has the zone.
func (tn *testNode) hasZone(name string) bool {
	return tn.fsm.State().Zones.Zone(name) != nil
}

// write applies cmd through tn with a test deadline.
func (tn *testNode) write(cmd []byte) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tn.node.Apply(ctx, cmd)
}

// mustWrite creates a zone through tn.
func (tn *testNode) mustWrite(name string) uint64 {
	tn.t.Helper()
	idx, err := tn.write(createZone(tn.t, name))
	if err != nil {
		tn.t.Fatalf("write %s through %s: %v", name, tn.id, err)
	}
	return idx
}

// converged waits until every given node has applied index and holds zone.
func converged(t *testing.T, timeout time.Duration, index uint64, name string, nodes ...*testNode) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("every node applying %d (%s)", index, name), func() bool {
		for _, tn := range nodes {
			if tn.fsm.AppliedIndex() < index || !tn.hasZone(name) {
				return false
			}
		}
		return true
	})
}

func ids(nodes []NodeStatus) string {
	var s []string
	for _, n := range nodes {
		s = append(s, n.ID+"="+n.Status+"/"+n.Suffrage)
	}
	return strings.Join(s, ",")
}
