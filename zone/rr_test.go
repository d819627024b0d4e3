package zone

import (
	"errors"
	"strings"
	"testing"
)

func TestNewRecord(t *testing.T) {
	cases := []struct {
		name, typ, value string
		ttl              uint32
		prio             uint16
		wantName, wantV  string // empty wantName: expect an error
	}{
		{"www", "A", "192.0.2.1", 300, 0, "www.example.com.", "192.0.2.1"},
		{"@", "AAAA", "2001:DB8::1", 300, 0, "example.com.", "2001:db8::1"},
		{"WWW.example.com.", "a", "192.0.2.1", 0, 0, "www.example.com.", "192.0.2.1"},
		{"alias", "CNAME", "www", 300, 0, "alias.example.com.", "www.example.com."},
		{"@", "MX", "mail.example.net.", 300, 10, "example.com.", "mail.example.net."},
		{"_sip._tcp", "SRV", "5 5060 sip.example.com.", 300, 10, "_sip._tcp.example.com.", "5 5060 sip.example.com."},
		{"@", "TXT", `"v=spf1 -all"`, 300, 0, "example.com.", `"v=spf1 -all"`},
		{"@", "TXT", `hello`, 300, 0, "example.com.", `"hello"`},
		{"@", "CAA", `0 issue "letsencrypt.org"`, 300, 0, "example.com.", `0 issue "letsencrypt.org"`},
		{"1.2", "PTR", "host.example.com.", 300, 0, "1.2.example.com.", "host.example.com."},
		{"sub", "NS", "ns1.sub.example.com.", 300, 0, "sub.example.com.", "ns1.sub.example.com."},
		// errors
		{"www", "A", "300.1.1.1", 300, 0, "", ""},
		{"www", "A", "2001:db8::1", 300, 0, "", ""},
		{"www", "AAAA", "192.0.2.1", 300, 0, "", ""},
		{"www", "A", "", 300, 0, "", ""},
		{"www", "A", "192.0.2.1\n* 300 IN A 1.2.3.4", 300, 0, "", ""},
		{"www", "A", "192.0.2.1", MaxTTL + 1, 0, "", ""},
		{"www", "SOA", "a. b. 1 2 3 4 5", 300, 0, "", ""},
		{"www", "BOGUS", "x", 300, 0, "", ""},
		{"www.example.org.", "A", "192.0.2.1", 300, 0, "", ""},
		{"@", "CNAME", "www", 300, 0, "", ""},
		{"www", "A", "192.0.2.1", 300, 5, "", ""},
		{"*.x", "NS", "ns.example.com.", 300, 0, "", ""},
		{"a..b", "A", "192.0.2.1", 300, 0, "", ""},
		{"www", "MX", "(mail.example.com.", 300, 1, "", ""},
		{"www", "CAA", `0 issue`, 300, 0, "", ""},
	}
	for _, c := range cases {
		r, err := NewRecord("example.com", c.name, c.typ, c.value, c.ttl, c.prio)
		if c.wantName == "" {
			if err == nil {
				t.Errorf("%s %s %q: want an error, got %+v", c.name, c.typ, c.value, r)
			} else if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s %s %q: error %v is not ErrInvalid", c.name, c.typ, c.value, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s %q: %v", c.name, c.typ, c.value, err)
			continue
		}
		if r.Name != c.wantName || r.Value != c.wantV || r.Type != strings.ToUpper(c.typ) {
			t.Errorf("%s %s %q: got %+v, want name %q value %q", c.name, c.typ, c.value, r, c.wantName, c.wantV)
		}
	}
}

// Invariant: a parse error never carries the text that failed to parse.
func TestParseErrorsDoNotEchoContent(t *testing.T) {
	_, err := NewRecord("example.com", "www", "A", "secret-token-xyz", 300, 0)
	if err == nil {
		t.Fatal("want an error")
	}
	// The value is quoted once on purpose (a record value is user input, not
	// file content) but the parser's own echo must be gone.
	if strings.Count(err.Error(), "secret-token-xyz") > 1 {
		t.Errorf("error echoes the value twice: %v", err)
	}
	_, err = ParseZoneText("example.com", "www 300 IN A secret-token-xyz\n")
	if err == nil || strings.Contains(err.Error(), "secret-token-xyz") {
		t.Errorf("zone file error echoes content: %v", err)
	}
}
