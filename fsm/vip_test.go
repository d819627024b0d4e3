package fsm

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// Invariant: vip.release is applied deterministically from the log: every
// FSM that applies the same entries (with their terms) records the same
// last release, and an entry whose term does not match the release's is
// rejected alike everywhere.
func TestVIPReleaseIsDeterministic(t *testing.T) {
	entries := []raft.Log{
		{Index: 1, Term: 2, Type: raft.LogCommand, Data: mustEncode(t, OpVIPRelease, VIPRelease{NodeID: "n1", Term: 2})},
		{Index: 2, Term: 3, Type: raft.LogCommand, Data: mustEncode(t, OpVIPRelease, VIPRelease{NodeID: "n2", Term: 2})}, // stale: rejected
		{Index: 3, Term: 3, Type: raft.LogCommand, Data: mustEncode(t, OpVIPRelease, VIPRelease{NodeID: "", Term: 3})},   // no node: rejected
		{Index: 4, Term: 4, Type: raft.LogCommand, Data: mustEncode(t, OpVIPRelease, VIPRelease{NodeID: "n3", Term: 4})},
	}
	a, b := New(nil), New(nil)
	for i := range entries {
		ra, rb := a.Apply(&entries[i]), b.Apply(&entries[i])
		if (ra == nil) != (rb == nil) {
			t.Fatalf("entry %d: responses differ: %v / %v", i, ra, rb)
		}
		if wantErr := i == 1 || i == 2; (ra != nil) != wantErr {
			t.Fatalf("entry %d: response %v", i, ra)
		}
		if i == 0 {
			if rel, ok := a.State().LastVIPRelease(); !ok || rel != (VIPReleaseRecord{NodeID: "n1", Term: 2, Index: 1}) {
				t.Fatalf("after entry 0: %+v %v", rel, ok)
			}
		}
	}
	rel, ok := a.State().LastVIPRelease()
	if !ok || rel != (VIPReleaseRecord{NodeID: "n3", Term: 4, Index: 4}) {
		t.Fatalf("last release %+v %v", rel, ok)
	}
	if !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, b)) {
		t.Fatal("two FSMs diverged on the same releases")
	}
	if _, ok := New(nil).State().LastVIPRelease(); ok {
		t.Fatal("the empty state has a release")
	}
}

// Invariant: the release survives snapshot→restore exactly; a snapshot
// written without the field (an older build) restores as "no release";
// a release that cannot be right is refused.
func TestVIPReleaseSnapshot(t *testing.T) {
	a := New(nil)
	applyAll(t, a, testLog(t, 4, 30))
	a.Apply(&raft.Log{Index: 31, Term: 5, Type: raft.LogCommand, Data: mustEncode(t, OpVIPRelease, VIPRelease{NodeID: "n2", Term: 5})})
	saved := snapshotBytes(t, a)
	if !bytes.Contains(saved, []byte(`"vip_release":{"node_id":"n2","term":5,"index":31}`)) {
		t.Fatalf("snapshot header lacks the release: %.200s", saved)
	}
	b := New(nil)
	if err := b.Restore(io.NopCloser(bytes.NewReader(saved))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, b), saved) {
		t.Fatal("restored state differs")
	}
	if rel, ok := b.State().LastVIPRelease(); !ok || rel.NodeID != "n2" || rel.Term != 5 || rel.Index != 31 {
		t.Fatalf("restored release %+v %v", rel, ok)
	}

	old := []byte(`{"format":"resolvx-state","version":1,"index":7,"zones":0,"policies":0}`)
	c := New(nil)
	if err := c.Restore(io.NopCloser(bytes.NewReader(old))); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.State().LastVIPRelease(); ok || c.AppliedIndex() != 7 {
		t.Fatal("a snapshot without vip_release restored a release")
	}
	for _, bad := range []string{
		`{"format":"resolvx-state","version":1,"index":7,"vip_release":{"node_id":"","term":1,"index":3}}`,
		`{"format":"resolvx-state","version":1,"index":7,"vip_release":{"node_id":"n1","term":0,"index":3}}`,
		`{"format":"resolvx-state","version":1,"index":7,"vip_release":{"node_id":"n1","term":1,"index":9}}`,
	} {
		if err := New(nil).Restore(io.NopCloser(strings.NewReader(bad))); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
