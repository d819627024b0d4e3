package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The README's one-node walkthrough, step by step: create a zone and a
// record with the CLI, then the DNS listener answers authoritatively, with
// NXDOMAIN+SOA for a missing name and REFUSED outside our zones.
func TestSingleNodeWalkthrough(t *testing.T) {
	n := newNode(t, "solo")
	n.start()
	n.mustCLI("zone", "create", "example.com")
	n.mustCLI("record", "create", "example.com", "www", "A", "192.0.2.10", "--ttl", "300")

	r, err := n.query("www.example.com", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || strings.Join(answers(r), ",") != "192.0.2.10" || r.Answer[0].Header().Ttl != 300 {
		t.Fatalf("www A: want 192.0.2.10 TTL 300 with AA, got\n%v", r)
	}
	r, err = n.query("missing.example.com", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA || !r.Authoritative {
		t.Fatalf("missing name: want NXDOMAIN with the SOA, got\n%v", r)
	}
	r, err = n.query("example.org", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeRefused || r.Authoritative {
		t.Fatalf("example.org: want REFUSED without AA, got\n%v", r)
	}

	// The same with dig, exactly as the README shows it, when dig is installed.
	if dig, err := exec.LookPath("dig"); err == nil {
		host, port := splitHostPort(t, n.dnsAddr)
		out, err := exec.Command(dig, "@"+host, "-p", port, "www.example.com", "A").CombinedOutput()
		if err != nil {
			t.Fatalf("dig: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "192.0.2.10") || !strings.Contains(string(out), " aa") {
			t.Fatalf("dig output lacks the answer or the aa flag:\n%s", out)
		}
	}

	// Listings, export and errors through the CLI.
	if out := n.mustCLI("record", "list", "example.com"); !strings.Contains(out, "192.0.2.10") {
		t.Fatalf("record list: %s", out)
	}
	if out := n.mustCLI("zone", "export", "example.com"); !strings.Contains(out, "192.0.2.10") || !strings.Contains(out, "SOA") {
		t.Fatalf("zone export: %s", out)
	}
	if out, err := n.cli("record", "create", "example.com", "bad", "A", "not-an-ip"); err == nil || !strings.Contains(out, "A record value") {
		t.Fatalf("bad record: want a clear error, got %v: %s", err, out)
	}
	if _, err := n.cli("zone", "create", "example.com"); err == nil {
		t.Fatal("creating a zone twice must fail")
	}
}

func splitHostPort(t *testing.T, addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}
