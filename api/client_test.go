package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/zone"
)

func ttl(n uint32) *uint32 { return &n }

func prio(n uint16) *uint16 { return &n }

// must returns a function that fails t on an error and returns the value:
// must[T](t)(call()).
func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// written is a write's result with its index.
type written[T any] struct {
	v     T
	index uint64
}

// mustWrite is must for writes: it also fails when the index is missing.
func mustWrite[T any](t testing.TB) func(T, uint64, error) written[T] {
	return func(v T, index uint64, err error) written[T] {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if index == 0 {
			t.Fatal("a write reply carries no index")
		}
		return written[T]{v, index}
	}
}

// Every endpoint, through the client the CLI uses.
func TestClientHappyPath(t *testing.T) {
	ta := newTestAPI(t)
	c, ctx := ta.client, context.Background()

	w := mustWrite[ZoneInfo](t)(c.CreateZone(ctx, "Example.COM"))
	zi, idx := w.v, w.index
	if zi.Name != "example.com." || zi.Index != idx || zi.Serial != uint32(idx) || zi.Records != 0 || zi.SOA == nil || zi.SOA.MName != "ns1.example.com." {
		t.Fatalf("created zone: %+v at %d", zi, idx)
	}
	if _, _, err := c.CreateZone(ctx, "example.net"); err != nil {
		t.Fatal(err)
	}
	zones := must[[]ZoneInfo](t)(c.Zones(ctx))
	if len(zones) != 2 || zones[0].Name != "example.com." || zones[0].SOA != nil {
		t.Fatalf("zones: %+v", zones)
	}

	wr := mustWrite[zone.Record](t)(c.CreateRecord(ctx, "example.com", RecordRequest{Name: "www", Type: "a", Value: "192.0.2.1", TTL: ttl(300)}))
	www, idx := wr.v, wr.index
	if len(www.ID) != 16 || www.Name != "www.example.com." || www.Type != "A" || www.TTL != 300 || www.Value != "192.0.2.1" {
		t.Fatalf("created record: %+v", www)
	}
	if ta.fsm.AppliedIndex() != idx {
		t.Fatalf("index %d, applied %d", idx, ta.fsm.AppliedIndex())
	}
	mx := mustWrite[zone.Record](t)(c.CreateRecord(ctx, "example.com.", RecordRequest{Name: "@", Type: "MX", Value: "mail", Priority: prio(10)})).v
	if mx.Name != "example.com." || mx.Value != "mail.example.com." || mx.Priority != 10 || mx.TTL != DefaultTTL {
		t.Fatalf("MX with default TTL: %+v", mx)
	}
	if _, _, err := c.CreateRecord(ctx, "example.com", RecordRequest{Name: "www.example.com.", Type: "AAAA", Value: "2001:db8::1", TTL: ttl(0)}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ typ, name string }{{"", ""}, {"a", ""}, {"", "www"}, {"", "WWW.example.com."}, {"A", "www"}, {"mx", "@"}} {
		recs := must[[]zone.Record](t)(c.Records(ctx, "example.com", tc.typ, tc.name))
		for _, r := range recs {
			if tc.typ != "" && r.Type != strings.ToUpper(tc.typ) {
				t.Fatalf("type filter %q let %+v through", tc.typ, r)
			}
		}
		want := map[[2]string]int{{"", ""}: 3, {"a", ""}: 1, {"", "www"}: 2, {"", "WWW.example.com."}: 2, {"A", "www"}: 1, {"mx", "@"}: 1}[[2]string{tc.typ, tc.name}]
		if len(recs) != want {
			t.Fatalf("records type=%q name=%q: %d, want %d: %+v", tc.typ, tc.name, len(recs), want, recs)
		}
	}
	if got := must[zone.Record](t)(c.Record(ctx, "example.com", www.ID)); got != www {
		t.Fatalf("record: %+v, want %+v", got, www)
	}

	upd := mustWrite[zone.Record](t)(c.UpdateRecord(ctx, "example.com", www.ID, RecordRequest{Name: "www", Type: "A", Value: "192.0.2.2", TTL: ttl(60)})).v
	if upd.ID != www.ID || upd.Value != "192.0.2.2" || upd.TTL != 60 {
		t.Fatalf("updated: %+v", upd)
	}
	z := must[ZoneInfo](t)(c.Zone(ctx, "example.com"))
	if z.Records != 3 || z.Index != ta.fsm.AppliedIndex() || z.Serial != uint32(z.Index) || z.SOA == nil {
		t.Fatalf("zone: %+v", z)
	}

	text := must[string](t)(c.ExportZone(ctx, "example.com"))
	if !strings.Contains(text, "192.0.2.2") || !strings.Contains(text, "SOA") {
		t.Fatalf("export:\n%s", text)
	}

	file := "$ORIGIN example.com.\n$TTL 600\n@ IN SOA ns.example.com. admin.example.com. 1 7200 900 604800 60\n" +
		"@ IN NS ns\nns IN A 192.0.2.53\napi IN CNAME www\nwww IN A 192.0.2.80\n"
	n, idx, err := c.ImportZone(ctx, "example.com", strings.NewReader(file))
	if err != nil || n != 4 || idx == 0 {
		t.Fatalf("import: %d records at %d: %v", n, idx, err)
	}
	z = must[ZoneInfo](t)(c.Zone(ctx, "example.com"))
	if z.Records != 4 || z.Index != idx || z.SOA.MName != "ns.example.com." || z.SOA.Minimum != 60 {
		t.Fatalf("zone after import: %+v %+v", z, z.SOA)
	}
	if _, err := c.Record(ctx, "example.com", www.ID); !isCode(err, http.StatusNotFound, CodeNotFound) {
		t.Fatalf("a record from before the import: %v", err)
	}

	recs := must[[]zone.Record](t)(c.Records(ctx, "example.com", "CNAME", ""))
	if len(recs) != 1 {
		t.Fatalf("CNAME after import: %+v", recs)
	}
	if idx := must[uint64](t)(c.DeleteRecord(ctx, "example.com", recs[0].ID)); idx != ta.fsm.AppliedIndex() {
		t.Fatalf("delete record index %d", idx)
	}
	if _, err := c.Record(ctx, "example.com", recs[0].ID); !isCode(err, http.StatusNotFound, CodeNotFound) {
		t.Fatalf("deleted record: %v", err)
	}
	if _, err := c.DeleteZone(ctx, "example.net"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Zone(ctx, "example.net"); !isCode(err, http.StatusNotFound, CodeNotFound) {
		t.Fatalf("deleted zone: %v", err)
	}

	st := must[cluster.Status](t)(c.ClusterStatus(ctx))
	if st.NodeID != "n1" || st.Leader != "n1" || len(st.Nodes) != 2 || st.Nodes[1].LastContact != "12ms" {
		t.Fatalf("cluster status: %+v", st)
	}
	node := must[cluster.NodeStatus](t)(c.ClusterNode(ctx))
	if node.ID != "n1" || !node.IsLeader || node.Suffrage != "voter" {
		t.Fatalf("cluster node: %+v", node)
	}
	s := must[Status](t)(c.Status(ctx))
	want := Status{NodeID: "n1", Version: "v0.test", Leader: "n1", IsLeader: true, Zones: 1, Records: 3, AppliedIndex: ta.fsm.AppliedIndex()}
	if s != want {
		t.Fatalf("status: %+v, want %+v", s, want)
	}

	if err := c.RemoveNode(ctx, "n2"); err != nil || len(ta.cluster.removed) != 1 || ta.cluster.removed[0] != "n2" {
		t.Fatalf("remove: %v %v", err, ta.cluster.removed)
	}
	if err := c.RemoveNode(ctx, "n9"); !isCode(err, http.StatusNotFound, CodeNotFound) {
		t.Fatalf("remove a non-member: %v", err)
	}
	if ta.onLeave.Load() != 0 {
		t.Fatal("OnLeave before a leave")
	}
	if err := c.Leave(ctx); err != nil || ta.cluster.left != 1 {
		t.Fatalf("leave: %v, left %d", err, ta.cluster.left)
	}
	// OnLeave runs once the reply is out, so possibly after the client has it.
	eventually(t, "OnLeave called after the leave reply", func() bool { return ta.onLeave.Load() == 1 })
}

// A failed leave does not shut the server down.
func TestLeaveFailure(t *testing.T) {
	ta := newTestAPI(t)
	ta.cluster.leaveErr = cluster.ErrNoQuorum
	if err := ta.client.Leave(context.Background()); !isCode(err, http.StatusServiceUnavailable, CodeNoQuorum) {
		t.Fatalf("leave without quorum: %v", err)
	}
	if ta.onLeave.Load() != 0 {
		t.Fatal("OnLeave after a failed leave")
	}
}

func isCode(err error, status int, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.HTTPStatus == status && e.Code == code
}

// A client error is the API's message alone; a dead server gives a clear
// error naming the URL.
func TestClientErrors(t *testing.T) {
	ta := newTestAPI(t)
	ctx := context.Background()
	_, err := ta.client.Zone(ctx, "nope.example")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 404 || e.Code != CodeNotFound || err.Error() != e.Message || !strings.HasPrefix(e.Message, "zone ") {
		t.Fatalf("not found: %#v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	_, err = NewClient(base+"/", nil).Zones(ctx)
	want := "cannot reach the resolvx API at " + base + ": connection refused; is the server running? set --api or RESOLVX_API"
	if err == nil || err.Error() != want {
		t.Fatalf("dead server:\n got %v\nwant %s", err, want)
	}

	for _, bad := range []string{"127.0.0.1:8080", "localhost:8080", "ftp://x", "http://"} {
		_, err := NewClient(bad, nil).Status(ctx)
		if err == nil || !strings.Contains(err.Error(), "is not a URL like http://127.0.0.1:8080; set --api or RESOLVX_API") {
			t.Fatalf("API address %q: %v", bad, err)
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ta.client.Zones(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// An import whose file has no SOA keeps the zone's SOA settings.
func TestImportWithoutSOAKeepsSOA(t *testing.T) {
	ta := newTestAPI(t)
	ctx := context.Background()
	mustWrite[ZoneInfo](t)(ta.client.CreateZone(ctx, "example.org"))
	before := must[ZoneInfo](t)(ta.client.Zone(ctx, "example.org")).SOA
	n, _, err := ta.client.ImportZone(ctx, "example.org", strings.NewReader("www 300 IN A 192.0.2.7\n"))
	if err != nil || n != 1 {
		t.Fatalf("import: %d %v", n, err)
	}
	after := must[ZoneInfo](t)(ta.client.Zone(ctx, "example.org")).SOA
	if *before != *after {
		t.Fatalf("SOA changed by an import without SOA: %+v -> %+v", before, after)
	}
	recs := must[[]zone.Record](t)(ta.client.Records(ctx, "example.org", "", ""))
	if len(recs) != 1 || recs[0] != (zone.Record{ID: recs[0].ID, Name: "www.example.org.", Type: "A", TTL: 300, Value: "192.0.2.7"}) {
		t.Fatalf("records: %+v", recs)
	}
}
