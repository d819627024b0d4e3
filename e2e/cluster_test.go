package e2e

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// threeNodes starts a cluster: the first node bootstraps, the others join
// it, and all agree on one leader with three nodes.
func threeNodes(t *testing.T) []*node {
	t.Helper()
	a := newNode(t, "n1")
	a.start()
	b := newNode(t, "n2", a.clusterAd)
	c := newNode(t, "n3", a.clusterAd)
	b.start()
	c.start()
	nodes := []*node{a, b, c}
	waitAgreedLeader(t, nodes, 3)
	return nodes
}

// waitAgreedLeader waits until every running node reports the same leader
// (not one of notLeader) and the wanted number of nodes, and returns the
// leader's id.
func waitAgreedLeader(t *testing.T, nodes []*node, want int, notLeader ...string) string {
	t.Helper()
	var leader string
	eventually(t, 20*time.Second, fmt.Sprintf("%d nodes agree on a leader", len(nodes)), func() bool {
		leader = ""
		for _, n := range nodes {
			s, err := n.status()
			if err != nil || s.Leader == "" || len(s.Nodes) != want || slices.Contains(notLeader, s.Leader) {
				return false
			}
			if leader != "" && s.Leader != leader {
				return false
			}
			leader = s.Leader
		}
		return true
	})
	return leader
}

func byID(nodes []*node, id string) *node {
	for _, n := range nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// waitAnswer waits until n answers name A with want.
func waitAnswer(t *testing.T, n *node, name, want string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%s answers %s A %s", n.id, name, want), func() bool {
		r, err := n.query(name, dns.TypeA)
		return err == nil && r.Rcode == dns.RcodeSuccess && strings.Join(answers(r), ",") == want
	})
}

// Invariants: a write through a follower is answered by every node within a
// second; after kill -9 of the leader a new one is elected and writes go on;
// the killed node catches up on restart; a full stop/start keeps every record.
func TestThreeNodeCluster(t *testing.T) {
	nodes := threeNodes(t)
	leaderID := waitAgreedLeader(t, nodes, 3)
	leader := byID(nodes, leaderID)
	var follower *node
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}

	// A write through a follower's API is forwarded and visible everywhere.
	follower.mustCLI("zone", "create", "example.com")
	start := time.Now()
	follower.mustCLI("record", "create", "example.com", "www", "A", "192.0.2.10")
	for _, n := range nodes {
		waitAnswer(t, n, "www.example.com", "192.0.2.10", time.Second)
	}
	t.Logf("write through follower answered by all three nodes %v after the request started", time.Since(start).Round(time.Millisecond))

	// kill -9 the leader: a new leader is elected and writes keep working.
	leader.kill()
	var survivors []*node
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	killed := time.Now()
	newLeader := waitAgreedLeader(t, survivors, 3, leaderID)
	t.Logf("new leader %s agreed %v after kill -9", newLeader, time.Since(killed).Round(time.Millisecond))
	eventually(t, 10*time.Second, "a write after failover", func() bool {
		_, err := survivors[0].cli("record", "create", "example.com", "after", "A", "192.0.2.20")
		return err == nil
	})
	for _, n := range survivors {
		waitAnswer(t, n, "after.example.com", "192.0.2.20", time.Second)
	}

	// The killed node restarts and catches up.
	leader.start()
	waitAnswer(t, leader, "after.example.com", "192.0.2.20", 10*time.Second)
	waitAgreedLeader(t, nodes, 3)

	// Stop all three and start them again: every record is still there, and
	// each node answers from its own state before the cluster re-forms.
	for _, n := range nodes {
		n.signal(syscall.SIGTERM)
	}
	for _, n := range nodes {
		n.start()
	}
	for _, n := range nodes {
		waitAnswer(t, n, "www.example.com", "192.0.2.10", 5*time.Second)
		waitAnswer(t, n, "after.example.com", "192.0.2.20", 5*time.Second)
	}
	waitAgreedLeader(t, nodes, 3)
	if _, err := nodes[2].cli("record", "create", "example.com", "final", "A", "192.0.2.30"); err != nil {
		t.Fatalf("write after full restart: %v", err)
	}
}

// Invariant: a node whose data dir is not writable refuses to start with a
// clear error instead of running without persistence.
func TestStartupErrors(t *testing.T) {
	n := newNode(t, "bad")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"server", "--dns-listen", "nonsense"}, "dns.listen"},
		{[]string{"server", "--data-dir", "/proc/resolvx-cannot-write"}, "storage.path"},
	} {
		out, err := n.runOnce(tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("resolvx %s: want an error naming %s, got %v:\n%s", strings.Join(tc.args, " "), tc.want, err, out)
		}
	}
}
