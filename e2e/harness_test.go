package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/internal/testbin"
	"github.com/resolvx/resolvx/internal/testwait"
)

var binPath string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var cleanup func()
	var err error
	if binPath, cleanup, err = testbin.Resolvx("../cmd/resolvx"); err != nil {
		return 0, err
	}
	defer cleanup()
	return m.Run(), nil
}

// freeAddr returns a loopback TCP address that was free a moment ago. For
// DNS the same port must also be free for UDP; we check both.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}

// node is one resolvx server process.
type node struct {
	t                           *testing.T
	id, dir                     string
	dnsAddr, apiAddr, clusterAd string
	join                        []string
	config                      string // a --config file, when set
	cmd                         *exec.Cmd
	log                         *os.File
	exited                      chan struct{}
}

func newNode(t *testing.T, id string, join ...string) *node {
	t.Helper()
	n := &node{t: t, id: id, dir: t.TempDir(), dnsAddr: freeAddr(t), apiAddr: freeAddr(t), clusterAd: freeAddr(t), join: join}
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(n.dir, "server.log"))
			t.Logf("---- log of %s ----\n%s", n.id, lastLines(string(b), 60))
		}
	})
	return n
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (n *node) api() string { return "http://" + n.apiAddr }

// start runs the server; it returns once the API answers.
func (n *node) start() {
	n.t.Helper()
	args := []string{"server", "--node-id", n.id, "--data-dir", filepath.Join(n.dir, "data"),
		"--dns-listen", n.dnsAddr, "--api-listen", n.apiAddr, "--cluster-listen", n.clusterAd, "--log-level", "debug"}
	if len(n.join) > 0 {
		args = append(args, "--join", strings.Join(n.join, ","))
	}
	if n.config != "" {
		args = append(args, "--config", n.config)
	}
	logf, err := os.OpenFile(filepath.Join(n.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	n.log = logf
	n.cmd = exec.Command(binPath, args...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.Env = append(os.Environ(), "RESOLVX_API=") // the CLI env must not leak into the server
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(n.cmd, n.exited)
	eventually(n.t, 15*time.Second, fmt.Sprintf("%s API up", n.id), func() bool {
		select {
		case <-n.exited:
			n.t.Fatalf("%s exited during startup", n.id)
		default:
		}
		resp, err := http.Get(n.api() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// signal sends sig to the process and, for fatal ones, waits for it to exit.
func (n *node) signal(sig syscall.Signal) {
	n.t.Helper()
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		select {
		case <-n.exited:
		case <-time.After(20 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
			n.t.Errorf("%s did not exit within 20 s of %v", n.id, sig)
		}
		n.cmd = nil
		n.log.Close()
	}
}

func (n *node) kill() { n.signal(syscall.SIGKILL) }

// cli runs the resolvx CLI against this node's API.
func (n *node) cli(args ...string) (string, error) {
	cmd := exec.Command(binPath, append([]string{"--api", n.api()}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), fmt.Errorf("resolvx %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (n *node) mustCLI(args ...string) string {
	n.t.Helper()
	out, err := n.cli(args...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// clusterStatus is the part of GET /api/v1/cluster the tests read.
type clusterStatus struct {
	NodeID   string `json:"node_id"`
	IsLeader bool   `json:"is_leader"`
	Leader   string `json:"leader"`
	ReadOnly bool   `json:"read_only"`
	Nodes    []struct {
		ID       string `json:"id"`
		Address  string `json:"address"`
		Status   string `json:"status"`
		IsLeader bool   `json:"is_leader"`
	} `json:"nodes"`
}

func (n *node) status() (clusterStatus, error) {
	var s clusterStatus
	out, err := n.cli("cluster", "status", "--json")
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return s, fmt.Errorf("cluster status --json: %w: %s", err, out)
	}
	return s, nil
}

// query asks this node's DNS listener over UDP.
func (n *node) query(name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, n.dnsAddr)
	return r, err
}

// answers returns the A/AAAA addresses and CNAME targets of the answer, or
// nil.
func answers(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		switch x := rr.(type) {
		case *dns.A:
			out = append(out, x.A.String())
		case *dns.AAAA:
			out = append(out, x.AAAA.String())
		case *dns.CNAME:
			out = append(out, x.Target)
		}
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, timeout, what, cond)
}

// runOnce runs the binary with args and returns its combined output; for
// commands that are expected to fail fast.
func (n *node) runOnce(args ...string) (string, error) {
	cmd := exec.Command(binPath, args...)
	cmd.Dir = n.dir
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
		return string(out), err
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return string(out), fmt.Errorf("still running after 10 s")
	}
}
