package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The lab's addresses. They exist only inside the namespaces a test
// creates; the root namespace never sends to them.
const (
	labNet      = "10.213.0."
	vipIP       = "10.213.0.53"
	vipCIDR     = vipIP + "/24"
	clientIP    = "10.213.0.100"
	dnsPort     = "53"
	apiPort     = "8080"
	clusterPort = "7946"
	labZone     = "lab.test"
	probeName   = "probe." + labZone
	probeValue  = "192.0.2.53"
	ifName      = "eth0"
)

// labOptions shape one lab.
type labOptions struct {
	nodes int
	// vip starts every node with --vip and --vip-interface and runs the
	// VIP-holder sampler. Scenarios that need the VIP call requireVIP first.
	vip bool
	// config is YAML written to a file every node gets with --config (flags
	// still win), e.g. to turn the VIP announcements off.
	config string
}

// Lab is one L2 segment: a bridge in a switch namespace, one namespace per
// node and one for the client.
type Lab struct {
	t      *testing.T
	opts   labOptions
	prefix string // unique per lab: rxl-<6 hex>
	sw     string // the switch namespace (holds the bridge)
	client string // the client namespace
	dir    string
	nodes  []*Node
	httpc  *http.Client

	sampler *vipSampler
	prober  *prober
}

// Node is one resolvx server in its own namespace.
type Node struct {
	lab     *Lab
	idx     int
	id      string // n1, n2, …
	ns      string
	ip      string
	mac     string
	dir     string
	logPath string
	starts  int

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool // SIGSTOPped
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// runCmd runs a command with a deadline and returns its combined output.
func runCmd(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (l *Lab) ip(args ...string) {
	l.t.Helper()
	if _, err := runCmd(10*time.Second, "ip", args...); err != nil {
		l.t.Fatal(err)
	}
}

// newLab builds the segment, starts the nodes (the first bootstraps, the
// others --join), waits until they agree on a leader with every node a
// voter, creates the probe zone, and, with opts.vip, starts the sampler.
// Everything is torn down in t.Cleanup, also when the test fails.
func newLab(t *testing.T, opts labOptions) *Lab {
	t.Helper()
	requireRoot(t)
	if opts.vip {
		requireVIP(t)
	}
	l := &Lab{t: t, opts: opts, prefix: "rxl-" + randomHex(3), dir: t.TempDir()}
	l.sw = l.prefix + "-sw"
	l.client = l.prefix + "-c"
	t.Logf("lab %s: %d nodes, VIP %v, state in %s", l.prefix, opts.nodes, opts.vip, l.dir)

	// Namespaces go last: registered first, so they are deleted after the
	// processes inside them are gone.
	var created []string
	t.Cleanup(func() {
		for i := len(created) - 1; i >= 0; i-- {
			if _, err := runCmd(10*time.Second, "ip", "netns", "del", created[i]); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	addNS := func(name string) {
		l.ip("netns", "add", name)
		created = append(created, name)
		l.ip("-n", name, "link", "set", "lo", "up")
	}
	addNS(l.sw)
	l.ip("-n", l.sw, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.sw, "link", "set", "br0", "up")
	// plug connects namespace ns to the bridge through a veth pair whose
	// switch end is port.
	plug := func(ns, port, addr, mac string) {
		addNS(ns)
		l.ip("-n", l.sw, "link", "add", port, "type", "veth", "peer", "name", ifName, "netns", ns)
		l.ip("-n", l.sw, "link", "set", port, "master", "br0")
		l.ip("-n", l.sw, "link", "set", port, "up")
		l.ip("-n", ns, "link", "set", ifName, "address", mac)
		l.ip("-n", ns, "addr", "add", addr+"/24", "dev", ifName)
		l.ip("-n", ns, "link", "set", ifName, "up")
	}
	plug(l.client, "pc", clientIP, "02:00:0a:d5:00:64")
	for i := range opts.nodes {
		n := &Node{lab: l, idx: i, id: fmt.Sprintf("n%d", i+1), ip: fmt.Sprintf("%s%d", labNet, 11+i),
			mac: fmt.Sprintf("02:00:0a:d5:00:%02x", 11+i)}
		n.ns = l.prefix + "-" + n.id
		n.dir = filepath.Join(l.dir, n.id)
		n.logPath = filepath.Join(l.dir, n.id+".log")
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		plug(n.ns, "p"+n.id, n.ip, n.mac)
		l.nodes = append(l.nodes, n)
		t.Cleanup(func() {
			n.kill()
			if t.Failed() {
				b, _ := os.ReadFile(n.logPath)
				t.Logf("---- log of %s (%s) ----\n%s", n.id, n.ip, lastLines(string(b), 80))
			}
			keepLog(t, n)
		})
	}
	if opts.config != "" {
		if err := os.WriteFile(filepath.Join(l.dir, "resolvx.yaml"), []byte(opts.config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l.httpc = &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			// The only way out of this client is the client namespace.
			DialContext:         nsDialer{ns: l.client}.DialContext,
			Proxy:               nil,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	t.Cleanup(l.httpc.CloseIdleConnections)

	if opts.vip {
		// The sampler runs before the first node starts: it sees every
		// holder the lab ever has.
		l.sampler = startSampler(t, l)
	}
	l.nodes[0].start()
	for _, n := range l.nodes[1:] {
		n.start()
	}
	leader := l.waitLeader(30*time.Second, l.nodes, nil)
	eventually(t, 20*time.Second, "every node a voter", func() (bool, string) {
		s, err := leader.clusterStatus()
		if err != nil {
			return false, err.Error()
		}
		voters := 0
		for _, m := range s.Nodes {
			if m.Suffrage == "voter" {
				voters++
			}
		}
		return voters == len(l.nodes), fmt.Sprintf("%d voters", voters)
	})
	if _, err := leader.createZone(labZone); err != nil {
		t.Fatalf("creating zone %s: %v", labZone, err)
	}
	if w := leader.createRecord("probe", "A", probeValue); w.err != nil {
		t.Fatalf("creating %s: %v", probeName, w.err)
	}
	for _, n := range l.nodes {
		l.waitAnswer(n.ip, probeName, probeValue, 10*time.Second)
	}
	if opts.vip {
		l.waitVIPOn(leader, 10*time.Second)
	}
	return l
}

// keepLog copies the node's log to RESOLVX_LAB_LOGS/<test>/<node>.log when
// that is set (make lab-bench sets it), to study a run that passed.
func keepLog(t *testing.T, n *Node) {
	dir := os.Getenv("RESOLVX_LAB_LOGS")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, strings.NewReplacer("/", "_", "|", "-").Replace(t.Name()))
	b, err := os.ReadFile(n.logPath)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, n.id+".log"), b, 0o644)
	}
	if err != nil {
		t.Logf("keeping %s's log: %v", n.id, err)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ---- node processes ----

func (n *Node) apiURL() string      { return "http://" + net.JoinHostPort(n.ip, apiPort) }
func (n *Node) clusterAddr() string { return net.JoinHostPort(n.ip, clusterPort) }
func (n *Node) dnsAddr() string     { return net.JoinHostPort(n.ip, dnsPort) }

// serverArgs is the command line of the node's server.
func (n *Node) serverArgs() []string {
	args := []string{"netns", "exec", n.ns, binPath, "server",
		"--node-id", n.id,
		"--data-dir", filepath.Join(n.dir, "data"),
		"--dns-listen", "0.0.0.0:" + dnsPort,
		"--api-listen", net.JoinHostPort(n.ip, apiPort),
		"--cluster-listen", n.clusterAddr(),
		"--log-level", logLevel(),
	}
	if n.lab.opts.config != "" {
		args = append(args, "--config", filepath.Join(n.lab.dir, "resolvx.yaml"))
	}
	// The first node of a new lab bootstraps; every other start joins
	// through all the other members (joining is idempotent and retried).
	if n.idx != 0 || n.starts > 0 {
		var join []string
		for _, o := range n.lab.nodes {
			if o != n {
				join = append(join, o.clusterAddr())
			}
		}
		args = append(args, "--join", strings.Join(join, ","))
	}
	if n.lab.opts.vip {
		args = append(args, "--vip", vipCIDR, "--vip-interface", ifName)
	}
	return args
}

func logLevel() string {
	if v := os.Getenv("RESOLVX_LAB_LOG_LEVEL"); v != "" {
		return v
	}
	return "info"
}

// start runs the server in its namespace and waits until its API answers.
func (n *Node) start() {
	t := n.lab.t
	t.Helper()
	n.mu.Lock()
	if n.cmd != nil {
		n.mu.Unlock()
		t.Fatalf("%s: already running", n.id)
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		n.mu.Unlock()
		t.Fatal(err)
	}
	args := n.serverArgs()
	fmt.Fprintf(logf, "==== %s start #%d: ip %s\n", time.Now().Format(time.RFC3339Nano), n.starts+1, strings.Join(args, " "))
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "RESOLVX_API=")
	// A crashed test run must not leave servers behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := startProcess(cmd); err != nil {
		n.mu.Unlock()
		logf.Close()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	n.cmd, n.exited, n.stopped = cmd, exited, false
	n.starts++
	n.mu.Unlock()

	eventually(t, 20*time.Second, n.id+" API up", func() (bool, string) {
		select {
		case <-exited:
			b, _ := os.ReadFile(n.logPath)
			t.Fatalf("%s exited during startup:\n%s", n.id, lastLines(string(b), 30))
		default:
		}
		resp, err := n.lab.httpc.Get(n.apiURL() + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
}

func (n *Node) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// pid is the server's pid: `ip netns exec` execs the server in place.
func (n *Node) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// signal sends sig to this node's server (by its pid, which we started).
// For SIGKILL and SIGTERM it waits for the process to exit.
func (n *Node) signal(sig syscall.Signal) time.Time {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return time.Time{}
	}
	at := time.Now()
	_ = cmd.Process.Signal(sig)
	switch sig {
	case syscall.SIGSTOP:
		n.mu.Lock()
		n.stopped = true
		n.mu.Unlock()
	case syscall.SIGCONT:
		n.mu.Lock()
		n.stopped = false
		n.mu.Unlock()
	case syscall.SIGKILL, syscall.SIGTERM:
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			n.lab.t.Errorf("%s did not exit within 20 s of %v", n.id, sig)
		}
		n.mu.Lock()
		n.cmd, n.stopped = nil, false
		n.mu.Unlock()
	}
	return at
}

func (n *Node) kill() time.Time { return n.signal(syscall.SIGKILL) }

// cli runs the resolvx CLI inside the node's namespace against its API.
func (n *Node) cli(args ...string) (string, error) {
	full := append([]string{"netns", "exec", n.ns, binPath, "--api", n.apiURL()}, args...)
	return runCmd(15*time.Second, "ip", full...)
}

// ---- API ----

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error *apiError       `json:"error"`
	Index *uint64         `json:"index"`
}

// nodeStatus is GET /api/v1/status.
type nodeStatus struct {
	NodeID       string `json:"node_id"`
	Leader       string `json:"leader"`
	IsLeader     bool   `json:"is_leader"`
	ReadOnly     bool   `json:"read_only"`
	Records      int    `json:"records"`
	AppliedIndex uint64 `json:"applied_index"`
}

// clusterStatus is GET /api/v1/cluster (and `resolvx cluster status --json`).
type clusterStatus struct {
	NodeID       string `json:"node_id"`
	IsLeader     bool   `json:"is_leader"`
	Leader       string `json:"leader"`
	VIP          string `json:"vip"`
	ReadOnly     bool   `json:"read_only"`
	AppliedIndex uint64 `json:"applied_index"`
	Nodes        []struct {
		ID       string `json:"id"`
		Address  string `json:"address"`
		Status   string `json:"status"`
		IsLeader bool   `json:"is_leader"`
		Suffrage string `json:"suffrage"`
		VIPHeld  *bool  `json:"vip_held"`
	} `json:"nodes"`
}

// call does one API request and decodes the envelope. It returns the HTTP
// status (0 when no reply came).
func (n *Node) call(method, path string, body any, timeout time.Duration) (int, envelope, error) {
	var env envelope
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, env, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, n.apiURL()+path, rd)
	if err != nil {
		return 0, env, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.lab.httpc.Do(req)
	if err != nil {
		return 0, env, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, env, err
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return resp.StatusCode, env, fmt.Errorf("%s %s: %d: not an envelope: %q", method, path, resp.StatusCode, b)
	}
	if env.Error != nil {
		return resp.StatusCode, env, fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, env.Error.Code, env.Error.Message)
	}
	return resp.StatusCode, env, nil
}

func (n *Node) status() (nodeStatus, error) {
	var s nodeStatus
	_, env, err := n.call("GET", "/api/v1/status", nil, 2*time.Second)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(env.Data, &s)
}

func (n *Node) clusterStatus() (clusterStatus, error) {
	var s clusterStatus
	_, env, err := n.call("GET", "/api/v1/cluster", nil, 3*time.Second)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(env.Data, &s)
}

func (n *Node) createZone(name string) (uint64, error) {
	_, env, err := n.call("POST", "/api/v1/zones", map[string]string{"name": name}, 5*time.Second)
	if err != nil {
		return 0, err
	}
	if env.Index == nil {
		return 0, errors.New("write reply without index")
	}
	return *env.Index, nil
}

// writeResult is the outcome of one write.
type writeResult struct {
	node     string
	name     string
	value    string
	status   int // HTTP status; 0 when no reply came
	code     string
	index    uint64
	id       string
	start    time.Time
	duration time.Duration
	err      error
}

func (w writeResult) acked() bool { return w.err == nil && w.status/100 == 2 && w.index > 0 }

// createRecord adds name TYPE value to the lab zone through this node.
func (n *Node) createRecord(name, typ, value string) writeResult {
	ttl := 60
	w := writeResult{node: n.id, name: name, value: value, start: time.Now()}
	status, env, err := n.call("POST", "/api/v1/zones/"+labZone+"/records",
		map[string]any{"name": name, "type": typ, "value": value, "ttl": ttl}, 5*time.Second)
	w.duration = time.Since(w.start)
	w.status, w.err = status, err
	if env.Error != nil {
		w.code = env.Error.Code
	}
	if err == nil {
		if env.Index != nil {
			w.index = *env.Index
		}
		var rec struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(env.Data, &rec) == nil {
			w.id = rec.ID
		}
	}
	return w
}

// recordIDs lists the lab zone's record ids on this node from its own
// state (stale read), so it works on a node without quorum.
func (n *Node) recordIDs() (map[string]bool, error) {
	_, env, err := n.call("GET", "/api/v1/zones/"+labZone+"/records?consistency=stale", nil, 3*time.Second)
	if err != nil {
		return nil, err
	}
	var recs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(env.Data, &recs); err != nil {
		// The list may be wrapped in an object.
		var wrapped struct {
			Records []struct {
				ID string `json:"id"`
			} `json:"records"`
		}
		if err2 := json.Unmarshal(env.Data, &wrapped); err2 != nil {
			return nil, fmt.Errorf("records list: %w: %s", err, env.Data)
		}
		recs = wrapped.Records
	}
	ids := make(map[string]bool, len(recs))
	for _, r := range recs {
		ids[r.ID] = true
	}
	return ids, nil
}

// ---- waiting ----

// eventually polls cond every 20 ms until it holds or timeout passes; on
// timeout the test fails with cond's last detail.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		ok, detail := cond()
		if ok {
			return time.Since(start)
		}
		last = detail
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s (last: %s)", timeout, what, last)
		}
		<-tick.C
	}
}

// waitLeader waits until every node of among that is running and not
// frozen reports the same leader, which is one of them, not in exclude,
// and says it leads. It returns the leader.
func (l *Lab) waitLeader(timeout time.Duration, among []*Node, exclude []*Node) *Node {
	l.t.Helper()
	var leader *Node
	eventually(l.t, timeout, "the nodes agree on a leader", func() (bool, string) {
		leader = nil
		var id string
		for _, n := range among {
			if !n.running() || n.isStopped() {
				continue
			}
			s, err := n.status()
			if err != nil {
				return false, fmt.Sprintf("%s: %v", n.id, err)
			}
			if s.Leader == "" {
				return false, n.id + " knows no leader"
			}
			if id != "" && s.Leader != id {
				return false, fmt.Sprintf("%s says %s, another says %s", n.id, s.Leader, id)
			}
			id = s.Leader
		}
		leader = l.byID(id)
		if leader == nil {
			return false, fmt.Sprintf("leader %q is not a lab node", id)
		}
		for _, x := range exclude {
			if x == leader {
				return false, "leader is still " + id
			}
		}
		found := false
		for _, n := range among {
			found = found || n == leader
		}
		if !found {
			return false, "leader " + id + " is outside the group"
		}
		s, err := leader.status()
		if err != nil || !s.IsLeader {
			return false, fmt.Sprintf("%s does not say it leads (%v)", id, err)
		}
		return true, ""
	})
	return leader
}

func (n *Node) isStopped() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopped
}

func (l *Lab) byID(id string) *Node {
	for _, n := range l.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// others returns the lab's nodes except the given ones.
func (l *Lab) others(except ...*Node) []*Node {
	var out []*Node
next:
	for _, n := range l.nodes {
		for _, x := range except {
			if n == x {
				continue next
			}
		}
		out = append(out, n)
	}
	return out
}

// waitAnswer waits until the DNS server at addr (a node's or the VIP)
// answers name A with want, asked from the client namespace.
func (l *Lab) waitAnswer(addr, name, want string, timeout time.Duration) {
	l.t.Helper()
	eventually(l.t, timeout, fmt.Sprintf("%s answers %s A %s", addr, name, want), func() (bool, string) {
		got, err := l.queryA(addr, name)
		if err != nil {
			return false, err.Error()
		}
		return strings.Join(got, ",") == want, strings.Join(got, ",")
	})
}

// watch polls cond every 20 ms in the background, from now until timeout,
// and delivers the time at which the first call that held began (zero on
// timeout): a status read reflects the node's state when the request left,
// not when a slow reply came back. It lets a test time several things that
// happen at once after one fault.
func watch(timeout time.Duration, cond func() bool) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		deadline := time.Now().Add(timeout)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			at := time.Now()
			if cond() {
				ch <- at
				return
			}
			if time.Now().After(deadline) {
				ch <- time.Time{}
				return
			}
			<-tick.C
		}
	}()
	return ch
}

// latest waits for every channel and returns the latest time (zero if any
// delivered zero).
func latest(chs []<-chan time.Time) time.Time {
	var last time.Time
	zero := false
	for _, ch := range chs {
		at := <-ch
		zero = zero || at.IsZero()
		if at.After(last) {
			last = at
		}
	}
	if zero {
		return time.Time{}
	}
	return last
}

// localRole is the node's own Raft state from GET /api/v1/cluster/node
// (no fan-out to the other members, so it answers fast in a partition).
func (n *Node) localRole() (string, error) {
	_, env, err := n.call("GET", "/api/v1/cluster/node", nil, 2*time.Second)
	if err != nil {
		return "", err
	}
	var s struct {
		Status string `json:"status"`
	}
	return s.Status, json.Unmarshal(env.Data, &s)
}

// clientNeigh returns the client's neighbour entry for the VIP: its link
// address (or "") and state.
func (l *Lab) clientNeigh() (mac, state string) {
	out, err := runCmd(5*time.Second, "ip", "-n", l.client, "neigh", "show", vipIP, "dev", ifName)
	if err != nil {
		return "", fmt.Sprint(err)
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "lladdr" {
			mac = f[i+1]
		}
	}
	if len(f) > 0 {
		state = f[len(f)-1]
	}
	return mac, state
}
