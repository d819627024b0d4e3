package zone

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// checkError is what every refusal must look like: ErrInvalid, a bounded
// message, no control characters.
func checkError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("refusal is not ErrInvalid: %v", err)
	}
	msg := err.Error()
	if len(msg) > 10_000 {
		t.Fatalf("error message of %d bytes", len(msg))
	}
	if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		t.Fatalf("error message with a control character: %q", msg)
	}
}

// checkCanonical checks a record that was accepted: canonical owner and
// type, a value that NewRecord accepts again unchanged (the canonical form
// is a fixed point), and data that encodes on the wire.
func checkCanonical(t *testing.T, zoneName string, r Record) {
	t.Helper()
	if c, err := CanonicalName(r.Name); err != nil || c != r.Name {
		t.Fatalf("owner %q is not canonical (%q, %v)", r.Name, c, err)
	}
	if _, ok := supportedTypes[r.Type]; !ok {
		t.Fatalf("type %q is not a supported type", r.Type)
	}
	again, err := NewRecord(zoneName, r.Name, r.Type, r.Value, r.TTL, r.Priority)
	if err != nil {
		t.Fatalf("the canonical record %+v is refused: %v", r, err)
	}
	again.ID = r.ID
	if again != r {
		t.Fatalf("the canonical form is not a fixed point:\n %+v\n %+v", r, again)
	}
	rdata := r.Value
	if hasPriority(supportedTypes[r.Type]) {
		rdata = fmt.Sprintf("%d %s", r.Priority, r.Value)
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", r.Name, r.TTL, r.Type, rdata))
	if err != nil || rr == nil {
		t.Fatalf("the canonical record %+v does not parse: %v", r, err)
	}
	if _, err := dns.PackRR(rr, make([]byte, 65535), 0, nil, false); err != nil {
		t.Fatalf("the record %+v does not encode: %v", r, err)
	}
}

// FuzzNewRecord feeds record fields as the API takes them. Invariants:
// NewRecord never panics; a refusal is ErrInvalid with a clean message; an
// accepted record is canonical, NewRecord gives it back unchanged, it
// encodes on the wire, and a zone holding it exports to text that imports
// to the same record.
func FuzzNewRecord(f *testing.F) {
	for _, c := range []struct {
		name, typ, value string
		prio             uint16
	}{
		{"www", "A", "192.0.2.1", 0},
		{"@", "AAAA", "2001:db8::1", 0},
		{"alias", "CNAME", "www", 0},
		{"@", "MX", "mail.example.net.", 10},
		{"_sip._tcp", "SRV", "5 5060 sip", 10},
		{"@", "TXT", `"v=spf1 -all" "second; string"`, 0},
		{"@", "CAA", `0 issue "letsencrypt.org"`, 0},
		{"1.2", "PTR", "host.example.com.", 0},
		{"sub", "NS", "ns1.sub", 0},
		{"sub", "DS", "12345 13 2 " + sha256Hex, 0},
		{"host", "SSHFP", "4 2 " + sha256Hex, 0},
		{"_443._tcp.www", "TLSA", "3 1 1 " + sha256Hex, 0},
		{"@", "NAPTR", `100 10 u E2U+sip !^.*$!sip:info@example.com! .`, 0},
		{"@", "SVCB", "1 svc alpn=h2,h3 port=8443 mandatory=alpn", 0},
		{"@", "HTTPS", "1 . alpn=h3 no-default-alpn ipv4hint=192.0.2.1 ech=AEn+DQBF", 0},
		{"@", "HINFO", "PC Linux", 0},
		{"*.wild", "A", "192.0.2.9", 0},
		{"a/b", "PTR", "x.", 0},
	} {
		f.Add(c.name, c.typ, c.value, uint32(300), c.prio)
	}
	f.Fuzz(func(t *testing.T, name, typ, value string, ttl uint32, prio uint16) {
		const zoneName = "example.com."
		r, err := NewRecord(zoneName, name, typ, value, ttl, prio)
		if err != nil {
			checkError(t, err)
			return
		}
		checkCanonical(t, zoneName, r)
		r.ID = "r1"
		z, err := BuildZone(zoneName, DefaultSOA(zoneName), 1, 2, []Record{r})
		if err != nil {
			checkError(t, err) // valid alone, not in a zone (a DS at the apex)
			return
		}
		zf, err := ParseZoneFile(zoneName, ExportText(z))
		if err != nil || len(zf.Records) != 1 {
			t.Fatalf("the export of %+v does not import: %v %+v", r, err, zf.Records)
		}
		zf.Records[0].ID = r.ID
		if zf.Records[0] != r {
			t.Fatalf("export/import changed the record:\n %+v\n %+v", r, zf.Records[0])
		}
	})
}

// FuzzParseZoneFile feeds master-file text. Invariants: ParseZoneFile
// never panics; a refusal is ErrInvalid with a clean message; every record
// it returns is canonical (see checkCanonical); and when the records form
// a valid zone, its export imports to the same SOA settings and records.
func FuzzParseZoneFile(f *testing.F) {
	for _, text := range []string{
		"$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster ( 1 7200 900 1209600 300 )\n@ NS ns1\nns1 A 192.0.2.1\n",
		"www 60 IN A 192.0.2.1\nwww AAAA 2001:db8::1 ; comment\n",
		"txt TXT ( \"one\"\n  \"two\" )\n",
		"$ORIGIN sub.example.com.\nhost A 192.0.2.5\n$ORIGIN example.com.\n*.wild CNAME www\n",
		"sub NS ns.sub\nsub DS 12345 13 2 " + sha256Hex + "\nns.sub A 192.0.2.77\n",
		"_443._tcp TLSA 3 1 1 " + sha256Hex + "\nhost SSHFP 1 1 " + sha1Hex + "\n",
		"@ NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp\n@ HTTPS 1 . alpn=h2 no-default-alpn\n_dns SVCB 1 . port=853\n",
		"@ HINFO \"PC\" \"Linux\"\n@ CAA 0 issue \"ca.example\"\n@ MX 10 mail\n_s._tcp SRV 1 2 3 t\n",
		"$INCLUDE /etc/passwd\n",
		"$GENERATE 1-10 h$ A 192.0.2.$\n",
		"www IN A 192.0.2.1\nwww.example.org. IN A 192.0.2.1\n",
		"@ SOA a. b. 1 2 3 4 5\n@ SOA a. b. 1 2 3 4 5\n",
	} {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<16 {
			return
		}
		const origin = "example.com."
		zf, err := ParseZoneFile(origin, text)
		if err != nil {
			checkError(t, err)
			return
		}
		for _, r := range zf.Records {
			checkCanonical(t, origin, r)
		}
		soa := DefaultSOA(origin)
		if zf.SOA != nil {
			if soa, err = ValidateSOA(*zf.SOA); err != nil {
				t.Fatalf("the file's SOA %+v is invalid: %v", *zf.SOA, err)
			}
		}
		recs := make([]Record, len(zf.Records))
		for i, r := range zf.Records {
			r.ID = fmt.Sprintf("r%06d", i)
			recs[i] = r
		}
		z, err := BuildZone(origin, soa, 1, 2, recs)
		if err != nil {
			checkError(t, err) // duplicates, a CNAME beside data, …
			return
		}
		back, err := ParseZoneFile(origin, ExportText(z))
		if err != nil {
			t.Fatalf("the export does not import: %v\n%s", err, ExportText(z))
		}
		if back.SOA == nil || *back.SOA != soa {
			t.Fatalf("export/import changed the SOA: %+v, want %+v", back.SOA, soa)
		}
		want := z.Records()
		if len(back.Records) != len(want) {
			t.Fatalf("export/import: %d records, want %d", len(back.Records), len(want))
		}
		for i := range want {
			back.Records[i].ID = want[i].ID
			if back.Records[i] != want[i] {
				t.Fatalf("export/import changed a record:\n %+v\n %+v", want[i], back.Records[i])
			}
		}
	})
}
