package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// testZone is one zone file of testdata/.
type testZone struct {
	name string // apex, canonical
	text string
	file zone.ZoneFile
}

// loadTestZones reads every testdata/*.zone (the file name is the apex) and
// parses it as resolvx imports zone files.
func loadTestZones(tb testing.TB) []testZone {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.zone"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no test zones in testdata/: %v", err)
	}
	slices.Sort(files)
	var zones []testZone
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), "zone")
		zf, err := zone.ParseZoneFile(name, string(b))
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		if zf.SOA == nil {
			tb.Fatalf("%s: the test zone needs a SOA record (Knot requires one)", f)
		}
		zones = append(zones, testZone{name: name, text: string(b), file: zf})
	}
	return zones
}

// serialOf returns the SOA serial written in a zone file's text. resolvx
// derives the serial from the Raft index of the zone's last change, so the
// test applies each zone's records at this index: both servers then carry
// the same SOA and no allowance is needed for it.
func serialOf(tb testing.TB, z testZone) uint32 {
	tb.Helper()
	zp := dns.NewZoneParser(strings.NewReader(z.text), z.name, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if soa, isSOA := rr.(*dns.SOA); isSOA {
			return soa.Serial
		}
	}
	tb.Fatalf("%s: no SOA (%v)", z.name, zp.Err())
	return 0
}

// buildView imports the zones into a zone.View as the API's zone import
// does (ParseZoneFile → CreateZone with the file's SOA settings → Replace),
// the records applied at index serialOf(z) so that the serial matches the
// file. Record IDs follow file order.
func buildView(tb testing.TB, zones []testZone) *zone.View {
	tb.Helper()
	v := zone.Empty()
	for _, z := range zones {
		var err error
		if v, err = v.CreateZone(z.name, *z.file.SOA, 1); err != nil {
			tb.Fatalf("%s: %v", z.name, err)
		}
		recs := slices.Clone(z.file.Records)
		for i := range recs {
			recs[i].ID = fmt.Sprintf("r%06d", i)
		}
		if v, err = v.Replace(z.name, recs, uint64(serialOf(tb, z))); err != nil {
			tb.Fatalf("%s: %v", z.name, err)
		}
	}
	return v
}
