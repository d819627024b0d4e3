package zone

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const (
	sha1Hex   = "e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98"
	sha256Hex = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
	sha384Hex = "8ac10705a78a2dcd15fa577bac70762708597a02e130d8a6192d73dababd2b14502dbeee29d0e22bc341a0c42af6a4fb"
)

// Invariant: every record type of issue 4 item 5 (DS, SSHFP, TLSA, NAPTR,
// SVCB, HTTPS, HINFO) is accepted as users type it in the API (mnemonics,
// upper or lower case hex, spaces in digests, unquoted strings, relative
// target names), comes back in one canonical presentation that parses to
// itself and encodes on the wire; data that would not encode or that no
// validator accepts is refused with ErrInvalid.
func TestNewRecordTypesOfIssue4(t *testing.T) {
	ok := []struct{ name, typ, value, want string }{
		{"sub", "DS", "12345 13 2 " + sha256Hex, "12345 13 2 " + strings.ToUpper(sha256Hex)},
		{"sub", "DS", "12345 ECDSAP256SHA256 2 " + strings.ToUpper(sha256Hex[:32]) + " " + sha256Hex[32:], "12345 13 2 " + strings.ToUpper(sha256Hex)},
		{"sub", "ds", "60485 5 1 " + sha1Hex, "60485 5 1 " + strings.ToUpper(sha1Hex)},
		{"sub", "DS", "1 13 4 " + sha384Hex, "1 13 4 " + strings.ToUpper(sha384Hex)},
		{"sub", "DS", "1 13 99 abcd", "1 13 99 ABCD"}, // unknown digest type: any length
		{"host", "SSHFP", "1 1 " + sha1Hex, "1 1 " + strings.ToUpper(sha1Hex)},
		{"host", "SSHFP", "4 2 " + sha256Hex, "4 2 " + strings.ToUpper(sha256Hex)},
		{"_443._tcp.www", "TLSA", "3 1 1 " + strings.ToUpper(sha256Hex), "3 1 1 " + sha256Hex}, // one case: duplicates are found
		{"_25._tcp.mail", "TLSA", "2 0 0 30820122300d06092a864886f70d01010105000382010f00", "2 0 0 30820122300d06092a864886f70d01010105000382010f00"},
		{"@", "NAPTR", `100 10 "S" "SIP+D2U" "" _sip._udp.example.com.`, `100 10 "S" "SIP+D2U" "" _sip._udp.example.com.`},
		{"@", "NAPTR", `100 10 u E2U+sip !^.*$!sip:info@example.com! .`, `100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`},
		{"@", "NAPTR", `100 20 "u" "E2U+sip" "!^(.*)$!sip:\\1@example.com!" .`, `100 20 "u" "E2U+sip" "!^(.*)$!sip:\\1@example.com!" .`},
		{"@", "NAPTR", `200 10 "A" "http+N2R" "" www`, `200 10 "A" "http+N2R" "" www.example.com.`},
		{"@", "SVCB", "1 svc.example.com. alpn=h2,h3 port=8443", `1 svc.example.com. alpn="h2,h3" port="8443"`},
		{"_dns", "SVCB", `1 . alpn="dot" port="853" mandatory="alpn"`, `1 . alpn="dot" port="853" mandatory="alpn"`},
		{"@", "SVCB", "0 target", "0 target.example.com."},
		{"@", "HTTPS", "1 . alpn=h3,h2 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1 no-default-alpn",
			`1 . alpn="h3,h2" ipv4hint="192.0.2.1,192.0.2.2" ipv6hint="2001:db8::1" no-default-alpn`},
		{"@", "HTTPS", `1 . ech="AEn+DQBFKwAgACABWIHUGj4u+PIggYXcR5JF0gYk3dCRioBW8uJq9H4mKAAIAAEAAQABAANAEnB1YmxpYy50bHMtZWNoLmRldgAA"`,
			`1 . ech="AEn+DQBFKwAgACABWIHUGj4u+PIggYXcR5JF0gYk3dCRioBW8uJq9H4mKAAIAAEAAQABAANAEnB1YmxpYy50bHMtZWNoLmRldgAA"`},
		{"@", "HTTPS", "0 www", "0 www.example.com."},
		{"@", "HTTPS", "1 . dohpath=/dns-query{?dns} ohttp", `1 . dohpath="/dns-query{?dns}" ohttp`},
		{"@", "HINFO", `"Intel x86" "Debian GNU/Linux"`, `"Intel x86" "Debian GNU/Linux"`},
		{"@", "HINFO", "PC Linux", `"PC" "Linux"`},
		{"@", "TXT", `"v=DKIM1; k=rsa"`, `"v=DKIM1; k=rsa"`},
		{"@", "TXT", `a\;b`, `"a;b"`},
	}
	for _, c := range ok {
		r, err := NewRecord("example.com", c.name, c.typ, c.value, 300, 0)
		if err != nil {
			t.Errorf("%s %s %q: %v", c.name, c.typ, c.value, err)
			continue
		}
		if r.Value != c.want {
			t.Errorf("%s %s %q: value %q, want %q", c.name, c.typ, c.value, r.Value, c.want)
		}
		again, err := NewRecord("example.com", r.Name, r.Type, r.Value, r.TTL, r.Priority)
		if err != nil || again != r {
			t.Errorf("%s %s: the canonical value %q does not parse to itself: %+v %v", c.name, c.typ, r.Value, again, err)
		}
		rr, err := dns.NewRR(r.Name + " 300 IN " + r.Type + " " + r.Value)
		if err != nil {
			t.Errorf("%s %s: canonical value %q: %v", c.name, c.typ, r.Value, err)
			continue
		}
		if _, err := dns.PackRR(rr, make([]byte, 4096), 0, nil, false); err != nil {
			t.Errorf("%s %s: %q does not encode: %v", c.name, c.typ, r.Value, err)
		}
	}

	bad := []struct{ name, typ, value, why string }{
		{"sub", "DS", "12345 13 2 zz", "not hex"},
		{"sub", "DS", "12345 13 2 abc", "odd hex"},
		{"sub", "DS", "12345 13 2 ca97", "short SHA-256"},
		{"sub", "DS", "12345 13 1 " + sha256Hex, "SHA-1 type with a SHA-256 digest"},
		{"sub", "DS", "12345 13 2", "no digest"},
		{"host", "SSHFP", "1 1 xyz", "not hex"},
		{"host", "SSHFP", "1 2 " + sha1Hex, "SHA-256 type with a SHA-1 digest"},
		{"_443._tcp.www", "TLSA", "3 1 1 ghij", "not hex"},
		{"_443._tcp.www", "TLSA", "3 1 2 " + sha256Hex, "SHA-512 type with a SHA-256 digest"},
		{"@", "NAPTR", `100 10 "u" "E2U+sip" "unterminated`, "open quote"},
		{"@", "NAPTR", "100 10 u", "too few fields"},
		{"@", "SVCB", "1 . alpn=h2 alpn=h3", "repeated key"},
		{"@", "SVCB", "1 . mandatory=port alpn=h2", "mandatory key missing"},
		{"@", "SVCB", "1 . mandatory=mandatory", "mandatory lists itself"},
		{"@", "HTTPS", `1 . ech="!!notbase64"`, "ech not base64"},
		{"@", "HINFO", `"a b`, "open quote"},
		{"@", "TXT", ";", "a comment: no string"},
		{"@", "CAA", `0 "" "x"`, "empty CAA tag"},
		{"@", "CAA", `0 is-sue "x"`, "CAA tag with a hyphen"},
		{"@", "TXT", "v=spf1 -all; include", "text after ';' would be dropped"},
	}
	for _, c := range bad {
		r, err := NewRecord("example.com", c.name, c.typ, c.value, 300, 0)
		if err == nil {
			t.Errorf("%s %s %q (%s): accepted as %+v", c.name, c.typ, c.value, c.why, r)
			continue
		}
		if !errors.Is(err, ErrInvalid) || strings.HasSuffix(err.Error(), ": ") {
			t.Errorf("%s %s %q (%s): error %q", c.name, c.typ, c.value, c.why, err)
		}
	}
}

// Invariant: a zone file holding every type of issue 4 item 5 imports, is
// refused when one of them does not encode, and exports to text that
// imports to the same records.
func TestZoneFileTypesOfIssue4(t *testing.T) {
	text := `$ORIGIN example.com.
$TTL 600
sub            NS      ns1.example.com.
sub            DS      12345 13 2 ` + sha256Hex + `
host           SSHFP   4 2 ` + sha256Hex + `
_443._tcp.www  TLSA    3 1 1 ` + sha256Hex + `
@              NAPTR   100 10 "S" "SIP+D2U" "" _sip._udp
_dns           SVCB    1 . alpn=dot port=853
@              HTTPS   1 . alpn=h2 no-default-alpn
host           HINFO   "PC" "Linux"
`
	zf, err := ParseZoneFile("example.com", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(zf.Records) != 8 {
		t.Fatalf("%d records, want 8", len(zf.Records))
	}
	for i := range zf.Records {
		zf.Records[i].ID = string(rune('a' + i))
	}
	v, err := Empty().CreateZone("example.com", DefaultSOA("example.com"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = v.Replace("example.com", zf.Records, 2); err != nil {
		t.Fatal(err)
	}
	exported := ExportText(v.Zone("example.com"))
	if strings.Contains(exported, `no-default-alpn=""`) {
		t.Errorf("export writes no-default-alpn with a value, which Knot refuses:\n%s", exported)
	}
	back, err := ParseZoneFile("example.com", exported)
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, exported)
	}
	want := v.Zone("example.com").Records()
	if len(back.Records) != len(want) {
		t.Fatalf("re-import: %d records, want %d", len(back.Records), len(want))
	}
	for i := range want {
		back.Records[i].ID = want[i].ID
		if back.Records[i] != want[i] {
			t.Errorf("re-import: %+v, want %+v", back.Records[i], want[i])
		}
	}
	for _, line := range []string{
		"sub DS 12345 13 2 abc\n",
		"host SSHFP 1 1 " + sha256Hex + "\n",
		"@ SVCB 1 . alpn=h2 alpn=h3\n",
	} {
		if _, err := ParseZoneFile("example.com", line); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: want ErrInvalid, got %v", line, err)
		}
	}
}
