package zone

import (
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// rrText is an RR in presentation form, the key of the zone contents below.
func rrText(rr dns.RR) string { return rr.String() }

// contents returns the zone's RRs (SOA aside) as a set of texts.
func contents(z *Zone) map[string]bool {
	out := map[string]bool{}
	for _, rr := range z.RRs() {
		out[rrText(rr)] = true
	}
	return out
}

// Invariant: applying the deltas ChangesSince(s) returns (deletions, then
// additions, per RFC 1995) to the contents of the version with serial s
// gives exactly the current contents, for every remembered version: record
// changes, TTL moves, SOA changes and whole imports alike.
func TestHistoryReplaysToCurrent(t *testing.T) {
	v := mustZone(t)
	versions := map[uint32]map[string]bool{}
	snap := func() { z := v.Zone("example.com"); versions[z.Serial()] = contents(z) }
	snap()
	steps := []func(index uint64) (*View, error){
		func(i uint64) (*View, error) {
			return v.Apply("example.com", []Change{add("n1", "new.example.com.", "A", "192.0.2.10")}, i)
		},
		func(i uint64) (*View, error) { // lowers the TTL of the www RRset
			c := add("n2", "www.example.com.", "A", "192.0.2.3")
			c.Record.TTL = 60
			return v.Apply("example.com", []Change{c}, i)
		},
		func(i uint64) (*View, error) { // added and deleted in one set: no trace
			return v.Apply("example.com", []Change{add("n3", "tmp.example.com.", "A", "192.0.2.11"), {Op: OpDelete, ID: "n3"}}, i)
		},
		func(i uint64) (*View, error) { return v.Apply("example.com", []Change{{Op: OpDelete, ID: "n2"}}, i) },
		func(i uint64) (*View, error) {
			soa := DefaultSOA("example.com")
			soa.Minimum = 60
			return v.SetSOA("example.com", soa, i)
		},
		func(i uint64) (*View, error) {
			recs, err := ParseZoneText("example.com", "$ORIGIN example.com.\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.53\nother 300 IN TXT \"x\"\n")
			for k := range recs {
				recs[k].ID = "imp" + string(rune('a'+k))
			}
			if err != nil {
				return nil, err
			}
			return v.Replace("example.com", recs, i)
		},
	}
	for i, step := range steps {
		nv, err := step(uint64(10 + i))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		v = nv
		snap()
	}
	cur := v.Zone("example.com")
	if got := cur.HistoryLen(); got != len(steps)+1 { // the first import is a delta too
		t.Fatalf("history holds %d deltas, want %d", got, len(steps)+1)
	}
	for serial, old := range versions {
		deltas, ok := cur.ChangesSince(serial)
		if !ok {
			t.Fatalf("serial %d: not remembered", serial)
		}
		got := maps.Clone(old)
		from := serial
		for _, d := range deltas {
			if d.From.Serial != from {
				t.Fatalf("serial %d: delta chain broken at %d (delta from %d)", serial, from, d.From.Serial)
			}
			for _, rr := range d.Deleted {
				if !got[rrText(rr)] {
					t.Fatalf("serial %d: delta %d→%d deletes %s, which is not there", serial, d.From.Serial, d.To.Serial, rr)
				}
				delete(got, rrText(rr))
			}
			for _, rr := range d.Added {
				got[rrText(rr)] = true
			}
			from = d.To.Serial
		}
		if from != cur.Serial() || !maps.Equal(got, contents(cur)) {
			t.Fatalf("serial %d: replay gives %v at %d, want %v at %d", serial, slices.Sorted(maps.Keys(got)), from, slices.Sorted(maps.Keys(contents(cur))), cur.Serial())
		}
	}
	if _, ok := cur.ChangesSince(12345); ok {
		t.Fatal("an unknown serial is remembered")
	}
}

// Invariant: a zone remembers at most HistoryLen deltas; the oldest go
// first.
func TestHistoryIsBounded(t *testing.T) {
	v := mustZone(t)
	first := v.Zone("example.com").Serial()
	for i := range HistoryLen + 5 {
		var err error
		if v, err = v.SetSOA("example.com", DefaultSOA("example.com"), uint64(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	z := v.Zone("example.com")
	if z.HistoryLen() != HistoryLen {
		t.Fatalf("history holds %d, want %d", z.HistoryLen(), HistoryLen)
	}
	if _, ok := z.ChangesSince(first); ok {
		t.Fatal("a serial older than the history is still remembered")
	}
}

// Invariant: transfer settings are validated against the view's keys,
// survive record changes and imports, and a key in use cannot be deleted.
func TestTransferSettingsAndKeys(t *testing.T) {
	v := mustZone(t)
	if _, err := v.SetTransfer("example.com", Transfer{TSIGKey: "nokey"}); err == nil {
		t.Fatal("an unknown key was accepted")
	}
	for _, bad := range []Transfer{{Allow: []string{"300.0.0.1/8"}}, {Notify: []string{"host:53"}}, {Notify: []string{"127.0.0.1"}}} {
		if _, err := v.SetTransfer("example.com", bad); err == nil {
			t.Fatalf("%+v was accepted", bad)
		}
	}
	for _, bad := range []TSIGKey{{Name: "k", Algorithm: "hmac-md5", Secret: "c2VjcmV0"}, {Name: "k", Secret: "!!"}, {Name: "", Secret: "c2VjcmV0"}} {
		if _, err := v.PutTSIGKey(bad); err == nil {
			t.Fatalf("key %+v was accepted", bad.Algorithm)
		}
	}
	v, err := v.PutTSIGKey(TSIGKey{Name: "XFR", Secret: "c2VjcmV0c2VjcmV0"})
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := v.TSIGKey("xfr."); !ok || k.Algorithm != dns.HmacSHA256 {
		t.Fatalf("key = %+v, %v", k, ok)
	}
	v, err = v.SetTransfer("example.com", Transfer{Allow: []string{"127.0.0.1", "10.1.2.3/8"}, TSIGKey: "xfr", Notify: []string{"127.0.0.1:5300"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err = v.Apply("example.com", []Change{add("n1", "new.example.com.", "A", "192.0.2.10")}, 50)
	if err != nil {
		t.Fatal(err)
	}
	z := v.Zone("example.com")
	want := Transfer{Allow: []string{"127.0.0.1/32", "10.0.0.0/8"}, TSIGKey: "xfr.", Notify: []string{"127.0.0.1:5300"}}
	if got := z.Transfer(); !slices.Equal(got.Allow, want.Allow) || got.TSIGKey != want.TSIGKey || !slices.Equal(got.Notify, want.Notify) {
		t.Fatalf("transfer = %+v, want %+v", got, want)
	}
	if !z.TransferAllowedFrom(mustAddr("10.9.9.9")) || z.TransferAllowedFrom(mustAddr("127.0.0.2")) {
		t.Fatal("the ACL does not match")
	}
	if _, err := v.DeleteTSIGKey("xfr"); err == nil {
		t.Fatal("a key in use was deleted")
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Invariant: two steps of one command (an import's SOA, then its records,
// at one index) leave one delta, from the serial before the command.
func TestHistoryOneDeltaPerIndex(t *testing.T) {
	v := mustZone(t)
	before := v.Zone("example.com").Serial()
	soa := DefaultSOA("example.com")
	soa.Refresh = 99
	v, err := v.SetSOA("example.com", soa, 20)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = v.Replace("example.com", nil, 20); err != nil {
		t.Fatal(err)
	}
	deltas, ok := v.Zone("example.com").ChangesSince(before)
	if !ok || len(deltas) != 1 || deltas[0].From.Serial != before || deltas[0].To.Serial != 20 || deltas[0].To.Refresh != 99 {
		t.Fatalf("deltas since %d: %v %v", before, deltas, ok)
	}
	if _, ok := v.Zone("example.com").ChangesSince(20); !ok {
		t.Fatal("the current serial is not current")
	}
}
