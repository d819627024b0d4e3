package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// axfrFirst sends an AXFR for zoneName to addr over TCP, signed with the
// key "xfr." when secret is not empty, and returns the first reply (a
// signed reply is verified by miekg/dns).
func axfrFirst(t *testing.T, addr, zoneName, secret string) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetAxfr(zoneName)
	if secret != "" {
		c.TsigSecret = map[string]string{"xfr.": secret}
		m.SetTsig("xfr.", dns.HmacSHA256, 300, time.Now().Unix())
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("AXFR %s: %v", zoneName, err)
	}
	return r
}

// The README's zone-transfer walkthrough through the CLI: `tsig create`
// generates a secret and prints it once (never again: not in `tsig list`),
// `zone transfer` sets the ACL and key, a transfer signed with the printed
// secret gets the zone, an unsigned one is refused; bad input fails with a
// clear message and changes nothing.
func TestTransferCLI(t *testing.T) {
	n := newNode(t, "solo")
	n.start()
	n.mustCLI("zone", "create", "example.com")
	n.mustCLI("record", "create", "example.com", "www", "A", "192.0.2.10")
	out := n.mustCLI("tsig", "create", "xfr")
	m := regexp.MustCompile(`secret: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tsig create printed no secret:\n%s", out)
	}
	secret := m[1]
	if list := n.mustCLI("tsig", "list"); strings.Contains(list, secret) || !strings.Contains(list, "hmac-sha256") {
		t.Fatalf("tsig list:\n%s", list)
	}
	for _, bad := range [][]string{
		{"zone", "transfer", "example.com", "--allow", "10.0.0.0/33"},
		{"zone", "transfer", "example.com", "--tsig-key", "nokey"},
		{"tsig", "create", "k2", "--secret", "not-base64!"},
		{"tsig", "create", "k2", "--algorithm", "hmac-md5"},
	} {
		if out, err := n.cli(bad...); err == nil {
			t.Fatalf("%v succeeded:\n%s", bad, out)
		}
	}
	if out := n.mustCLI("zone", "transfer", "example.com"); !strings.Contains(out, "-") {
		t.Fatalf("transfer settings changed by refused commands:\n%s", out)
	}
	if r := axfrFirst(t, n.dnsAddr, "example.com.", secret); r.Rcode != dns.RcodeRefused {
		t.Fatalf("AXFR before transfer settings: %s", dns.RcodeToString[r.Rcode])
	}
	n.mustCLI("zone", "transfer", "example.com", "--allow", "127.0.0.0/8", "--tsig-key", "xfr")
	if r := axfrFirst(t, n.dnsAddr, "example.com.", secret); r.Rcode != dns.RcodeSuccess || len(r.Answer) < 3 {
		t.Fatalf("signed AXFR: %v", r)
	}
	if r := axfrFirst(t, n.dnsAddr, "example.com.", ""); r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
		t.Fatalf("unsigned AXFR: %v", r)
	}
	// A flag changes its setting only.
	if out := n.mustCLI("zone", "transfer", "example.com", "--notify", "127.0.0.1:5300"); !strings.Contains(out, "127.0.0.0/8") || !strings.Contains(out, "xfr.") || !strings.Contains(out, "127.0.0.1:5300") {
		t.Fatalf("zone transfer --notify:\n%s", out)
	}
	if _, err := n.cli("tsig", "delete", "xfr"); err == nil {
		t.Fatal("deleted a key in use")
	}
}
