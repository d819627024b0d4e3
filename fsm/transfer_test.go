package fsm

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/zone"
)

// Invariant: TSIG keys and transfer settings are replicated state: they
// survive snapshot and restore, and a snapshot written before they existed
// restores with none.
func TestTransferStateInSnapshots(t *testing.T) {
	a := New(nil)
	applyAll(t, a, testLog(t, 3, 20))
	snap := snapshotBytes(t, a)
	b := New(nil)
	if err := b.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	k, ok := b.View().TSIGKey("xfr")
	if !ok || k.Secret != "c2VjcmV0c2VjcmV0" {
		t.Fatalf("key after restore = %+v, %v", k.Name, ok)
	}
	if tr := b.View().Zone("example.com").Transfer(); tr.TSIGKey != "xfr." || len(tr.Allow) != 1 || len(tr.Notify) != 1 {
		t.Fatalf("transfer after restore = %+v", tr)
	}
	old := `{"format":"resolvx-state","version":1,"index":3,"zones":1,"policies":0}
{"name":"example.com.","soa":{"mname":"ns1.example.com.","rname":"h.example.com.","refresh":1,"retry":1,"expire":1,"minimum":1,"ttl":1},"created":1,"index":3,"records":[]}
`
	c := New(nil)
	if err := c.Restore(io.NopCloser(strings.NewReader(old))); err != nil {
		t.Fatal(err)
	}
	if len(c.View().TSIGKeys()) != 0 || c.View().Zone("example.com").Transfer().TSIGKey != "" {
		t.Fatal("an old snapshot restored with transfer state")
	}
}

// Invariant: a transfer setting naming an unknown key, or a bad key, is
// rejected by Apply and changes nothing.
func TestTransferCommandsValidated(t *testing.T) {
	f := New(nil)
	applyAll(t, f, [][]byte{mustEncode(t, OpCreateZone, CreateZone{Name: "example.com.", SOA: zone.DefaultSOA("example.com.")})})
	for i, b := range [][]byte{
		mustEncode(t, OpSetTransfer, SetTransfer{Zone: "example.com", Transfer: zone.Transfer{TSIGKey: "nope"}}),
		mustEncode(t, OpPutTSIGKey, PutTSIGKey{Key: zone.TSIGKey{Name: "k", Algorithm: "hmac-md5", Secret: "c2VjcmV0"}}),
		mustEncode(t, OpDeleteTSIGKey, DeleteTSIGKey{Name: "nope"}),
	} {
		if err := f.Apply(&raft.Log{Index: uint64(i + 2), Type: raft.LogCommand, Data: b}); err == nil {
			t.Fatalf("command %d was applied", i)
		}
	}
	if len(f.View().TSIGKeys()) != 0 || f.View().Zone("example.com").Transfer().TSIGKey != "" {
		t.Fatal("a rejected command changed the state")
	}
}
