package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/resolvx/resolvx/api"
	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/gtm"
)

// explain prints the query, where the client is, the policy, every
// endpoint with its verdict, weight, priority and region, the choice with
// its reason, then the answer.
func TestPrintExplanation(t *testing.T) {
	e := gtm.Explanation{
		Name: "www.example.com.", Type: "A", Client: "203.0.113.9", ECS: "198.51.100.0/24",
		Location: gtm.Location{Country: "DE", Continent: "EU"}, Scope: 24,
		Policy: &gtm.Policy{Name: "www-geo", Zone: "example.com.", Record: "www", Type: gtm.Geographic, TTL: 30},
		Endpoints: []gtm.ExplainedEndpoint{
			{Endpoint: gtm.Endpoint{ID: "eu", Address: "192.0.2.10", Weight: 1, Region: "EU"}, Verdict: gtm.Healthy, Chosen: true},
			{Endpoint: gtm.Endpoint{ID: "na", Address: "192.0.2.20", Weight: 2, Priority: 1, Region: "NA"}, Verdict: gtm.Unhealthy},
			{Endpoint: gtm.Endpoint{ID: "any", Address: "192.0.2.30", Region: "*", Disabled: true}, LatencyMS: 12.25},
		},
		Decision: &gtm.ExplainedDecision{Chosen: []string{"eu"}, Region: "EU", Reason: "healthy endpoint in region EU"},
		Rcode:    "NOERROR",
		Answer:   []string{"www.example.com.\t30\tIN\tA\t192.0.2.10"},
	}
	var b strings.Builder
	if err := printExplanation(&b, e); err != nil {
		t.Fatal(err)
	}
	// tabwriter pads the empty last cells; trailing spaces do not matter.
	trim := func(s string) string {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		return strings.Join(lines, "\n")
	}
	want := `query     www.example.com. A from 203.0.113.9, client subnet 198.51.100.0/24
client    country DE, continent EU (by the client subnet; ECS scope /24)
policy    www-geo (geographic), TTL 30, fallback all

ENDPOINT  ADDRESS     VERDICT    WEIGHT  PRIORITY  REGION  DISABLED  LATENCY  CHOSEN
eu        192.0.2.10  healthy    1       0         EU      no        -        <-
na        192.0.2.20  unhealthy  2       1         NA      no        -
any       192.0.2.30  unknown    0       0         *       yes       12.2ms

choice    eu: healthy endpoint in region EU [region EU]
answer    NOERROR
          www.example.com. 30 IN A 192.0.2.10
`
	if trim(b.String()) != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}

	// A name without a policy, a fallback to NODATA.
	b.Reset()
	if err := printExplanation(&b, gtm.Explanation{Name: "mail.example.com.", Type: "MX", Client: "192.0.2.1", Rcode: "NOERROR"}); err != nil {
		t.Fatal(err)
	}
	want = `query     mail.example.com. MX from 192.0.2.1
client    unknown location (by the source address)
policy    none: the name answers from its ordinary records
answer    NOERROR, no records
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	_ = printExplanation(&b, gtm.Explanation{Name: "x.", Type: "A", Client: "192.0.2.1", Policy: &gtm.Policy{Name: "p", Type: gtm.Failover, Fallback: "nodata"},
		Decision: &gtm.ExplainedDecision{NoData: true, Fallback: true, Reason: "no healthy endpoint; fallback nodata"}, Rcode: "NOERROR"})
	if !strings.Contains(b.String(), "choice    no endpoint: no healthy endpoint; fallback nodata [fallback: no endpoint was usable; NODATA]\n") {
		t.Fatalf("fallback:\n%s", b.String())
	}
}

// policy create reads JSON and YAML strictly.
func TestReadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(yml, []byte(`name: web
zone: example.com
record: www
type: weighted
endpoints:
  - {id: a, address: 192.0.2.1, weight: 70}
  - {id: b, address: 192.0.2.2, weight: 30}
health_check:
  type: http
  interval: 10s
  headers: {Host: www.example.com}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := readPolicyFile(yml, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "web" || len(p.Endpoints) != 2 || p.Endpoints[1].Weight != 30 || p.HealthCheck == nil || p.HealthCheck.Headers["Host"] != "www.example.com" {
		t.Fatalf("yaml: %+v", p)
	}
	p, err = readPolicyFile("-", strings.NewReader(`{"name":"x","type":"failover","endpoints":[{"id":"a","address":"192.0.2.1"}]}`))
	if err != nil || p.Name != "x" || p.Type != gtm.Failover {
		t.Fatalf("stdin json: %+v %v", p, err)
	}
	for body, want := range map[string]string{
		`{"name":"x","weights":[1]}`:                 `unknown field "weights"`,
		"name: x\nendpoints:\n  - {id: a, wat: 1}\n": `unknown field "wat"`,
		`{"endpoints":[{"id":"a","weight":"ten"}]}`:  `field "endpoints.weight": must be a whole number, not a string`,
		"": "empty",
	} {
		if _, err := readPolicyFile("-", strings.NewReader(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
}

// The health table shows the verdict beside the node's observation.
func TestPrintPolicyHealth(t *testing.T) {
	var b strings.Builder
	err := printPolicyHealth(&b, api.PolicyHealth{Name: "web", Type: gtm.Weighted, Error: "node n3: connection refused",
		Endpoints: []api.EndpointHealth{{ID: "a", Address: "192.0.2.1", Status: gtm.Unhealthy, ConsecutiveFailures: 3, LastError: "timeout", ObservedBy: "n1",
			Observations: []api.NodeObservation{{Node: "n1", Status: gtm.Unhealthy, ConsecutiveFailures: 3, LastError: "timeout"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"policy web (weighted)\n", "note: node n3: connection refused", "a         192.0.2.1  unhealthy", "observations by node:", "n1    unhealthy"} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("no %q in\n%s", want, b.String())
		}
	}
}

// oneNode applies commands straight to the FSM, as a one-node Raft would.
type oneNode struct {
	mu    sync.Mutex
	f     *fsm.FSM
	index uint64
}

func (n *oneNode) Apply(_ context.Context, b []byte) (uint64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.index++
	if err, ok := n.f.Apply(&raft.Log{Index: n.index, Type: raft.LogCommand, Data: b}).(error); ok {
		return 0, err
	}
	return n.index, nil
}

func (n *oneNode) Status(context.Context) cluster.Status { return cluster.Status{NodeID: "n1"} }
func (n *oneNode) LocalStatus() cluster.NodeStatus       { return cluster.NodeStatus{ID: "n1"} }
func (n *oneNode) ReadBarrier(context.Context, cluster.Consistency) error {
	return nil
}
func (n *oneNode) Leave(context.Context) error          { return nil }
func (n *oneNode) Remove(context.Context, string) error { return nil }

// The policy commands, end to end against an API over a real FSM.
func TestPolicyCommands(t *testing.T) {
	f := fsm.New(nil)
	node := &oneNode{f: f}
	w := fsm.NewWriter(f, node)
	srv := httptest.NewServer(api.New(api.Config{Writer: w, State: f, Cluster: node, Policies: w, PolicyState: policyReader{f}, Explainer: explainer{f: f}}))
	defer srv.Close()
	if _, err := w.CreateZone(context.Background(), "example.com"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "web.json")
	if err := os.WriteFile(file, []byte(`{"name":"web","zone":"example.com","record":"www","type":"weighted",
		"endpoints":[{"id":"a","address":"192.0.2.1","weight":70},{"id":"b","address":"192.0.2.2","weight":30}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, int) {
		var out, errOut strings.Builder
		code := run(append([]string{"--api", srv.URL}, args...), &out, &errOut)
		return out.String() + errOut.String(), code
	}
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"policy", "create", "-f", file}, 0, "created policy web (weighted, 2 endpoints) (raft index 2)"},
		{[]string{"policy", "create", "-f", file}, 1, `error: policy "web" already exists; PUT /api/v1/policies/web replaces it`},
		{[]string{"policy", "create", "--replace", "-f", file}, 0, "stored policy web"},
		{[]string{"policy", "list"}, 0, "web   weighted  www.example.com.  30   2          -"},
		{[]string{"policy", "set-weight", "web", "b", "50"}, 0, "set the weight of web/b to 50"},
		{[]string{"policy", "set-weight", "web", "b", "lots"}, 1, `weight "lots" is not a whole number`},
		{[]string{"policy", "set-weight", "web", "b", "--", "-1"}, 1, `error: invalid policy: endpoint "b" has a negative weight`},
		{[]string{"policy", "drain", "web", "a"}, 0, "drained web/a"},
		{[]string{"policy", "get", "web"}, 0, "a         192.0.2.1  70      0         -       yes"},
		{[]string{"policy", "drain", "--undo", "web", "a"}, 0, "re-enabled web/a"},
		{[]string{"--json", "policy", "get", "web"}, 0, `"weight": 50`},
		{[]string{"policy", "health", "web"}, 0, "note: this node does not collect health observations"},
		{[]string{"policy", "health"}, 0, "policy web (weighted)"},
		{[]string{"explain", "www.example.com", "--client", "192.0.2.77"}, 0, "policy    web (weighted), TTL 30, fallback all"},
		{[]string{"explain", "www.example.com", "--client", "192.0.2.77", "--ecs", "198.51.100.0/24"}, 0, "answer    NOERROR\n          www.example.com. 30 IN A 192.0.2."},
		{[]string{"explain", "www.example.com", "--type", "BOGUS"}, 1, `query parameter type: "BOGUS" is not a DNS record type`},
		{[]string{"policy", "delete", "web"}, 0, "deleted policy web"},
		{[]string{"policy", "get", "web"}, 1, `policy "web" not found`},
	}
	for _, s := range steps {
		out, code := cli(s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("resolvx %s: exit %d\n%s\nwant exit %d with %q", strings.Join(s.args, " "), code, out, s.code, s.want)
		}
	}
}
