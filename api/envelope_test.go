package api

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/zone"
)

// keys returns the top-level keys of a JSON object, sorted.
func keys(t *testing.T, raw string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, raw)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The envelope: reads carry data and error, writes also the index (and
// the header), failures null data and {code, message}.
func TestEnvelopeShape(t *testing.T) {
	ta := newTestAPI(t)

	status, _, raw := ta.do(t, "GET", "/api/v1/zones", "")
	if status != 200 || raw != "{\"data\":[],\"error\":null}\n" {
		t.Fatalf("empty listing: %d %s", status, raw)
	}

	req, _ := http.NewRequest("POST", ta.srv.URL+"/api/v1/zones", strings.NewReader(`{"name":"example.com"}`))
	resp, err := ta.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Data  map[string]any `json:"data"`
		Error *Error         `json:"error"`
		Index uint64         `json:"index"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || created.Error != nil || created.Index != ta.fsm.AppliedIndex() ||
		resp.Header.Get(IndexHeader) != strconv.FormatUint(created.Index, 10) || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("create: %d %+v %v", resp.StatusCode, created, resp.Header)
	}
	wantZone := []string{"index", "name", "records", "serial", "soa"}
	if got := slices.Sorted(maps.Keys(created.Data)); !reflect.DeepEqual(got, wantZone) {
		t.Fatalf("zone object keys %v, want %v", got, wantZone)
	}
	soa, _ := created.Data["soa"].(map[string]any)
	if wantSOA := []string{"expire", "minimum", "mname", "refresh", "retry", "rname", "ttl"}; !reflect.DeepEqual(slices.Sorted(maps.Keys(soa)), wantSOA) {
		t.Fatalf("soa keys %v", soa)
	}

	// Every write has the index; reads do not.
	writes := []struct{ method, path, body string }{
		{"POST", "/api/v1/zones/example.com/records", `{"name":"www","type":"A","value":"192.0.2.1","ttl":300}`},
		{"POST", "/api/v1/zones/example.com/import", "www 300 IN A 192.0.2.1\nmail IN MX 10 www\n"},
	}
	for _, w := range writes {
		status, env, raw := ta.do(t, w.method, w.path, w.body)
		if status >= 300 || env.Index == 0 || env.Index != ta.fsm.AppliedIndex() || !slices.Equal(keys(t, raw), []string{"data", "error", "index"}) {
			t.Fatalf("%s %s: %d %s", w.method, w.path, status, raw)
		}
	}
	recs, err := ta.client.Records(context.Background(), "example.com", "MX", "")
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %v", recs, err)
	}
	_, _, raw = ta.do(t, "GET", "/api/v1/zones/example.com/records/"+recs[0].ID, "")
	if want := `{"data":{"id":"` + recs[0].ID + `","name":"mail.example.com.","type":"MX","ttl":300,"priority":10,"value":"www.example.com."},"error":null}` + "\n"; raw != want {
		t.Fatalf("record:\n got %s\nwant %s", raw, want)
	}
	for _, w := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/zones/example.com/records/" + recs[0].ID, `{"name":"mail","type":"MX","value":"www","priority":20}`},
		{"DELETE", "/api/v1/zones/example.com/records/" + recs[0].ID, ""},
		{"DELETE", "/api/v1/zones/example.com", ""},
	} {
		status, env, raw := ta.do(t, w.method, w.path, w.body)
		if status != 200 || env.Index == 0 || env.Index != ta.fsm.AppliedIndex() || !slices.Equal(keys(t, raw), []string{"data", "error", "index"}) {
			t.Fatalf("%s %s: %d %s", w.method, w.path, status, raw)
		}
	}
	for _, path := range []string{"/api/v1/zones", "/api/v1/status", "/api/v1/cluster", "/api/v1/cluster/node"} {
		if status, _, raw := ta.do(t, "GET", path, ""); status != 200 || !slices.Equal(keys(t, raw), []string{"data", "error"}) {
			t.Fatalf("GET %s: %d %s", path, status, raw)
		}
	}
	_, _, raw = ta.do(t, "GET", "/api/v1/status", "")
	var st map[string]any
	json.Unmarshal([]byte(raw), &struct{ Data *map[string]any }{&st})
	if want := []string{"applied_index", "is_leader", "leader", "node_id", "read_only", "records", "version", "zones"}; !reflect.DeepEqual(slices.Sorted(maps.Keys(st)), want) {
		t.Fatalf("status keys: %s", raw)
	}

	status, _, raw = ta.do(t, "GET", "/api/v1/zones/nope.example", "")
	if status != 404 || raw != `{"data":null,"error":{"code":"NOT_FOUND","message":"zone \"nope.example\" not found"}}`+"\n" {
		t.Fatalf("failure: %d %s", status, raw)
	}
}

// No quorum: writes fail with 503 NO_QUORUM, nothing changes; a read whose
// barrier fails says so too, while a stale read still answers.
func TestNoQuorum(t *testing.T) {
	ta, wwwID := seeded(t)
	ctx := context.Background()
	before := ta.fsm.AppliedIndex()
	ta.applier.fail(cluster.ErrNoQuorum)
	c := ta.client
	writes := map[string]error{}
	_, _, writes["create zone"] = c.CreateZone(ctx, "example.org")
	_, writes["delete zone"] = c.DeleteZone(ctx, "example.com")
	_, _, writes["create record"] = c.CreateRecord(ctx, "example.com", RecordRequest{Name: "new", Type: "A", Value: "192.0.2.50"})
	_, _, writes["update record"] = c.UpdateRecord(ctx, "example.com", wwwID, RecordRequest{Name: "www", Type: "A", Value: "192.0.2.50"})
	_, writes["delete record"] = c.DeleteRecord(ctx, "example.com", wwwID)
	_, _, writes["import"] = c.ImportZone(ctx, "example.com", strings.NewReader("x IN A 192.0.2.1\n"))
	for what, err := range writes {
		var e *Error
		if !errors.As(err, &e) || e.HTTPStatus != 503 || e.Code != CodeNoQuorum || e.Message != cluster.ErrNoQuorum.Error() {
			t.Errorf("%s without quorum: %#v", what, err)
		}
	}
	if ta.fsm.AppliedIndex() != before {
		t.Fatal("a write without quorum changed the state")
	}

	ta.cluster.barrierErr = cluster.NewError("NO_QUORUM", "no leader known")
	if _, err := c.Zones(ctx); !isCode(err, 503, CodeNoQuorum) || err.Error() != "no leader known" {
		t.Fatalf("leader read without quorum: %v", err)
	}
	ta.cluster.barrierErr = nil
	ta.cluster.status.ReadOnly = true
	st, err := c.Status(ctx)
	if err != nil || !st.ReadOnly {
		t.Fatalf("status without quorum: %+v %v", st, err)
	}
}

// Errors without a known code are internal: 500, logged, not leaked.
func TestInternalErrorsDoNotLeak(t *testing.T) {
	ta, _ := seeded(t)
	ta.applier.fail(errors.New("boltdb: disk /var/lib/secret is full"))
	_, _, err := ta.client.CreateRecord(context.Background(), "example.com", RecordRequest{Name: "x", Type: "A", Value: "192.0.2.9"})
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 500 || e.Code != CodeInternal || strings.Contains(e.Message, "secret") {
		t.Fatalf("internal error: %#v", err)
	}
	ta.applier.fail(cluster.NewError("INTERNAL_ERROR", "raft: snapshot /var/lib/secret failed"))
	if _, err := ta.client.DeleteZone(context.Background(), "example.com"); !isCode(err, 500, CodeInternal) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("coded internal error: %v", err)
	}
}

// Reads pass the barrier at the level asked for; leader by default, stale
// by default for /status; writes pass none.
func TestConsistency(t *testing.T) {
	ta, wwwID := seeded(t)
	ctx := context.Background()
	reads := []string{
		"/api/v1/zones", "/api/v1/zones/example.com", "/api/v1/zones/example.com/export",
		"/api/v1/zones/example.com/records", "/api/v1/zones/example.com/records/" + wwwID,
	}
	for _, path := range reads {
		for _, tc := range []struct {
			query string
			want  cluster.Consistency
		}{{"", cluster.Leader}, {"?consistency=stale", cluster.Stale}, {"?consistency=leader", cluster.Leader}, {"?consistency=linearizable", cluster.Linearizable}} {
			if status, _, raw := ta.do(t, "GET", path+tc.query, ""); status != 200 {
				t.Fatalf("GET %s%s: %d %s", path, tc.query, status, raw)
			}
			if got := ta.cluster.lastLevel(); got != tc.want {
				t.Fatalf("GET %s%s: barrier %q, want %q", path, tc.query, got, tc.want)
			}
		}
	}
	ta.do(t, "GET", "/api/v1/status", "")
	if got := ta.cluster.lastLevel(); got != cluster.Stale {
		t.Fatalf("status: barrier %q", got)
	}
	ta.do(t, "GET", "/api/v1/status?consistency=linearizable", "")
	if got := ta.cluster.lastLevel(); got != cluster.Linearizable {
		t.Fatalf("status: barrier %q", got)
	}

	// The client asks for its level.
	n := len(ta.cluster.levels)
	if _, err := ta.client.WithConsistency(cluster.Stale).Records(ctx, "example.com", "A", ""); err != nil || ta.cluster.lastLevel() != cluster.Stale {
		t.Fatalf("client stale read: %v %q", err, ta.cluster.lastLevel())
	}
	if _, _, err := ta.client.WithConsistency(cluster.Linearizable).CreateRecord(ctx, "example.com", RecordRequest{Name: "n", Type: "A", Value: "192.0.2.8"}); err != nil || len(ta.cluster.levels) != n+1 {
		t.Fatalf("a write passed a read barrier: %v %v", err, ta.cluster.levels[n:])
	}
}

// A zone created through a follower whose state lags still replies with
// the new zone.
func TestCreateZoneReplyWithoutLocalApply(t *testing.T) {
	ta := newTestAPI(t)
	srv := httptest.NewServer(New(Config{Writer: lagging{index: 41}, State: ta.fsm, Cluster: ta.cluster}))
	defer srv.Close()
	c := NewClient(srv.URL, srv.Client())
	zi, index, err := c.CreateZone(context.Background(), "example.com")
	soa := zone.DefaultSOA("example.com.")
	if err != nil || index != 41 || zi.Name != "example.com." || zi.Index != 41 || zi.Serial != 41 || zi.SOA == nil || *zi.SOA != soa {
		t.Fatalf("%+v %d %v", zi, index, err)
	}
}

// lagging is a Writer whose writes apply elsewhere.
type lagging struct{ index uint64 }

func (l lagging) CreateZone(context.Context, string) (uint64, error) { return l.index, nil }
func (l lagging) DeleteZone(context.Context, string) (uint64, error) { return l.index, nil }
func (l lagging) ChangeRecords(context.Context, string, []zone.Change) (uint64, error) {
	return l.index, nil
}
func (l lagging) ReplaceZone(context.Context, string, *zone.SOA, []zone.Record) (uint64, error) {
	return l.index, nil
}
