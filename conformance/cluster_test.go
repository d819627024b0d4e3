package conformance

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/resolvx/resolvx/api"
	"github.com/resolvx/resolvx/internal/testbin"
	"github.com/resolvx/resolvx/internal/testwait"
)

// rnode is one `resolvx server` process on loopback.
type rnode struct {
	id                string
	dns, api, cluster string
	client            *api.Client
	cmd               *exec.Cmd
	exited            chan struct{}
	logFile           string
}

// loopbackAddr returns 127.0.0.1 and a port free for UDP and TCP now.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// startCluster runs three resolvx servers (the first bootstraps, the
// others join it) and returns once all three are members and one leads.
// Each is stopped by PID when the test ends.
func startCluster(t *testing.T) []*rnode {
	t.Helper()
	bin, cleanup, err := testbin.Resolvx("../cmd/resolvx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	var nodes []*rnode
	for i := 1; i <= 3; i++ {
		n := &rnode{id: fmt.Sprintf("n%d", i), dns: loopbackAddr(t), api: loopbackAddr(t), cluster: loopbackAddr(t)}
		dir := t.TempDir()
		n.logFile = filepath.Join(dir, "server.log")
		args := []string{"server", "--node-id", n.id, "--data-dir", filepath.Join(dir, "data"),
			"--dns-listen", n.dns, "--api-listen", n.api, "--cluster-listen", n.cluster, "--log-level", "debug"}
		if i > 1 {
			args = append(args, "--join", nodes[0].cluster)
		}
		logf, err := os.Create(n.logFile)
		if err != nil {
			t.Fatal(err)
		}
		n.cmd = exec.Command(bin, args...)
		n.cmd.Stdout, n.cmd.Stderr = logf, logf
		n.cmd.Env = append(os.Environ(), "RESOLVX_API=")
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		n.exited = make(chan struct{})
		go func(c *exec.Cmd, done chan struct{}, f *os.File) { _ = c.Wait(); f.Close(); close(done) }(n.cmd, n.exited, logf)
		t.Cleanup(func() {
			_ = syscall.Kill(n.cmd.Process.Pid, syscall.SIGKILL)
			<-n.exited
			if t.Failed() {
				b, _ := os.ReadFile(n.logFile)
				t.Logf("---- log of %s (last 4 KiB) ----\n%s", n.id, tail(string(b), 4096))
			}
		})
		n.client = api.NewClient("http://"+n.api, &http.Client{Timeout: 10 * time.Second})
		nodes = append(nodes, n)
		waitUntil(t, 20*time.Second, n.id+" API up", func() bool {
			select {
			case <-n.exited:
				t.Fatalf("%s exited during startup", n.id)
			default:
			}
			_, err := n.client.Status(context.Background())
			return err == nil
		})
	}
	waitUntil(t, 20*time.Second, "a three-node cluster with a leader", func() bool {
		s, err := nodes[0].client.ClusterStatus(context.Background())
		return err == nil && s.Leader != "" && len(s.Nodes) == 3
	})
	return nodes
}

// leaderOf returns the node that leads now.
func leaderOf(t *testing.T, nodes []*rnode) *rnode {
	t.Helper()
	var lead *rnode
	waitUntil(t, 10*time.Second, "a leader", func() bool {
		for _, n := range nodes {
			if s, err := n.client.ClusterStatus(context.Background()); err == nil && s.IsLeader {
				lead = n
				return true
			}
		}
		return false
	})
	return lead
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitUntil polls cond every 10 ms until it holds, or fails the test after
// timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, timeout, what, cond)
}
