package zone

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalName(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Example.COM", "example.com.", true},
		{"example.com.", "example.com.", true},
		{"*.example.com", "*.example.com.", true},
		{"_sip._tcp.example.com", "_sip._tcp.example.com.", true},
		{"0/25.2.0.192.in-addr.arpa", "0/25.2.0.192.in-addr.arpa.", true},
		{long63 + ".com", long63 + ".com.", true},
		{".", ".", true},
		{"", "", false},
		{"a..b", "", false},
		{".a", "", false},
		{strings.Repeat("a", 64) + ".com", "", false},
		{strings.Repeat(long63+".", 4) + "com", "", false}, // 259 > 253
		{"a\x01b.com", "", false},
		{"a b.com", "", false},
		{"a.*.com", "", false},
		{"a\\.b.com", "", false},
	}
	for _, c := range cases {
		got, err := CanonicalName(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if !c.ok {
			if err == nil {
				t.Errorf("CanonicalName(%q) = %q; want an error", c.in, got)
			} else if !errors.Is(err, ErrInvalid) || strings.ContainsRune(err.Error(), 1) {
				t.Errorf("CanonicalName(%q) error %q: want ErrInvalid without control characters", c.in, err)
			}
		}
	}
}

func TestParentNameAndLower(t *testing.T) {
	for in, want := range map[string]string{"a.b.": "b.", "b.": ".", ".": "", `a\.b.c.`: "c."} {
		if got := ParentName(in); got != want {
			t.Errorf("parentName(%q) = %q, want %q", in, got, want)
		}
	}
	if lower("WwW.Ex.") != "www.ex." || lower("www.") != "www." {
		t.Error("lower")
	}
}
