package zone

import (
	"fmt"
	"runtime"
	"testing"
)

// genRecords makes n A records www<i>.example.com. (plus a few other types).
func genRecords(n int) []Record {
	recs := make([]Record, 0, n)
	for i := 0; i < n; i++ {
		recs = append(recs, Record{
			ID:    fmt.Sprintf("%016x", i),
			Name:  fmt.Sprintf("www%d.example.com.", i),
			Type:  "A",
			TTL:   300,
			Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
		})
	}
	return recs
}

func genZone(tb testing.TB, n int) *View {
	tb.Helper()
	z, err := BuildZone("example.com.", DefaultSOA("example.com."), 1, 2, genRecords(n))
	if err != nil {
		tb.Fatal(err)
	}
	return Empty().PutZone(z)
}

// BenchmarkZoneMemory reports the heap the zone index holds per record on a
// 1,000,000-record zone (records by ID plus the lookup nodes and their RRs).
// go test -tags hashicorpmetrics -run '^$' -bench ZoneMemory -benchtime 1x ./zone/
func BenchmarkZoneMemory(b *testing.B) {
	const n = 1_000_000
	for i := 0; i < b.N; i++ {
		recs := genRecords(n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		v := genZone(b, n)
		recs = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/record")
		runtime.KeepAlive(v)
		runtime.KeepAlive(recs)
	}
}

// BenchmarkApplyOneRecord shows that changing one record of a 100,000-record
// zone costs a few small allocations, not a copy of the zone.
func BenchmarkApplyOneRecord(b *testing.B) {
	v := genZone(b, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("new%d", i)
		nv, err := v.Apply("example.com.", []Change{{Op: OpAdd, Record: Record{ID: id, Name: "www5.example.com.", Type: "A", TTL: 300, Value: "192.0.2.1"}}}, uint64(3+i))
		if err != nil {
			b.Fatal(err)
		}
		_ = nv
	}
}

// BenchmarkBuildZone measures a 100,000-record import (validation included).
func BenchmarkBuildZone(b *testing.B) {
	recs := genRecords(100_000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := BuildZone("example.com.", DefaultSOA("example.com."), 1, 2, recs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	z := genZone(b, 100_000).Zone("example.com.")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if z.Lookup("www77777.example.com.").Kind != Exact {
			b.Fatal("miss")
		}
	}
}
