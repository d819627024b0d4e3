package conformance

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/dnsserver"
	"github.com/resolvx/resolvx/zone"
)

// Invariant: for every test zone, exporting it (zone.ExportText) and
// importing the text again (zone.ParseZoneFile) gives the same SOA
// settings and records, a second export of the same text, and the same
// answers to the whole corpus (UDP and TCP, compared RRset by RRset with
// no allowance at all). TestKnotDifferential checks further that knotd
// loading the exported files answers as it does from the originals.
func TestZoneFileRoundTrip(t *testing.T) {
	zones := loadTestZones(t)
	orig := buildView(t, zones)
	var again []testZone
	for _, z := range zones {
		text := zone.ExportText(orig.Zone(z.name))
		zf, err := zone.ParseZoneFile(z.name, text)
		if err != nil {
			t.Fatalf("%s: the export does not import: %v\n%s", z.name, err, text)
		}
		if *zf.SOA != orig.Zone(z.name).SOAFields() {
			t.Errorf("%s: SOA %+v, want %+v", z.name, *zf.SOA, orig.Zone(z.name).SOAFields())
		}
		want := orig.Zone(z.name).Records()
		if len(zf.Records) != len(want) {
			t.Errorf("%s: %d records after the round trip, want %d", z.name, len(zf.Records), len(want))
		}
		for i := range min(len(zf.Records), len(want)) {
			got := zf.Records[i]
			got.ID = want[i].ID
			if got != want[i] {
				t.Errorf("%s: record %d is %+v, want %+v", z.name, i, got, want[i])
			}
		}
		again = append(again, testZone{name: z.name, text: text, file: zf})
	}
	back := buildView(t, again)
	for _, z := range again {
		if text := zone.ExportText(back.Zone(z.name)); text != z.text {
			t.Errorf("%s: the second export differs from the first:\n%s\n---\n%s", z.name, z.text, text)
		}
	}

	seed, n := uint64(defaultSeed), defaultQueries
	corpus := genCorpus(t, newNamePool(orig, rand.New(rand.NewPCG(seed, 1))), seed, n)
	differ := 0
	for _, q := range corpus {
		for _, tcp := range []bool{false, true} {
			a := wireReply(t, orig, q, tcp)
			b := wireReply(t, back, q, tcp)
			if d := diff(render(a), render(b)); len(d) > 0 {
				differ++
				if differ <= 10 {
					t.Errorf("%s (tcp %v) is answered differently after the round trip:\n  %s", describe(q), tcp, strings.Join(d, "\n  "))
				}
			}
		}
	}
	t.Logf("export/import round trip: %d zones, %d queries × UDP and TCP, %d differences", len(zones), len(corpus), differ)
}

// wireReply answers q from v in process and returns the reply as a client
// reads it (packed and unpacked), or nil when Answer sends nothing.
func wireReply(t *testing.T, v *zone.View, q *query, tcp bool) *dns.Msg {
	t.Helper()
	req := new(dns.Msg)
	if err := req.Unpack(q.wire); err != nil {
		t.Fatalf("%s: %v", describe(q), err)
	}
	m := dnsserver.Answer(dnsserver.Data{Zones: v}, req, dnsserver.Query{TCP: tcp})
	if m == nil {
		return nil
	}
	w, err := m.Pack()
	if err != nil {
		t.Fatalf("%s: the reply does not pack: %v", describe(q), err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(w); err != nil {
		t.Fatal(fmt.Errorf("%s: the reply does not unpack: %w", describe(q), err))
	}
	return out
}
