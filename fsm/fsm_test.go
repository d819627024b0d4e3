package fsm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

func mustEncode(t testing.TB, op Op, data any) []byte {
	t.Helper()
	b, err := Encode(op, data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testLog builds a log of n commands mixing every kind, some of them
// invalid against the state they meet (those must be rejected alike).
func testLog(t testing.TB, seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	log := [][]byte{
		mustEncode(t, OpCreateZone, CreateZone{Name: "example.com.", SOA: zone.DefaultSOA("example.com.")}),
		mustEncode(t, OpCreateZone, CreateZone{Name: "example.net.", SOA: zone.DefaultSOA("example.net.")}),
		mustEncode(t, OpPutTSIGKey, PutTSIGKey{Key: zone.TSIGKey{Name: "xfr", Secret: "c2VjcmV0c2VjcmV0"}}),
		mustEncode(t, OpSetTransfer, SetTransfer{Zone: "example.com", Transfer: zone.Transfer{Allow: []string{"127.0.0.1/32"}, TSIGKey: "xfr", Notify: []string{"127.0.0.1:5300"}}}),
		mustEncode(t, OpDeleteTSIGKey, DeleteTSIGKey{Name: "xfr"}), // in use: rejected
	}
	var ids []string
	for i := 0; len(log) < n; i++ {
		switch k := r.IntN(10); {
		case k < 6:
			id := fmt.Sprintf("id%04d", i)
			ids = append(ids, id)
			host := fmt.Sprintf("h%d.example.com.", r.IntN(50))
			log = append(log, mustEncode(t, OpChangeRecords, ChangeRecords{Zone: "example.com.", Changes: []zone.Change{
				{Op: zone.OpAdd, Record: zone.Record{ID: id, Name: host, Type: "A", TTL: uint32(60 + r.IntN(300)), Value: fmt.Sprintf("192.0.2.%d", r.IntN(250))}},
			}}))
		case k < 8 && len(ids) > 0:
			log = append(log, mustEncode(t, OpChangeRecords, ChangeRecords{Zone: "example.com.", Changes: []zone.Change{{Op: zone.OpDelete, ID: ids[r.IntN(len(ids))]}}}))
		case k == 8 && r.IntN(3) == 0:
			h := []gtm.Health{gtm.Healthy, gtm.Unhealthy}[r.IntN(2)]
			log = append(log, mustEncode(t, OpSetVerdicts, SetVerdicts{Policy: fmt.Sprintf("p%d", r.IntN(3)),
				Verdicts: gtm.Verdicts{Health: map[string]gtm.Health{"a": h}}}))
		case k == 8:
			log = append(log, mustEncode(t, OpPutPolicy, PutPolicy{Policy: gtm.Policy{Name: fmt.Sprintf("p%d", r.IntN(3)), Zone: "example.com", Record: "www", Type: gtm.Weighted, TTL: 30,
				Endpoints:   []gtm.Endpoint{{ID: "a", Address: "192.0.2.1", Weight: 1 + r.IntN(9)}},
				HealthCheck: &gtm.HealthCheck{Type: "tcp", Port: 80}}}))
		default:
			log = append(log, []byte(`{"v":1,"op":"zone.create","data":{"name":"bad..name"}}`))
		}
	}
	return log
}

func applyAll(t testing.TB, f *FSM, log [][]byte) {
	for i, b := range log {
		f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: b})
	}
}

func snapshotBytes(t testing.TB, f *FSM) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeSnapshot(&buf, f.State()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Invariant: the same log gives the same state on every node.
func TestApplyIsDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		log := testLog(t, seed, 400)
		a, b := New(nil), New(nil)
		applyAll(t, a, log)
		applyAll(t, b, log)
		if !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, b)) {
			t.Fatalf("seed %d: two FSMs diverged on the same log", seed)
		}
		if a.AppliedIndex() != uint64(len(log)) {
			t.Fatalf("applied %d, want %d", a.AppliedIndex(), len(log))
		}
	}
}

type sink struct {
	bytes.Buffer
	cancelled bool
}

func (s *sink) ID() string    { return "test" }
func (s *sink) Cancel() error { s.cancelled = true; return nil }
func (s *sink) Close() error  { return nil }

// Invariant: snapshot then restore gives exactly the state that was saved,
// and answers the same (same RRset order, same serials).
func TestSnapshotRestoreExact(t *testing.T) {
	a := New(nil)
	applyAll(t, a, testLog(t, 7, 500))
	snap, _ := a.Snapshot()
	var s sink
	if err := snap.Persist(&s); err != nil {
		t.Fatal(err)
	}
	saved := s.Bytes()
	b := New(nil)
	if err := b.Restore(io.NopCloser(bytes.NewReader(saved))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, b), saved) {
		t.Fatal("restored state differs from the snapshot")
	}
	za, zb := a.View().Zone("example.com"), b.View().Zone("example.com")
	if zone.ExportText(za) != zone.ExportText(zb) || za.Serial() != zb.Serial() {
		t.Fatal("restored zone exports differently")
	}
	for _, r := range za.Records() {
		na, nb := za.Node(r.Name), zb.Node(r.Name)
		for _, typ := range na.Types() {
			if fmt.Sprint(na.RRset(typ)) != fmt.Sprint(nb.RRset(typ)) {
				t.Fatalf("%s: RRset order differs after restore", r.Name)
			}
		}
	}
}

// Invariant: a corrupt snapshot is refused and the current state is kept.
func TestRestoreRejectsCorruptSnapshot(t *testing.T) {
	a := New(nil)
	applyAll(t, a, testLog(t, 3, 50))
	good := snapshotBytes(t, a)
	before := snapshotBytes(t, a)
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)/2],
		"trailing":  append(bytes.Clone(good), []byte(`{"x":1}`)...),
		"format":    []byte(`{"format":"other","version":1}`),
		"future":    []byte(`{"format":"resolvx-state","version":99}`),
		"bad zone":  []byte(`{"format":"resolvx-state","version":1,"zones":1}` + "\n" + `{"name":"a..b"}`),
		"bad rec":   []byte(`{"format":"resolvx-state","version":1,"zones":1}` + "\n" + `{"name":"a.","soa":{"mname":"a.","rname":"b.a."},"records":[{"id":"x","name":"a.","type":"A","value":"nope"}]}`),
	} {
		if err := a.Restore(io.NopCloser(bytes.NewReader(bad))); err == nil {
			t.Errorf("%s: restore accepted a corrupt snapshot", name)
		}
		if !bytes.Equal(snapshotBytes(t, a), before) {
			t.Fatalf("%s: a failed restore changed the state", name)
		}
	}
}

// Invariant: a rejected command changes nothing but the applied index, and
// returns its error as the Apply response.
func TestRejectedCommands(t *testing.T) {
	f := New(nil)
	applyAll(t, f, testLog(t, 1, 2))
	before := f.View()
	for i, b := range [][]byte{
		[]byte(`garbage`),
		[]byte(`{"v":2,"op":"zone.create","data":{}}`),
		[]byte(`{"v":1,"op":"zone.frobnicate","data":{}}`),
		mustEncode(t, OpCreateZone, CreateZone{Name: "example.com.", SOA: zone.DefaultSOA("example.com.")}),
		mustEncode(t, OpChangeRecords, ChangeRecords{Zone: "nope.", Changes: nil}),
		mustEncode(t, OpDeletePolicy, DeletePolicy{Name: "nope"}),
	} {
		resp := f.Apply(&raft.Log{Index: uint64(10 + i), Type: raft.LogCommand, Data: b})
		if err, ok := resp.(error); !ok || zone.CodeOf(err) == "" {
			t.Errorf("command %d: response %v, want a coded error", i, resp)
		}
		if f.View() != before {
			t.Fatalf("command %d: a rejected command changed the zones", i)
		}
		if f.AppliedIndex() != uint64(10+i) {
			t.Fatalf("applied index not advanced")
		}
	}
}

func TestDeleteZoneDropsPolicies(t *testing.T) {
	f := New(nil)
	applyAll(t, f, [][]byte{
		mustEncode(t, OpCreateZone, CreateZone{Name: "example.com.", SOA: zone.DefaultSOA("example.com.")}),
		mustEncode(t, OpPutPolicy, PutPolicy{Policy: gtm.Policy{Name: "web", Zone: "example.com", Record: "www", Type: gtm.Failover, Endpoints: []gtm.Endpoint{{ID: "a", Address: "192.0.2.1"}}}}),
		mustEncode(t, OpDeleteZone, DeleteZone{Name: "example.com"}),
	})
	if len(f.State().Policies()) != 0 {
		t.Fatal("policy outlived its zone")
	}
}

type fakeApplier struct {
	f     *FSM
	index uint64
}

func (a *fakeApplier) Apply(_ context.Context, b []byte) (uint64, error) {
	a.index++
	if err, ok := a.f.Apply(&raft.Log{Index: a.index, Type: raft.LogCommand, Data: b}).(error); ok {
		return 0, err
	}
	return a.index, nil
}

// Invariant: the Writer refuses invalid changes before proposing them.
func TestWriterValidatesBeforeProposing(t *testing.T) {
	f := New(nil)
	ap := &fakeApplier{f: f}
	w := NewWriter(f, ap)
	ctx := context.Background()
	if _, err := w.CreateZone(ctx, "Example.com"); err != nil {
		t.Fatal(err)
	}
	proposed := ap.index
	if _, err := w.CreateZone(ctx, "example.com."); !errors.Is(err, zone.ErrExists) {
		t.Fatalf("duplicate zone: %v", err)
	}
	if _, err := w.ChangeRecords(ctx, "example.com", []zone.Change{{Op: zone.OpAdd, Record: zone.Record{ID: "x", Name: "example.com.", Type: "CNAME", Value: "a.example.net."}}}); !errors.Is(err, zone.ErrInvalid) {
		t.Fatalf("apex CNAME: %v", err)
	}
	if ap.index != proposed {
		t.Fatal("an invalid change was proposed")
	}
	idx, err := w.ReplaceRecords(ctx, "example.com", []zone.Record{{Name: "www.example.com.", Type: "A", TTL: 300, Value: "192.0.2.1"}})
	if err != nil || idx != ap.index || f.View().Zone("example.com").Len() != 1 {
		t.Fatalf("replace: %d %v", idx, err)
	}
}

func TestWaitApplied(t *testing.T) {
	f := New(nil)
	done := make(chan error, 1)
	go func() { done <- f.WaitApplied(context.Background(), 3) }()
	applyAll(t, f, testLog(t, 1, 3))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitApplied did not return after the index was applied")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.WaitApplied(ctx, 100); err == nil || !strings.Contains(err.Error(), "index 100") {
		t.Fatalf("cancelled wait: %v", err)
	}
}

// Invariant: delivering an entry that was applied already (startup replay
// racing raft's own apply) changes nothing, so both may deliver it.
func TestApplySkipsAppliedEntries(t *testing.T) {
	log := testLog(t, 9, 100)
	a, b := New(nil), New(nil)
	applyAll(t, a, log)
	applyAll(t, b, log[:60])
	applyAll(t, b, log) // 1..60 again, then 61..100
	if !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, b)) {
		t.Fatal("re-delivered entries changed the state")
	}
}

// Invariant: a change that fails validation only because the local state
// lags (the zone was created through another node a moment ago) is
// validated again after CatchUp and goes through; one still invalid after
// it is refused without being proposed.
func TestWriterCatchesUpBeforeRefusing(t *testing.T) {
	f := New(nil)
	ap := &fakeApplier{f: f}
	w := NewWriter(f, ap)
	ctx := context.Background()
	caughtUp := 0
	w.CatchUp = func(context.Context) error {
		caughtUp++
		if f.State().Zones.Zone("example.com.") == nil {
			// What the leader already has: the zone another node created.
			_, err := ap.Apply(ctx, mustEncode(t, OpCreateZone, CreateZone{Name: "example.com.", SOA: zone.DefaultSOA("example.com.")}))
			return err
		}
		return nil
	}
	add := func(id, typ, value string) error {
		_, err := w.ChangeRecords(ctx, "example.com", []zone.Change{{Op: zone.OpAdd, Record: zone.Record{ID: id, Name: "www.example.com.", Type: typ, TTL: 60, Value: value}}})
		return err
	}
	if err := add("a", "A", "192.0.2.1"); err != nil || caughtUp != 1 {
		t.Fatalf("write after catching up: %v (caught up %d times)", err, caughtUp)
	}
	proposed := ap.index
	if err := add("c", "CNAME", "x.example.net."); !errors.Is(err, zone.ErrInvalid) || ap.index != proposed {
		t.Fatalf("CNAME beside A after catching up: %v (proposed %d → %d)", err, proposed, ap.index)
	}
}
