package fsm

import (
	"bytes"
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

// FuzzApply: any log entry is applied or rejected, never a panic, and a
// rejected one leaves the zones untouched.
func FuzzApply(f *testing.F) {
	for _, b := range testLog(f, 11, 30) {
		f.Add(b)
	}
	f.Add(mustEncode(f, OpVIPRelease, VIPRelease{NodeID: "n1", Term: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := New(nil)
		applyAll(t, m, testLog(t, 11, 5))
		before := m.View()
		if _, isErr := m.Apply(&raft.Log{Index: 99, Type: raft.LogCommand, Data: b}).(error); isErr && m.View() != before {
			t.Fatal("a rejected entry changed the zones")
		}
	})
}

// FuzzRestore: any snapshot stream restores or is refused, never a panic.
func FuzzRestore(f *testing.F) {
	m := New(nil)
	applyAll(f, m, testLog(f, 5, 40))
	f.Add(snapshotBytes(f, m))
	f.Add([]byte(`{"format":"resolvx-state","version":1,"zones":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = New(nil).Restore(io.NopCloser(bytes.NewReader(b)))
	})
}
