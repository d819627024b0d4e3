package zone

import (
	"errors"
	"strings"
	"testing"
)

// Invariant: export then import gives the same records and SOA settings.
func TestZoneFileRoundTrip(t *testing.T) {
	v := mustZone(t)
	z := v.Zone("example.com")
	text := ExportText(z)
	zf, err := ParseZoneFile("example.com", text)
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, text)
	}
	if zf.SOA == nil || *zf.SOA != z.SOAFields() {
		t.Fatalf("SOA %+v, want %+v", zf.SOA, z.SOAFields())
	}
	got, want := zf.Records, z.Records()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		got[i].ID = want[i].ID
		if got[i] != want[i] {
			t.Errorf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestZoneFileMultiLineAndDirectives(t *testing.T) {
	recs, err := ParseZoneText("example.com", `
$TTL 120
$ORIGIN example.com.
@ IN SOA ns1 hostmaster ( 1 ; serial is ignored
        3600 600 86400 300 )
txt IN TXT ( "one"
             "two" )
$ORIGIN sub.example.com.
host IN A 192.0.2.5
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Value != `"one" "two"` || recs[0].TTL != 120 || recs[1].Name != "host.sub.example.com." {
		t.Fatalf("got %+v", recs)
	}
	for _, bad := range []string{
		"$INCLUDE /etc/passwd\n",
		"  $include /etc/passwd\n",
		"$GENERATE 1-100 host$ A 192.0.2.$\n",
		"www IN A 192.0.2.1\nwww.example.org. IN A 192.0.2.1\n",
		"www IN RRSIG A 8 2 300 20300101000000 20200101000000 1 example.com. AAAA\n",
		"www CH TXT x\n",
		"sub IN SOA a. b. 1 2 3 4 5\n",
		"@ SOA\n",
		"@ SOA a. b. 1 2 3 4 4294967295\n",
	} {
		if _, err := ParseZoneText("example.com", bad); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: want ErrInvalid, got %v", bad, err)
		} else if strings.Contains(err.Error(), "passwd") {
			t.Errorf("error echoes the file: %v", err)
		}
	}
}

// Invariant: a record listed twice in a zone file is imported once, as
// BIND and Knot load it (RFC 2181 §5), instead of failing the import.
func TestZoneFileDuplicatesAreOne(t *testing.T) {
	zf, err := ParseZoneFile("example.com.", "www 300 IN A 192.0.2.1\nwww 600 IN A 192.0.2.1\n www IN A 192.0.2.2\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(zf.Records) != 2 || zf.Records[0].TTL != 300 {
		t.Fatalf("got %+v, want two records with the first TTL kept", zf.Records)
	}
}
