package dnsserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

const dsDigest = "2bb183af5f22588179a53b0a98631fad1a292118a9eaa1e1e2d2f6d0a4c4a3f4"

// testZone returns a zone that exercises every rule of Answer. Record IDs
// follow file order, so RRsets answer in the order written here.
func testZone() string {
	return `
$ORIGIN example.com.
$TTL 300
@          NS    ns1
@          NS    ns2
@          MX    10 mail
@          TXT   "v=spf1 -all"
@          CAA   0 issue "ca.example.net"
ns1        A     192.0.2.53
ns2        AAAA  2001:db8::53
mail       A     192.0.2.25
mail       AAAA  2001:db8::25
www        A     192.0.2.1
www        A     192.0.2.2
www        AAAA  2001:db8::1
_sip._tcp  SRV   10 5 5060 sip
sip        A     192.0.2.60
ptr        PTR   www.example.com.
svc        HTTPS 1 www alpn=h2
svcdot     SVCB  1 . port=853
alias      CNAME www
chain1     CNAME chain2
chain2     CNAME www
dangling   CNAME nothere
out        CNAME www.example.org.
loop1      CNAME loop2
loop2      CNAME loop1
tocut      CNAME host.sub
*.wild     A     192.0.2.9
*.wc       CNAME www
*.wl       CNAME x.wl
a.b.c      TXT   "deep"
sub        NS    ns.sub
sub        NS    ns1
sub        NS    ns.other.net.
sub        DS    12345 13 2 ` + dsDigest + `
ns.sub     A     192.0.2.77
ns.sub     AAAA  2001:db8::77
nods       NS    ns.nods
ns.nods    A     192.0.2.78
child      NS    ns1
child      DS    54321 13 2 ` + dsDigest + `
` + manyRecords("big", "TXT", 40, func(i int) string { return fmt.Sprintf(`"big-record-%02d-0123456789abcdef"`, i) }) +
		manyRecords("mid", "TXT", 20, func(i int) string { return fmt.Sprintf(`"mid-record-%02d-0123"`, i) }) +
		manyRecords("manymx", "MX", 12, func(i int) string { return fmt.Sprintf("10 mx%02d", i) }) +
		manyRecords("", "", 12, func(i int) string {
			return fmt.Sprintf("mx%02d A 192.0.2.%d\nmx%02d AAAA 2001:db8::%d", i, 100+i, i, 100+i)
		})
}

const orgZone = `
$ORIGIN example.org.
$TTL 300
@    NS  ns1.example.com.
www  A   198.51.100.1
`

const childZone = `
$ORIGIN child.example.com.
$TTL 300
@    NS  ns1.example.com.
www  A   203.0.113.1
`

// manyRecords writes n records "name type value(i)", or, with an empty
// name, n lines value(i).
func manyRecords(name, typ string, n int, value func(int) string) string {
	var b strings.Builder
	for i := range n {
		if name == "" {
			fmt.Fprintf(&b, "%s\n", value(i))
			continue
		}
		fmt.Fprintf(&b, "%s %s %s\n", name, typ, value(i))
	}
	return b.String()
}

// mustView builds a view holding the zones given as name, text pairs.
func mustView(tb testing.TB, zones ...string) *zone.View {
	tb.Helper()
	v := zone.Empty()
	for i := 0; i+1 < len(zones); i += 2 {
		name, text := zones[i], zones[i+1]
		recs, err := zone.ParseZoneText(name, text)
		if err != nil {
			tb.Fatalf("zone %s: %v", name, err)
		}
		for j := range recs {
			recs[j].ID = fmt.Sprintf("r%05d", j)
		}
		if v, err = v.CreateZone(name, zone.DefaultSOA(name), 1); err != nil {
			tb.Fatal(err)
		}
		if v, err = v.Replace(name, recs, 2); err != nil {
			tb.Fatalf("zone %s: %v", name, err)
		}
	}
	return v
}

// testView is example.com, its child zone and example.org.
func testView(tb testing.TB) *zone.View {
	return mustView(tb, "example.com.", testZone(), "example.org.", orgZone, "child.example.com.", childZone)
}

// query builds a request as a stub resolver would.
func query(name string, t uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, t)
	m.Id = 4242
	return m
}
