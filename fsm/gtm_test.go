package fsm

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// gtmFSM returns an FSM with zone example.com holding "txt TXT" and
// "mail A" records, and a function that applies one command at the next
// index and returns Apply's result.
func gtmFSM(t *testing.T) (*FSM, func(op Op, data any) error) {
	t.Helper()
	f := New(nil)
	idx := uint64(0)
	apply := func(op Op, data any) error {
		idx++
		res := f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: mustEncode(t, op, data)})
		if err, ok := res.(error); ok {
			return err
		}
		return nil
	}
	if err := apply(OpCreateZone, CreateZone{Name: "example.com.", SOA: zone.DefaultSOA("example.com.")}); err != nil {
		t.Fatal(err)
	}
	if err := apply(OpChangeRecords, ChangeRecords{Zone: "example.com.", Changes: []zone.Change{
		{Op: zone.OpAdd, Record: zone.Record{ID: "r1", Name: "www.example.com.", Type: "TXT", TTL: 60, Value: `"hello"`}},
		{Op: zone.OpAdd, Record: zone.Record{ID: "r2", Name: "mail.example.com.", Type: "A", TTL: 60, Value: "192.0.2.25"}},
		{Op: zone.OpAdd, Record: zone.Record{ID: "r3", Name: "sub.example.com.", Type: "NS", TTL: 60, Value: "ns.other.net."}},
	}}); err != nil {
		t.Fatal(err)
	}
	return f, apply
}

func webPolicy(record string, addrs ...string) gtm.Policy {
	p := gtm.Policy{Name: "web-" + record, Zone: "example.com", Record: record, Type: gtm.Weighted,
		HealthCheck: &gtm.HealthCheck{Type: "tcp", Port: 80}}
	for i, a := range addrs {
		p.Endpoints = append(p.Endpoints, gtm.Endpoint{ID: string(rune('a' + i)), Address: a, Weight: 1})
	}
	return p
}

// Invariant: a name answers a type from records or from a policy, never
// both: each side is refused (ALREADY_EXISTS) when the other is there, and
// nothing is applied.
func TestPolicyAndRecordsExclude(t *testing.T) {
	f, apply := gtmFSM(t)
	for _, tc := range []struct {
		name string
		p    gtm.Policy
		code string
	}{
		{"A policy beside a TXT record", webPolicy("www", "192.0.2.1"), ""},
		{"A policy where A records are", webPolicy("mail", "192.0.2.1"), "ALREADY_EXISTS"},
		{"CNAME policy beside any record", webPolicy("www", "web.example.net."), "ALREADY_EXISTS"},
		{"AAAA policy beside the A policy", gtm.Policy{Name: "v6", Zone: "example.com", Record: "www", Type: gtm.Multivalue, Endpoints: []gtm.Endpoint{{ID: "x", Address: "2001:db8::1"}}}, ""},
		{"second A policy at the name", gtm.Policy{Name: "other", Zone: "example.com", Record: "www", Type: gtm.Multivalue, Endpoints: []gtm.Endpoint{{ID: "x", Address: "192.0.2.9"}}}, "ALREADY_EXISTS"},
		{"below a delegation", webPolicy("x.sub", "192.0.2.1"), "VALIDATION_ERROR"},
		{"outside the zone", webPolicy("www.example.org.", "192.0.2.1"), "VALIDATION_ERROR"},
		{"missing zone", gtm.Policy{Name: "z", Zone: "nowhere.test", Record: "www", Type: gtm.Multivalue, Endpoints: []gtm.Endpoint{{ID: "x", Address: "192.0.2.9"}}}, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.State()
			err := apply(OpPutPolicy, PutPolicy{Policy: tc.p})
			if got := zone.CodeOf(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
			if err != nil && f.State().Policies() != nil && len(f.State().Policies()) != len(before.Policies()) {
				t.Fatal("a refused policy changed the state")
			}
		})
	}
	// Records of the policy's type at its name are refused, by a change
	// and by an import alike; records of another type are fine.
	add := func(typ, value string) error {
		return apply(OpChangeRecords, ChangeRecords{Zone: "example.com.", Changes: []zone.Change{
			{Op: zone.OpAdd, Record: zone.Record{ID: "n-" + typ, Name: "www.example.com.", Type: typ, TTL: 60, Value: value}}}})
	}
	if err := add("A", "192.0.2.77"); zone.CodeOf(err) != "ALREADY_EXISTS" {
		t.Fatalf("A record under an A policy: %v", err)
	}
	if err := add("CNAME", "elsewhere.example.net."); zone.CodeOf(err) == "" {
		t.Fatal("CNAME under an A policy accepted")
	}
	if err := add("TXT", `"second"`); err != nil {
		t.Fatalf("TXT beside an A policy: %v", err)
	}
	err := apply(OpReplaceRecords, ReplaceRecords{Zone: "example.com.", Records: []zone.Record{{ID: "i1", Name: "www.example.com.", Type: "AAAA", TTL: 60, Value: "2001:db8::5"}}})
	if zone.CodeOf(err) != "ALREADY_EXISTS" {
		t.Fatalf("import with AAAA under an AAAA policy: %v", err)
	}
	if f.State().Zones.Zone("example.com.").Records() == nil {
		t.Fatal("refused import emptied the zone")
	}
}

// Invariant: verdicts name only endpoints of the current policy, are
// rejected whole when decided for an older version of it, survive a
// replacement for endpoints that keep their address, go with the policy
// and with its zone, and reach the compiled table.
func TestVerdictsLifecycle(t *testing.T) {
	f, apply := gtmFSM(t)
	p := webPolicy("www", "192.0.2.1", "192.0.2.2")
	if err := apply(OpPutPolicy, PutPolicy{Policy: p}); err != nil {
		t.Fatal(err)
	}
	down := gtm.Verdicts{Health: map[string]gtm.Health{"a": gtm.Unhealthy, "b": gtm.Healthy}}
	if err := apply(OpSetVerdicts, SetVerdicts{Policy: p.Name, Verdicts: gtm.Verdicts{Health: map[string]gtm.Health{"zz": gtm.Healthy}}}); zone.CodeOf(err) != "VALIDATION_ERROR" {
		t.Fatalf("verdict for an unknown endpoint: %v", err)
	}
	if err := apply(OpSetVerdicts, SetVerdicts{Policy: p.Name, Verdicts: down, Addresses: map[string]string{"a": "192.0.2.99"}}); zone.CodeOf(err) != "VALIDATION_ERROR" {
		t.Fatalf("verdict decided for another address: %v", err)
	}
	if err := apply(OpSetVerdicts, SetVerdicts{Policy: "nope", Verdicts: down}); !errors.Is(err, zone.ErrNotFound) {
		t.Fatalf("verdict for a missing policy: %v", err)
	}
	if err := apply(OpSetVerdicts, SetVerdicts{Policy: p.Name, Verdicts: down, Addresses: map[string]string{"a": "192.0.2.1", "b": "192.0.2.2"}}); err != nil {
		t.Fatal(err)
	}
	if got := f.State().Verdicts(p.Name); !got.Equal(down) {
		t.Fatalf("verdicts %+v", got)
	}

	// Snapshot and restore keep them.
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, f)))); err != nil {
		t.Fatal(err)
	}
	if got := g.State().Verdicts(p.Name); !got.Equal(down) {
		t.Fatalf("restored verdicts %+v", got)
	}

	// b moves to a new address: its verdict goes, a's stays.
	moved := webPolicy("www", "192.0.2.1", "192.0.2.3")
	if err := apply(OpPutPolicy, PutPolicy{Policy: moved}); err != nil {
		t.Fatal(err)
	}
	if v := f.State().Verdicts(p.Name); v.Of("a") != gtm.Unhealthy || v.Of("b") != gtm.HealthUnknown {
		t.Fatalf("after a replacement: %+v", v)
	}
	// Draining by patch keeps the verdicts too.
	yes := true
	if err := apply(OpPatchEndpoint, PatchEndpoint{Policy: p.Name, Endpoint: "a", Patch: gtm.EndpointPatch{Disabled: &yes}}); err != nil {
		t.Fatal(err)
	}
	if pol, _ := f.State().Policy(p.Name); !pol.Endpoints[0].Disabled || f.State().Verdicts(p.Name).Of("a") != gtm.Unhealthy {
		t.Fatalf("after a drain: %+v %+v", pol, f.State().Verdicts(p.Name))
	}
	zero := 0
	if err := apply(OpPatchEndpoint, PatchEndpoint{Policy: p.Name, Endpoint: "a", Patch: gtm.EndpointPatch{Weight: &zero}}); err != nil {
		t.Fatalf("one zero weight: %v", err)
	}
	if err := apply(OpPatchEndpoint, PatchEndpoint{Policy: p.Name, Endpoint: "b", Patch: gtm.EndpointPatch{Weight: &zero}}); zone.CodeOf(err) != "VALIDATION_ERROR" {
		t.Fatalf("every weight zero: %v", err)
	}
	if err := apply(OpPatchEndpoint, PatchEndpoint{Policy: p.Name, Endpoint: "zz", Patch: gtm.EndpointPatch{Weight: &zero}}); zone.CodeOf(err) != "NOT_FOUND" {
		t.Fatalf("unknown endpoint: %v", err)
	}
	// Without a health check nobody would revise a verdict: it goes.
	plain := moved
	plain.HealthCheck = nil
	if err := apply(OpPutPolicy, PutPolicy{Policy: plain}); err != nil {
		t.Fatal(err)
	}
	if v := f.State().Verdicts(p.Name); len(v.Health) != 0 {
		t.Fatalf("verdicts kept without a check: %+v", v)
	}
	if err := apply(OpDeleteZone, DeleteZone{Name: "example.com."}); err != nil {
		t.Fatal(err)
	}
	if len(f.State().Policies()) != 0 {
		t.Fatal("policies outlived their zone")
	}
}

// Invariant: of two creates of one policy name, the one later in the log
// is rejected (ALREADY_EXISTS) and leaves the first in place.
func TestCreatePolicyIsCreateOnly(t *testing.T) {
	f, apply := gtmFSM(t)
	first := webPolicy("www", "192.0.2.1")
	second := webPolicy("www", "192.0.2.2")
	if err := apply(OpPutPolicy, PutPolicy{Policy: first, Create: true}); err != nil {
		t.Fatal(err)
	}
	if err := apply(OpPutPolicy, PutPolicy{Policy: second, Create: true}); zone.CodeOf(err) != "ALREADY_EXISTS" {
		t.Fatalf("second create: %v", err)
	}
	if p, _ := f.State().Policy(first.Name); p.Endpoints[0].Address != "192.0.2.1" {
		t.Fatalf("the first create was replaced: %+v", p)
	}
}
