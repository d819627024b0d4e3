package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// fsmPolicies is the adapter resolvx uses (cmd/resolvx/gtmadapters.go).
type fsmPolicies struct{ f *fsm.FSM }

func (p fsmPolicies) PolicyState() PolicySnapshot { return p.f.State() }

// The real implementations satisfy the interfaces the API declares.
func TestPolicyInterfaces(t *testing.T) {
	var (
		_ PolicyWriter   = (*fsm.Writer)(nil)
		_ PolicySnapshot = (*fsm.State)(nil)
	)
}

// fakeHealth returns fixed observations, and err beside them.
type fakeHealth struct {
	mu  sync.Mutex
	obs []gtm.Observation
	err error
}

func (h *fakeHealth) Observations(context.Context) ([]gtm.Observation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.obs, h.err
}

// fakeExplainer records its last call and explains nothing.
type fakeExplainer struct {
	mu     sync.Mutex
	name   string
	qtype  uint16
	client netip.Addr
	ecs    netip.Prefix
}

func (e *fakeExplainer) Explain(name string, qtype uint16, client netip.Addr, ecs netip.Prefix) gtm.Explanation {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.name, e.qtype, e.client, e.ecs = name, qtype, client, ecs
	return gtm.Explanation{Name: name, Type: "A", Client: client.String(), Rcode: "NOERROR", Answer: []string{name + "\t30\tIN\tA\t192.0.2.7"}}
}

func (e *fakeExplainer) last() (string, uint16, netip.Addr, netip.Prefix) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.name, e.qtype, e.client, e.ecs
}

// policyAPI is a testAPI that also serves policies, health and explain.
type policyAPI struct {
	*testAPI
	writer    *fsm.Writer
	health    *fakeHealth
	explainer *fakeExplainer
}

// newPolicyAPI returns an API over a real FSM holding zone example.com
// with www A 192.0.2.1.
func newPolicyAPI(t *testing.T) *policyAPI {
	t.Helper()
	f := fsm.New(nil)
	ap := &fakeApplier{f: f}
	cl := &fakeCluster{status: cluster.Status{
		NodeID: "n1", IsLeader: true, Leader: "n1",
		Nodes: []cluster.NodeStatus{{ID: "n1", Status: "leader", IsLeader: true, Suffrage: "voter"}},
	}}
	w := fsm.NewWriter(f, ap)
	pa := &policyAPI{testAPI: &testAPI{fsm: f, applier: ap, cluster: cl}, writer: w, health: &fakeHealth{}, explainer: &fakeExplainer{}}
	pa.handler = New(Config{
		Writer: w, State: f, Cluster: cl,
		Policies: w, PolicyState: fsmPolicies{f}, HealthReports: pa.health, Explainer: pa.explainer,
	})
	pa.srv = httptest.NewServer(pa.handler)
	t.Cleanup(pa.srv.Close)
	pa.client = NewClient(pa.srv.URL, pa.srv.Client())
	ctx := context.Background()
	mustWrite[ZoneInfo](t)(pa.client.CreateZone(ctx, "example.com"))
	mustWrite[zone.Record](t)(pa.client.CreateRecord(ctx, "example.com", RecordRequest{Name: "www", Type: "A", Value: "192.0.2.1"}))
	return pa
}

func weighted(name, record string, weights ...int) gtm.Policy {
	p := gtm.Policy{Name: name, Zone: "Example.COM", Record: record, Type: gtm.Weighted}
	for i, w := range weights {
		p.Endpoints = append(p.Endpoints, gtm.Endpoint{ID: string(rune('a' + i)), Address: "192.0.2." + string(rune('1'+i)), Weight: w})
	}
	return p
}

func intp(n int) *int { return &n }

func boolp(b bool) *bool { return &b }

// apiCode is the code of an *Error, "" otherwise.
func apiCode(err error) (string, int) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.HTTPStatus
	}
	return "", 0
}

// Every policy route, through the client the CLI uses.
func TestPolicyClientRoundTrip(t *testing.T) {
	pa := newPolicyAPI(t)
	c, ctx := pa.client, context.Background()

	if ps := must[[]gtm.Policy](t)(c.ListPolicies(ctx)); len(ps) != 0 {
		t.Fatalf("no policies yet: %+v", ps)
	}
	w := mustWrite[gtm.Policy](t)(c.CreatePolicy(ctx, weighted("web", "app", 70, 20, 10)))
	p := w.v
	if p.Name != "web" || p.Zone != "example.com." || p.TTL != gtm.DefaultTTL || len(p.Endpoints) != 3 || p.Endpoints[0].Weight != 70 {
		t.Fatalf("created: %+v", p)
	}
	if pa.fsm.AppliedIndex() != w.index {
		t.Fatalf("reply at %d, applied %d", w.index, pa.fsm.AppliedIndex())
	}
	mustWrite[gtm.Policy](t)(c.CreatePolicy(ctx, weighted("api", "api", 1)))
	ps := must[[]gtm.Policy](t)(c.ListPolicies(ctx))
	if len(ps) != 2 || ps[0].Name != "api" || ps[1].Name != "web" {
		t.Fatalf("list: %+v", ps)
	}
	if got := must[gtm.Policy](t)(c.GetPolicy(ctx, "web")); got.Owner() != "app.example.com." || got.Endpoints[2].Address != "192.0.2.3" {
		t.Fatalf("get: %+v", got)
	}

	// A second create of the name conflicts and points at PUT.
	_, _, err := c.CreatePolicy(ctx, weighted("web", "app", 1))
	if code, status := apiCode(err); code != CodeAlreadyExists || status != 409 || !strings.Contains(err.Error(), "PUT /api/v1/policies/web replaces it") {
		t.Fatalf("create twice: %v", err)
	}
	// PUT replaces it, and creates one that does not exist.
	rep := mustWrite[gtm.Policy](t)(c.PutPolicy(ctx, weighted("web", "app", 5, 5))).v
	if len(rep.Endpoints) != 2 || rep.Endpoints[0].Weight != 5 {
		t.Fatalf("replaced: %+v", rep)
	}
	status, env, raw := pa.do(t, "PUT", "/api/v1/policies/new", `{"zone":"example.com","record":"new","type":"failover","endpoints":[{"id":"p","address":"192.0.2.9","priority":1},{"id":"s","address":"192.0.2.10","priority":2}]}`)
	if status != 201 || env.Index == 0 {
		t.Fatalf("PUT of a new policy: %d %s", status, raw)
	}
	var created gtm.Policy
	if err := json.Unmarshal(env.Data, &created); err != nil || created.Name != "new" || created.Type != gtm.Failover {
		t.Fatalf("PUT without a body name takes the path's: %s", raw)
	}

	// Patches: a weight, a drain, its undo.
	pw := mustWrite[gtm.Policy](t)(c.PatchEndpoint(ctx, "web", "b", gtm.EndpointPatch{Weight: intp(9)}))
	if pw.v.Endpoints[1].Weight != 9 || pw.v.Endpoints[0].Weight != 5 {
		t.Fatalf("patched weight: %+v", pw.v)
	}
	if got, _ := pa.fsm.State().Policy("web"); got.Endpoints[1].Weight != 9 {
		t.Fatalf("the weight was not applied: %+v", got)
	}
	drained := mustWrite[gtm.Policy](t)(c.PatchEndpoint(ctx, "web", "a", gtm.EndpointPatch{Disabled: boolp(true)})).v
	if !drained.Endpoints[0].Disabled {
		t.Fatalf("drained: %+v", drained)
	}
	undone := mustWrite[gtm.Policy](t)(c.PatchEndpoint(ctx, "web", "a", gtm.EndpointPatch{Disabled: boolp(false)})).v
	if undone.Endpoints[0].Disabled || undone.Endpoints[1].Weight != 9 {
		t.Fatalf("undrained: %+v", undone)
	}

	// Delete.
	if _, err := c.DeletePolicy(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPolicy(ctx, "web"); err == nil {
		t.Fatal("a deleted policy is still there")
	} else if code, status := apiCode(err); code != CodeNotFound || status != 404 {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := c.DeletePolicy(ctx, "web"); err == nil {
		t.Fatal("deleting twice succeeds")
	} else if code, _ := apiCode(err); code != CodeNotFound {
		t.Fatalf("delete twice: %v", err)
	}

	// Reads honour ?consistency=.
	if _, err := c.WithConsistency(cluster.Linearizable).ListPolicies(ctx); err != nil {
		t.Fatal(err)
	}
	if pa.cluster.lastLevel() != cluster.Linearizable {
		t.Fatalf("read level %q", pa.cluster.lastLevel())
	}
	if _, err := c.PolicyHealth(ctx, "api"); err != nil || pa.cluster.lastLevel() != cluster.Leader {
		t.Fatalf("health reads at leader by default: %v %q", err, pa.cluster.lastLevel())
	}
}

// Writes without quorum fail with 503 and apply nothing.
func TestPolicyNoQuorum(t *testing.T) {
	pa := newPolicyAPI(t)
	pa.applier.fail(cluster.ErrNoQuorum)
	_, _, err := pa.client.CreatePolicy(context.Background(), weighted("web", "app", 1))
	if code, status := apiCode(err); code != CodeNoQuorum || status != 503 {
		t.Fatalf("got %v", err)
	}
	if len(pa.fsm.State().Policies()) != 0 {
		t.Fatal("a policy was applied without quorum")
	}
}

// The health routes show the committed verdict beside every node's own
// observation, this node's first.
func TestPolicyHealth(t *testing.T) {
	pa := newPolicyAPI(t)
	c, ctx := pa.client, context.Background()
	p := weighted("web", "app", 1, 1, 1)
	p.Type = gtm.Latency
	p.HealthCheck = &gtm.HealthCheck{Type: "tcp", Port: 80}
	mustWrite[gtm.Policy](t)(c.CreatePolicy(ctx, p))
	mustWrite[gtm.Policy](t)(c.CreatePolicy(ctx, weighted("api", "api", 1)))
	if _, err := pa.writer.SetVerdicts(ctx, "web", gtm.Verdicts{
		Health:    map[string]gtm.Health{"a": gtm.Healthy, "b": gtm.Unhealthy},
		Preferred: "a", LatencyMS: map[string]float64{"a": 4.5},
	}, nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pa.health.obs = []gtm.Observation{
		// a: n1 is this node; n3 is fresher but n1's own view is shown.
		{Node: "n3", Policy: "web", Endpoint: "a", Status: gtm.Healthy, LastCheck: t0.Add(2 * time.Second), LatencyMS: 6},
		{Node: "n1", Policy: "web", Endpoint: "a", Status: gtm.Healthy, LastCheck: t0, LatencyMS: 4},
		{Node: "n2", Policy: "web", Endpoint: "a", Status: gtm.Healthy, LastCheck: t0.Add(time.Second), LatencyMS: 5},
		// b: this node has no view; the freshest other node's is shown.
		{Node: "n2", Policy: "web", Endpoint: "b", Status: gtm.Unhealthy, LastCheck: t0.Add(time.Second), ConsecutiveFailures: 3, LastError: "connection refused"},
		{Node: "n3", Policy: "web", Endpoint: "b", Status: gtm.Unhealthy, LastCheck: t0.Add(3 * time.Second), ConsecutiveFailures: 4, LastError: "timeout"},
		{Node: "n4", Policy: "api", Endpoint: "a", Status: gtm.Healthy, LastCheck: t0},
	}
	pa.health.err = errors.New("node n5 (10.0.0.5:7946): connection refused")

	ph := must[PolicyHealth](t)(c.PolicyHealth(ctx, "web"))
	if ph.Name != "web" || ph.Type != gtm.Latency || ph.Preferred != "a" || len(ph.Endpoints) != 3 {
		t.Fatalf("policy health: %+v", ph)
	}
	if strings.Join(ph.Nodes, ",") != "n1,n2,n3" || !strings.Contains(ph.Error, "n5") {
		t.Fatalf("nodes %v, error %q", ph.Nodes, ph.Error)
	}
	a, b, cc := ph.Endpoints[0], ph.Endpoints[1], ph.Endpoints[2]
	if a.ID != "a" || a.Address != "192.0.2.1" || a.Status != gtm.Healthy || a.ObservedBy != "n1" || a.LatencyMS != 4 ||
		a.LastCheck == nil || !a.LastCheck.Equal(t0) || a.VerdictLatencyMS == nil || *a.VerdictLatencyMS != 4.5 {
		t.Fatalf("endpoint a: %+v", a)
	}
	if len(a.Observations) != 3 || a.Observations[0].Node != "n1" || a.Observations[1].Node != "n2" || a.Observations[2].LatencyMS != 6 {
		t.Fatalf("observations of a: %+v", a.Observations)
	}
	if b.Status != gtm.Unhealthy || b.ObservedBy != "n3" || b.ConsecutiveFailures != 4 || b.LastError != "timeout" || len(b.Observations) != 2 {
		t.Fatalf("endpoint b: %+v", b)
	}
	if cc.Status != gtm.HealthUnknown || cc.LastCheck != nil || cc.ObservedBy != "" || len(cc.Observations) != 0 {
		t.Fatalf("endpoint c, never observed: %+v", cc)
	}
	// The JSON has the field names of the issue.
	_, env, raw := pa.do(t, "GET", "/api/v1/policies/web/health", "")
	for _, field := range []string{`"status":"unhealthy"`, `"last_check":null`, `"latency_ms":`, `"consecutive_failures":4`, `"last_error":"timeout"`, `"disabled":false`, `"observations":[]`, `"node":"n2"`, `"preferred":"a"`} {
		if !strings.Contains(string(env.Data), field) {
			t.Fatalf("no %s in %s", field, raw)
		}
	}

	rep := must[HealthReport](t)(c.Health(ctx))
	if len(rep.Policies) != 2 || rep.Policies[0].Name != "api" || rep.Policies[1].Name != "web" || strings.Join(rep.Nodes, ",") != "n1,n2,n3,n4" || !strings.Contains(rep.Error, "n5") {
		t.Fatalf("health: %+v", rep)
	}
	if rep.Policies[1].Nodes != nil || rep.Policies[0].Endpoints[0].ObservedBy != "n4" {
		t.Fatalf("health entries: %+v", rep.Policies)
	}
	if _, err := c.PolicyHealth(ctx, "nope"); err == nil {
		t.Fatal("health of a missing policy")
	} else if code, _ := apiCode(err); code != CodeNotFound {
		t.Fatal(err)
	}
}

// Without observations the health routes still show the committed
// verdicts, and say why observations are missing; without a policy store
// or an explainer the routes answer 501.
func TestPolicyRoutesUnconfigured(t *testing.T) {
	pa := newPolicyAPI(t)
	mustWrite[gtm.Policy](t)(pa.client.CreatePolicy(context.Background(), weighted("web", "app", 1)))

	bare := New(Config{Writer: pa.writer, State: pa.fsm, Cluster: pa.cluster, PolicyState: fsmPolicies{pa.fsm}})
	srv := httptest.NewServer(bare)
	defer srv.Close()
	c := NewClient(srv.URL, srv.Client())
	rep := must[HealthReport](t)(c.Health(context.Background()))
	if len(rep.Policies) != 1 || rep.Policies[0].Endpoints[0].Status != gtm.HealthUnknown || !strings.Contains(rep.Error, "does not collect health observations") {
		t.Fatalf("health without reports: %+v", rep)
	}
	// Reads work without the writer; writes do not.
	if _, err := c.GetPolicy(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.CreatePolicy(context.Background(), weighted("x", "x", 1))
	if code, status := apiCode(err); code != CodeNotImplemented || status != 501 {
		t.Fatalf("create without a policy writer: %v", err)
	}
	_, err = c.Explain(context.Background(), ExplainQuery{Name: "www.example.com"})
	if code, status := apiCode(err); code != CodeNotImplemented || status != 501 || !strings.Contains(err.Error(), "explain") {
		t.Fatalf("explain without an explainer: %v", err)
	}

	none := httptest.NewServer(New(Config{Writer: pa.writer, State: pa.fsm, Cluster: pa.cluster}))
	defer none.Close()
	for _, path := range []string{"/policies", "/policies/web", "/policies/web/health", "/health"} {
		resp, err := none.Client().Get(none.URL + "/api/v1" + path)
		if err != nil {
			t.Fatal(err)
		}
		var env replyEnvelope
		_ = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if resp.StatusCode != 501 || env.Error == nil || env.Error.Code != CodeNotImplemented {
			t.Fatalf("%s without a policy store: %d %+v", path, resp.StatusCode, env.Error)
		}
	}
}

// Explain passes the parsed query on: type A and the request's address by
// default, the ECS prefix masked.
func TestExplain(t *testing.T) {
	pa := newPolicyAPI(t)
	c, ctx := pa.client, context.Background()
	e := must[gtm.Explanation](t)(c.Explain(ctx, ExplainQuery{Name: "WWW.Example.com"}))
	name, qtype, client, ecs := pa.explainer.last()
	if name != "www.example.com." || qtype != 1 || client != netip.MustParseAddr("127.0.0.1") || ecs.IsValid() {
		t.Fatalf("defaults: %q %d %v %v", name, qtype, client, ecs)
	}
	if e.Rcode != "NOERROR" || len(e.Answer) != 1 {
		t.Fatalf("explanation: %+v", e)
	}
	must[gtm.Explanation](t)(c.Explain(ctx, ExplainQuery{Name: "www.example.com.", Type: "aaaa", Client: "2001:db8::7", ECS: "198.51.100.77/24"}))
	_, qtype, client, ecs = pa.explainer.last()
	if qtype != 28 || client != netip.MustParseAddr("2001:db8::7") || ecs != netip.MustParsePrefix("198.51.100.0/24") {
		t.Fatalf("given: %d %v %v", qtype, client, ecs)
	}
	must[gtm.Explanation](t)(c.Explain(ctx, ExplainQuery{Name: "www.example.com", Client: "::ffff:192.0.2.9"}))
	if _, _, client, _ = pa.explainer.last(); client != netip.MustParseAddr("192.0.2.9") {
		t.Fatalf("a mapped address is unmapped: %v", client)
	}
	// Explain reads this node's state: stale by default.
	if pa.cluster.lastLevel() != cluster.Stale {
		t.Fatalf("explain read level %q", pa.cluster.lastLevel())
	}
}

// Every bad policy, patch or explain request gets a clear 4xx and applies
// nothing.
func TestPolicyBadInput(t *testing.T) {
	pa := newPolicyAPI(t)
	ctx := context.Background()
	mustWrite[gtm.Policy](t)(pa.client.CreatePolicy(ctx, weighted("web", "app", 70, 30)))
	mustWrite[gtm.Policy](t)(pa.client.CreatePolicy(ctx, weighted("solo", "solo", 1)))
	const pols = "/api/v1/policies"
	// pol builds a policy body: a weighted policy at app2 with the
	// endpoints given (JSON), and extra top-level members.
	pol := func(typ, endpoints, extra string) string {
		b := `{"name":"p2","zone":"example.com","record":"app2","type":"` + typ + `","endpoints":` + endpoints
		if extra != "" {
			b += "," + extra
		}
		return b + "}"
	}
	ep1 := `[{"id":"a","address":"192.0.2.1","weight":1}]`
	check := func(hc string) string { return pol("weighted", ep1, `"health_check":`+hc) }
	cases := []struct {
		what         string
		method, path string
		body         string
		status       int
		code         string
		msg          string
	}{
		// Weights.
		{"negative weight", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":-1}]`, ""), 422, CodeValidation, `endpoint "a" has a negative weight`},
		{"all weights zero", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":0},{"id":"b","address":"192.0.2.2"}]`, ""), 422, CodeValidation, "at least one endpoint with a positive weight"},
		{"weight not a number", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":"ten"}]`, ""), 400, CodeInvalidRequest, `field "endpoints[0].weight": must be a whole number`},
		{"weight fractional", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":1},{"id":"b","address":"192.0.2.2","weight":0.5}]`, ""), 400, CodeInvalidRequest, `field "endpoints[1].weight": must be a whole number`},
		{"weight beyond int64", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":99999999999999999999}]`, ""), 400, CodeInvalidRequest, `field "endpoints[0].weight"`},
		{"ttl as a string", "POST", pols, pol("weighted", ep1, `"ttl":"30"`), 400, CodeInvalidRequest, `field "ttl": must be a number`},
		{"ttl out of range", "POST", pols, pol("weighted", ep1, `"ttl":3000000000`), 422, CodeValidation, "ttl 3000000000 is out of range"},
		// Regions.
		{"unknown region", "POST", pols, pol("geographic", `[{"id":"eu","address":"192.0.2.1","region":"EU"},{"id":"x","address":"192.0.2.2","region":"XX"}]`, ""), 422, CodeValidation, `region "XX" is not`},
		{"no region", "POST", pols, pol("geographic", `[{"id":"eu","address":"192.0.2.1"}]`, ""), 422, CodeValidation, `region "" is not`},
		// Shape of the policy.
		{"failover without endpoints", "POST", pols, pol("failover", `[]`, ""), 422, CodeValidation, "a failover policy needs at least one endpoint"},
		{"failover endpoints null", "POST", pols, pol("failover", `null`, ""), 422, CodeValidation, "needs at least one endpoint"},
		{"unknown kind", "POST", pols, pol("roundrobin", ep1, ""), 422, CodeValidation, `type "roundrobin" is not one of`},
		{"duplicate endpoint id", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":1},{"id":"a","address":"192.0.2.2","weight":1}]`, ""), 422, CodeValidation, `endpoint id "a" is used twice`},
		{"mixed address families", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":1},{"id":"b","address":"2001:db8::1","weight":1}]`, ""), 422, CodeValidation, "endpoints mix"},
		{"bad fallback", "POST", pols, pol("weighted", ep1, `"fallback":"zz"`), 422, CodeValidation, `fallback "zz"`},
		{"no name", "POST", pols, `{"zone":"example.com","record":"x","type":"weighted","endpoints":` + ep1 + `}`, 422, CodeValidation, `field "name": the policy name is required`},
		{"name with a slash", "PUT", pols + "/a%2Fb", `{"zone":"example.com","record":"x","type":"weighted","endpoints":` + ep1 + `}`, 422, CodeValidation, "without spaces or '/'"},
		{"body name differs from the path", "PUT", pols + "/other", pol("weighted", ep1, ""), 400, CodeInvalidRequest, `field "name": "p2" is not the policy named in the path ("other")`},
		// Names and records.
		{"records of the same type", "POST", pols, `{"name":"p2","zone":"example.com","record":"www","type":"weighted","endpoints":` + ep1 + `}`, 409, CodeAlreadyExists, "www.example.com. already has A records"},
		{"CNAME policy over records", "POST", pols, `{"name":"p2","zone":"example.com","record":"www","type":"failover","endpoints":[{"id":"a","address":"a.example.net"}]}`, 409, CodeAlreadyExists, "already has A records"},
		{"a second policy for the owner", "POST", pols, `{"name":"p2","zone":"example.com","record":"app","type":"weighted","endpoints":` + ep1 + `}`, 409, CodeAlreadyExists, "policy web already answers app.example.com. A"},
		{"name exists", "POST", pols, strings.Replace(pol("weighted", ep1, ""), `"p2"`, `"web"`, 1), 409, CodeAlreadyExists, `policy "web" already exists; PUT /api/v1/policies/web replaces it`},
		{"zone missing", "POST", pols, strings.Replace(pol("weighted", ep1, ""), "example.com", "example.net", 1), 404, CodeNotFound, "example.net"},
		{"record outside the zone", "POST", pols, strings.Replace(pol("weighted", ep1, ""), `"app2"`, `"www.example.org."`, 1), 422, CodeValidation, "is not a name in zone example.com."},
		// Health checks.
		{"interval below 1s", "POST", pols, check(`{"type":"http","interval":"500ms"}`), 422, CodeValidation, "interval 500ms is below the minimum 1s"},
		{"interval 0.2s", "POST", pols, check(`{"type":"tcp","port":80,"interval":"0.2s"}`), 422, CodeValidation, "below the minimum"},
		{"interval not a duration", "POST", pols, check(`{"type":"http","interval":"often"}`), 400, CodeInvalidRequest, `field "health_check.interval": duration "often"`},
		{"timeout over interval", "POST", pols, check(`{"type":"http","interval":"2s","timeout":"5s"}`), 422, CodeValidation, "timeout 5s must be positive and at most the interval"},
		{"unknown check type", "POST", pols, check(`{"type":"icmp"}`), 422, CodeValidation, `type "icmp" is not one of http, https, tcp, dns`},
		{"file:// check path", "POST", pols, check(`{"type":"http","path":"file:///etc/passwd"}`), 422, CodeValidation, "must be an absolute URL path"},
		{"file:// endpoint", "POST", pols, pol("weighted", `[{"id":"a","address":"file:///etc/passwd","weight":1}]`, `"health_check":{"type":"http"}`), 422, CodeValidation, `address "file:///etc/passwd" is a URL`},
		{"URL endpoint", "POST", pols, pol("failover", `[{"id":"a","address":"http://a.example.net/"}]`, ""), 422, CodeValidation, "is a URL"},
		{"host name with a bad character", "POST", pols, pol("failover", `[{"id":"a","address":"a b.example.net"}]`, ""), 422, CodeValidation, "neither an IP address nor a host name"},
		{"link-local target", "POST", pols, pol("weighted", `[{"id":"a","address":"169.254.10.1","weight":1}]`, `"health_check":{"type":"tcp","port":80}`), 422, CodeValidation, "link-local address 169.254.10.1 is not probed"},
		{"IPv6 link-local target", "POST", pols, pol("weighted", `[{"id":"a","address":"fe80::1","weight":1}]`, `"health_check":{"type":"tcp","port":80}`), 422, CodeValidation, "link-local address"},
		{"cloud-metadata target", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":1},{"id":"m","address":"169.254.169.254","weight":1}]`, `"health_check":{"type":"http"}`), 422, CodeValidation, `endpoint "m": the cloud-metadata address 169.254.169.254`},
		{"cloud-metadata IPv6 target", "POST", pols, pol("weighted", `[{"id":"m","address":"fd00:ec2::254","weight":1}]`, `"health_check":{"type":"http"}`), 422, CodeValidation, "cloud-metadata address"},
		{"tcp check without a port", "POST", pols, check(`{"type":"tcp"}`), 422, CodeValidation, "a tcp check needs a port"},
		// JSON shape.
		{"unknown field", "POST", pols, pol("weighted", ep1, `"weights":[1]`), 400, CodeInvalidRequest, `unknown field "weights" (allowed here: name, zone, record, type, ttl, endpoints`},
		{"unknown endpoint field", "POST", pols, pol("weighted", `[{"id":"a","address":"192.0.2.1","weight":1,"port":80}]`, ""), 400, CodeInvalidRequest, `unknown field "endpoints[0].port" (allowed here: id, address, weight, priority, region, disabled)`},
		{"unknown check field", "POST", pols, check(`{"type":"http","url":"file:///etc/passwd"}`), 400, CodeInvalidRequest, `unknown field "health_check.url"`},
		{"endpoints not an array", "POST", pols, pol("weighted", `{"a":"192.0.2.1"}`, ""), 400, CodeInvalidRequest, `field "endpoints": must be a JSON array`},
		{"malformed JSON", "POST", pols, `{"name":"p2",`, 400, CodeInvalidRequest, "malformed JSON"},
		{"empty body", "POST", pols, ``, 400, CodeInvalidRequest, "body is empty"},
		{"not an object", "POST", pols, `[1]`, 400, CodeInvalidRequest, "must be a JSON object"},
		{"trailing data", "POST", pols, pol("weighted", ep1, "") + `{}`, 400, CodeInvalidRequest, "data after the JSON object"},
		{"body over 1 MiB", "POST", pols, pol("weighted", ep1, `"record":"`+strings.Repeat("x", 1<<20)+`"`), 413, CodeInvalidRequest, "larger than the 1 MiB limit"},
		// Endpoint patches.
		{"patch negative weight", "PATCH", pols + "/web/endpoints/a", `{"weight":-5}`, 422, CodeValidation, "negative weight"},
		{"patch to all zero", "PATCH", pols + "/solo/endpoints/a", `{"weight":0}`, 422, CodeValidation, "at least one endpoint with a positive weight"},
		{"patch weight as a string", "PATCH", pols + "/web/endpoints/a", `{"weight":"5"}`, 400, CodeInvalidRequest, `field "weight": must be a whole number`},
		{"patch disabled as a string", "PATCH", pols + "/web/endpoints/a", `{"disabled":"yes"}`, 400, CodeInvalidRequest, `field "disabled": must be true or false`},
		{"patch unknown field", "PATCH", pols + "/web/endpoints/a", `{"weight":5,"address":"192.0.2.99"}`, 400, CodeInvalidRequest, `unknown field "address" (allowed: weight, priority, disabled)`},
		{"empty patch", "PATCH", pols + "/web/endpoints/a", `{}`, 422, CodeValidation, "the patch changes nothing"},
		{"patch no such endpoint", "PATCH", pols + "/web/endpoints/zz", `{"weight":1}`, 404, CodeNotFound, `policy web has no endpoint "zz"`},
		{"patch no such policy", "PATCH", pols + "/nope/endpoints/a", `{"weight":1}`, 404, CodeNotFound, `policy "nope" not found`},
		// Missing things and methods.
		{"get no such policy", "GET", pols + "/nope", ``, 404, CodeNotFound, `policy "nope" not found`},
		{"delete no such policy", "DELETE", pols + "/nope", ``, 404, CodeNotFound, "nope"},
		{"wrong method", "PATCH", pols, `{}`, 405, CodeInvalidRequest, "allowed: GET, HEAD, POST"},
		{"bad consistency", "GET", pols + "?consistency=eventual", ``, 400, CodeInvalidRequest, `consistency "eventual"`},
		// Explain.
		{"explain without a name", "GET", "/api/v1/explain", ``, 400, CodeInvalidRequest, "query parameter name is required"},
		{"explain bad name", "GET", "/api/v1/explain?name=a..b", ``, 400, CodeInvalidRequest, "empty label"},
		{"explain bad type", "GET", "/api/v1/explain?name=www.example.com&type=BOGUS", ``, 400, CodeInvalidRequest, `type: "BOGUS" is not a DNS record type`},
		{"explain bad client", "GET", "/api/v1/explain?name=www.example.com&client=300.1.1.1", ``, 400, CodeInvalidRequest, `client: "300.1.1.1" is not an IP address`},
		{"explain bad ecs", "GET", "/api/v1/explain?name=www.example.com&ecs=198.51.100.0/33", ``, 400, CodeInvalidRequest, `ecs: "198.51.100.0/33" is not an address prefix`},
		{"explain ecs without length", "GET", "/api/v1/explain?name=www.example.com&ecs=198.51.100.0", ``, 400, CodeInvalidRequest, "is not an address prefix"},
	}
	policiesJSON := func() string {
		st := pa.fsm.State()
		b, _ := json.Marshal(struct {
			P []gtm.Policy
			V gtm.Verdicts
		}{st.Policies(), st.Verdicts("web")})
		return string(b) + zone.ExportText(st.Zones.Zone("example.com"))
	}
	before, applied := policiesJSON(), pa.fsm.AppliedIndex()
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			status, env, raw := pa.do(t, tc.method, tc.path, tc.body)
			if status != tc.status || env.Error == nil || env.Error.Code != tc.code || !strings.Contains(env.Error.Message, tc.msg) {
				t.Fatalf("%s %s: got %d %s\nwant %d %s with %q", tc.method, tc.path, status, raw, tc.status, tc.code, tc.msg)
			}
			if string(env.Data) != "null" || env.Index != 0 {
				t.Fatalf("a failure carries data or an index: %s", raw)
			}
			if got := policiesJSON(); got != before || pa.fsm.AppliedIndex() != applied {
				t.Fatalf("a refused request changed the state:\n%s", got)
			}
		})
	}
}

// Explain's default client is the request's address, without its zone.
func TestExplainZonedRemoteAddr(t *testing.T) {
	pa := newPolicyAPI(t)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/explain?name=www.example.com", nil)
	req.RemoteAddr = "[2001:db8::9%eth0]:5353"
	rec := httptest.NewRecorder()
	pa.handler.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("explain from a zoned address: %d %s", rec.Code, rec.Body)
	}
	if _, _, client, _ := pa.explainer.last(); client != netip.MustParseAddr("2001:db8::9") {
		t.Fatalf("client %v", client)
	}
}

// laggingState is a follower that has not applied anything yet.
type laggingState struct{ *fsm.FSM }

func (laggingState) AppliedIndex() uint64 { return 0 }

// On a follower that has not applied the write yet, the reply is the
// policy normalised as the FSM stores it.
func TestPolicyReplyOnLaggingFollower(t *testing.T) {
	pa := newPolicyAPI(t)
	srv := httptest.NewServer(New(Config{Writer: pa.writer, State: laggingState{pa.fsm}, Cluster: pa.cluster,
		Policies: pa.writer, PolicyState: fsmPolicies{pa.fsm}}))
	defer srv.Close()
	c, ctx := NewClient(srv.URL, srv.Client()), context.Background()
	p := weighted("web", "APP", 3, 1)
	p.HealthCheck = &gtm.HealthCheck{Type: "HTTP"}
	got := mustWrite[gtm.Policy](t)(c.CreatePolicy(ctx, p)).v
	stored, _ := pa.fsm.State().Policy("web")
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(stored)
	if string(a) != string(b) {
		t.Fatalf("reply\n%s\nstored\n%s", a, b)
	}
	patched := mustWrite[gtm.Policy](t)(c.PatchEndpoint(ctx, "web", "b", gtm.EndpointPatch{Priority: intp(4)})).v
	stored, _ = pa.fsm.State().Policy("web")
	a, _ = json.Marshal(patched)
	b, _ = json.Marshal(stored)
	if string(a) != string(b) || stored.Endpoints[1].Priority != 4 {
		t.Fatalf("patch reply\n%s\nstored\n%s", a, b)
	}
}
