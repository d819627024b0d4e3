package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/zone"
)

// bigZoneFile returns an RFC 1035 master file for origin with n records:
// a SOA, $TTL, relative names, and a mix of A, AAAA, TXT, MX, SRV, CNAME
// and a multi-line TXT, as an operator's export would hold.
func bigZoneFile(origin string, n int) string {
	var b strings.Builder
	b.Grow(n * 48)
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 3600\n@ IN SOA ns1 hostmaster ( 1 7200 900 1209600 300 )\n", origin)
	for i := range n {
		switch i % 8 {
		case 0, 1, 2:
			fmt.Fprintf(&b, "host%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		case 3:
			fmt.Fprintf(&b, "host%d AAAA 2001:db8::%x:%x\n", i-3, i>>16, i&0xffff)
		case 4:
			fmt.Fprintf(&b, "txt%d 300 IN TXT ( \"v=spf1 ip4:10.0.0.0/8\"\n    \"-all %d\" )\n", i, i)
		case 5:
			fmt.Fprintf(&b, "mx%d MX 10 host%d\n", i, i-5)
		case 6:
			fmt.Fprintf(&b, "_sip._tcp.svc%d SRV 10 5 5060 host%d\n", i, i-6)
		case 7:
			fmt.Fprintf(&b, "alias%d CNAME host%d\n", i, i-7)
		}
	}
	return b.String()
}

// fsmApplier stands in for the Raft node: each proposed command becomes
// the next log entry, applied to the FSM at once (no replication, no disk).
// entries counts the log entries written.
type fsmApplier struct {
	f       *fsm.FSM
	entries uint64
}

func (a *fsmApplier) Apply(_ context.Context, cmd []byte) (uint64, error) {
	a.entries++
	if err, ok := a.f.Apply(&raft.Log{Index: a.entries, Type: raft.LogCommand, Data: cmd}).(error); ok {
		return 0, err
	}
	return a.entries, nil
}

// BenchmarkImport100k reports how long a 100,000-record zone file takes to
// import: parsing and validating it (zone.ParseZoneFile), building the
// zone (View.Replace), and proposing it through fsm.Writer, which encodes
// one log entry, validates the whole change against the state before
// proposing it, and (here, in place of Raft) applies the entry to an FSM.
//
//	GOTOOLCHAIN=local go test -tags hashicorpmetrics -run '^$' -bench Import100k -benchtime 1x ./conformance/
func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	text := bigZoneFile("big.example.", n)
	b.ReportMetric(float64(len(text)), "file-bytes")
	for range b.N {
		t0 := time.Now()
		zf, err := zone.ParseZoneFile("big.example.", text)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		recs := make([]zone.Record, len(zf.Records))
		for i, r := range zf.Records {
			r.ID = fmt.Sprintf("%016x", i)
			recs[i] = r
		}
		v, err := zone.Empty().CreateZone("big.example.", *zf.SOA, 1)
		if err != nil {
			b.Fatal(err)
		}
		if v, err = v.Replace("big.example.", recs, 2); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if got := v.Zone("big.example.").Len(); got != n {
			b.Fatalf("zone has %d records, want %d", got, n)
		}

		ap := &fsmApplier{f: fsm.New(nil)}
		w := fsm.NewWriter(ap.f, ap)
		if _, err := w.CreateZone(context.Background(), "big.example."); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		index, err := w.ReplaceZone(context.Background(), "big.example.", zf.SOA, zf.Records)
		t4 := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		// One atomic change: one log entry, the whole zone at its index.
		z := ap.f.View().Zone("big.example.")
		if ap.entries != 2 || z.Len() != n || z.Index() != index {
			b.Fatalf("%d log entries, zone of %d records at index %d (want 2, %d, %d)", ap.entries, z.Len(), z.Index(), n, index)
		}
		b.ReportMetric(t1.Sub(t0).Seconds(), "parse-s")
		b.ReportMetric(t2.Sub(t1).Seconds(), "replace-s")
		b.ReportMetric(t4.Sub(t3).Seconds(), "writer-s")
	}
}

// Invariant: a zone file import through fsm.Writer is one atomic change:
// a file whose last record conflicts with the others (a CNAME beside
// other data: valid alone, invalid in the zone) changes nothing and writes
// no log entry; the corrected file replaces the whole zone in one entry.
func TestImportIsAtomic(t *testing.T) {
	const n = 10_000
	ctx := context.Background()
	ap := &fsmApplier{f: fsm.New(nil)}
	w := fsm.NewWriter(ap.f, ap)
	if _, err := w.CreateZone(ctx, "big.example."); err != nil {
		t.Fatal(err)
	}
	before := ap.f.View().Zone("big.example.")
	bad, err := zone.ParseZoneFile("big.example.", bigZoneFile("big.example.", n)+"host0 CNAME elsewhere.example.\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReplaceZone(ctx, "big.example.", bad.SOA, bad.Records); !errors.Is(err, zone.ErrInvalid) {
		t.Fatalf("a conflicting import: want ErrInvalid, got %v", err)
	}
	if ap.entries != 1 || ap.f.View().Zone("big.example.") != before {
		t.Fatalf("a refused import wrote %d log entries or changed the zone", ap.entries-1)
	}
	good, err := zone.ParseZoneFile("big.example.", bigZoneFile("big.example.", n))
	if err != nil {
		t.Fatal(err)
	}
	index, err := w.ReplaceZone(ctx, "big.example.", good.SOA, good.Records)
	if err != nil {
		t.Fatal(err)
	}
	z := ap.f.View().Zone("big.example.")
	if ap.entries != 2 || z.Len() != n || z.Index() != index || z.SOAFields() != *good.SOA {
		t.Fatalf("%d log entries, %d records at index %d, SOA %+v; want 2, %d, %d, %+v",
			ap.entries, z.Len(), z.Index(), z.SOAFields(), n, index, *good.SOA)
	}
}
