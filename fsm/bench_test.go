package fsm

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/zone"
)

// BenchmarkFSMMemoryPerRecord reports the heap the FSM holds per record after
// a 1,000,000-record zone was imported through a Raft log entry, exactly as
// a node holds it (records by ID, the lookup nodes and their RRs), measured
// after the command itself is garbage.
//
//	go test -tags hashicorpmetrics -run '^$' -bench FSMMemoryPerRecord -benchtime 1x ./fsm/
func BenchmarkFSMMemoryPerRecord(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		f := New(nil)
		f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: mustEncode(b, OpCreateZone, CreateZone{Name: "example.com.", SOA: zone.DefaultSOA("example.com.")})})
		cmd := importCommand(b, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err, ok := f.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: cmd}).(error); ok {
			b.Fatal(err)
		}
		cmd = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := f.View().Zone("example.com").Len(); got != n {
			b.Fatalf("zone has %d records", got)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/record")
		runtime.KeepAlive(f)
		runtime.KeepAlive(cmd)
	}
}

// importCommand encodes a ReplaceRecords of n A records.
func importCommand(tb testing.TB, n int) []byte {
	recs := make([]zone.Record, n)
	for i := range recs {
		recs[i] = zone.Record{ID: fmt.Sprintf("%016x", i), Name: fmt.Sprintf("host%d.example.com.", i), Type: "A", TTL: 300,
			Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
	}
	return mustEncode(tb, OpReplaceRecords, ReplaceRecords{Zone: "example.com.", Records: recs})
}
