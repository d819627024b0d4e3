package conformance

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/api"
)

const (
	xfrKeyName = "xfr."
	xfrSecret  = "c2VjcmV0LXNoYXJlZC1ieS1yZXNvbHZ4LWFuZC1uc2Q="
	// followBound is how soon after a write the secondary must answer it
	// (issue 4).
	followBound = 2 * time.Second
)

// soaSerial asks addr for zone's SOA over UDP; ok is false without an
// authoritative answer.
func soaSerial(addr, zoneName string) (uint32, bool) {
	m := new(dns.Msg)
	m.SetQuestion(zoneName, dns.TypeSOA)
	r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		return 0, false
	}
	soa, ok := r.Answer[0].(*dns.SOA)
	if !ok {
		return 0, false
	}
	return soa.Serial, true
}

// answersA reports whether addr answers name A with value.
func answersA(addr, name, value string) bool {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == value {
			return true
		}
	}
	return false
}

// transferCount reads resolvx_dns_transfers_total{kind} from n's /metrics.
func transferCount(t *testing.T, n *rnode, kind string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + n.api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	prefix := `resolvx_dns_transfers_total{kind="` + kind + `"} `
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// rrsetTTLs returns the TTLs of addr's A answer for name, comma-separated.
func rrsetTTLs(addr, name string) string {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, addr)
	if err != nil {
		return ""
	}
	var ttls []string
	for _, rr := range r.Answer {
		ttls = append(ttls, fmt.Sprint(rr.Header().Ttl))
	}
	return strings.Join(ttls, ",")
}

// nxdomain reports whether addr answers name NXDOMAIN.
func nxdomain(addr, name string) bool {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, addr)
	return err == nil && r.Rcode == dns.RcodeNameError
}

// transferRcode sends an AXFR for zoneName to addr over TCP from the local
// address laddr (nil: any), signed when secret is not empty, and returns
// the first reply's rcode and answer count.
func transferRcode(t *testing.T, addr string, laddr net.Addr, zoneName, secret string) (int, int) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: laddr}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	conn := &dns.Conn{Conn: nc}
	m := new(dns.Msg)
	m.SetAxfr(zoneName)
	if secret != "" {
		conn.TsigSecret = map[string]string{xfrKeyName: secret}
		m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	}
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	r, err := conn.ReadMsg()
	if err != nil {
		t.Fatalf("AXFR %s from %v: %v", zoneName, laddr, err)
	}
	return r.Rcode, len(r.Answer)
}

// Invariant (issue 4, "a real secondary"): NSD, configured as a secondary
// of a three-node resolvx cluster (its primary a follower: any node serves
// transfers), transfers every test zone with TSIG, receives NOTIFY from the
// leader (sent once every member has applied the change), answers a record added through the API
// (of a follower) within 2 s of the write and stops answering it within
// 2 s of its deletion (NOTIFY, then IXFR), and then answers the whole
// differential corpus exactly as the resolvx node it transfers from, up to
// the differences of allowances() (the same table as Knot's). A transfer
// without the key, or with the key from an address the zone does not list,
// is refused by every node. No node logs the TSIG secret.
func TestNSDSecondary(t *testing.T) {
	zones := loadTestZones(t)
	nodes := startCluster(t)
	lead := leaderOf(t, nodes)
	var follower *rnode
	for _, n := range nodes {
		if n != lead {
			follower = n
			break
		}
	}
	ctx := context.Background()
	nsdPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	notify := fmt.Sprintf("127.0.0.1:%d", nsdPort)
	c := follower.client // writes are forwarded to the leader
	if _, _, err := c.CreateTSIGKey(ctx, api.TSIGKeyRequest{Name: xfrKeyName, Secret: xfrSecret}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, z := range zones {
		names = append(names, z.name)
		if _, _, err := c.CreateZone(ctx, z.name); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ImportZone(ctx, z.name, strings.NewReader(z.text)); err != nil {
			t.Fatalf("import %s: %v", z.name, err)
		}
		if _, _, err := c.SetTransfer(ctx, z.name, api.TransferSettings{Allow: []string{"127.0.0.1/32"}, TSIGKey: xfrKeyName, Notify: []string{notify}}); err != nil {
			t.Fatal(err)
		}
	}
	serials := map[string]uint32{}
	for _, name := range names {
		zi, err := lead.client.Zone(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		serials[name] = zi.Serial
	}

	nsdAddr, nsdLog := startNSD(t, nsdSecondary{zones: names, primary: follower.dns, keyName: xfrKeyName, secret: xfrSecret, port: nsdPort})
	for _, name := range names {
		waitUntil(t, 20*time.Second, "NSD serving "+name+" at serial "+fmt.Sprint(serials[name]), func() bool {
			s, ok := soaSerial(nsdAddr, name)
			return ok && s == serials[name]
		})
	}

	// A write through a follower's API, answered by NSD: NOTIFY from the
	// leader, then an incremental transfer.
	probe := "xfr-probe.example.com."
	sent := time.Now()
	rec, _, err := c.CreateRecord(ctx, "example.com", api.RecordRequest{Name: probe, Type: "A", Value: "192.0.2.250"})
	if err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	waitUntil(t, followBound, "NSD answering the new record within 2 s of the write", func() bool { return answersA(nsdAddr, probe, "192.0.2.250") })
	t.Logf("NSD answered the added record %v after the write was sent (%v after the API replied)", time.Since(sent).Round(time.Millisecond), time.Since(written).Round(time.Millisecond))
	sent = time.Now()
	if _, err := c.DeleteRecord(ctx, "example.com", rec.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, followBound, "NSD dropping the deleted record within 2 s", func() bool { return nxdomain(nsdAddr, probe) })
	t.Logf("NSD answered NXDOMAIN for the deleted record %v after the delete was sent", time.Since(sent).Round(time.Millisecond))
	// A record that lowers an RRset's TTL: the delta replaces the whole
	// RRset, so NSD serves every record of it at the new TTL, and the old
	// TTL again once the record is gone.
	ttl := uint32(30)
	low, _, err := c.CreateRecord(ctx, "example.com", api.RecordRequest{Name: "www", Type: "A", Value: "192.0.2.251", TTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, followBound, "NSD serving www A as 3 records at TTL 30", func() bool { return rrsetTTLs(nsdAddr, "www.example.com.") == "30,30,30" })
	if _, err := c.DeleteRecord(ctx, "example.com", low.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, followBound, "NSD serving www A as 2 records at TTL 300", func() bool { return rrsetTTLs(nsdAddr, "www.example.com.") == "300,300" })

	// A whole-zone import (SOA settings and records in one change) is one
	// IXFR delta too: NSD follows an import that adds a record and changes
	// the SOA, and the import of the original file after it.
	var ex testZone
	for _, z := range zones {
		if z.name == "example.com." {
			ex = z
		}
	}
	changed := strings.Replace(ex.text, "7200", "7201", 1) + "\nxfr-import.example.com. 300 IN TXT \"imported\"\n"
	for _, step := range []struct {
		text, what string
		present    bool
	}{{changed, "NSD answering the record of a re-import", true}, {ex.text, "NSD dropping it after the original import", false}} {
		sent := time.Now()
		if _, _, err := c.ImportZone(ctx, "example.com", strings.NewReader(step.text)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, followBound, step.what, func() bool {
			m := new(dns.Msg)
			m.SetQuestion("xfr-import.example.com.", dns.TypeTXT)
			r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, nsdAddr)
			return err == nil && (len(r.Answer) == 1) == step.present && (step.present || r.Rcode == dns.RcodeNameError)
		})
		t.Logf("%s: %v after the import was sent", step.what, time.Since(sent).Round(time.Millisecond))
	}

	zi, err := lead.client.Zone(ctx, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, followBound, "NSD at example.com's serial", func() bool {
		s, ok := soaSerial(nsdAddr, "example.com.")
		return ok && s == zi.Serial
	})
	// Every change after the first full transfers went incrementally.
	if ixfr, full := transferCount(t, follower, "ixfr"), transferCount(t, follower, "ixfr_full"); ixfr < 6 || full != 0 {
		t.Errorf("%s served %v incremental and %v full-fallback IXFRs; want at least 6 and none", follower.id, ixfr, full)
	} else {
		t.Logf("%s served %v incremental transfers to NSD, no full fallback", follower.id, ixfr)
	}
	log, _ := os.ReadFile(nsdLog)
	for _, want := range []string{"notify for example.com. from 127.0.0.1", "TSIG verified with key xfr"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("NSD's log does not show %q", want)
		}
	}
	if strings.Contains(string(log), "Failed to apply IXFR") {
		t.Error("NSD could not apply an IXFR from resolvx (see its log)")
	}

	// Refusals, on every node.
	lo2 := &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}
	for _, n := range nodes {
		if rc, an := transferRcode(t, n.dns, nil, "example.com.", ""); rc != dns.RcodeRefused || an != 0 {
			t.Errorf("%s: AXFR without the key: %s with %d RRs, want REFUSED", n.id, dns.RcodeToString[rc], an)
		}
		if rc, an := transferRcode(t, n.dns, lo2, "example.com.", xfrSecret); rc != dns.RcodeRefused || an != 0 {
			t.Errorf("%s: AXFR with the key from 127.0.0.2: %s with %d RRs, want REFUSED", n.id, dns.RcodeToString[rc], an)
		}
		if rc, an := transferRcode(t, n.dns, nil, "example.com.", xfrSecret); rc != dns.RcodeSuccess || an == 0 {
			t.Errorf("%s: AXFR with the key from 127.0.0.1: %s with %d RRs, want the zone", n.id, dns.RcodeToString[rc], an)
		}
	}

	// The secret went through the API, the log and every FSM, and no node
	// logged it (they run at debug level).
	for _, n := range nodes {
		if b, err := os.ReadFile(n.logFile); err != nil || strings.Contains(string(b), xfrSecret) {
			t.Errorf("%s: the TSIG secret is in the log (or the log is unreadable: %v)", n.id, err)
		}
	}

	// The differential corpus: NSD in the reference's seat, the resolvx
	// node it transfers from (a follower) in ours.
	v := buildView(t, zones) // the same data (serials aside) for the name pool and the allowances
	seed, n := corpusParams(t)
	corpus := genCorpus(t, newNamePool(v, rand.New(rand.NewPCG(seed, 1))), seed, n)
	ref, err := newPeer("nsd", nsdAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.close()
	ours, err := newPeer("resolvx", follower.dns)
	if err != nil {
		t.Fatal(err)
	}
	defer ours.close()
	var identical, allowed, unexplained int
	byKind := map[string]int{}
	var examples []string
	for _, q := range corpus {
		nm, _, err := ref.ask(q)
		if err != nil {
			t.Fatalf("query %v (tcp %v): %v", q.msg.Question, q.tcp, err)
		}
		om, _, err := ours.ask(q)
		if err != nil {
			t.Fatalf("query %v (tcp %v): %v", q.msg.Question, q.tcp, err)
		}
		o := compare(&env{view: v, knot: ref, ref: "nsd"}, q, nm, om)
		if p := spelling(q, om); p != "" {
			o.left = append(o.left, "resolvx: "+p)
		}
		switch {
		case len(o.left) > 0:
			unexplained++
			if len(examples) < 15 {
				examples = append(examples, fmt.Sprintf("%s (tcp %v):\n  %s\nnsd:\n%s\nresolvx:\n%s",
					describe(q), q.tcp, strings.Join(o.left, "\n  "), show(nm), show(om)))
			}
		case len(o.kinds) > 0:
			allowed++
			for _, k := range o.kinds {
				byKind[k]++
			}
		default:
			identical++
		}
	}
	var rep strings.Builder
	fmt.Fprintf(&rep, "NSD secondary differential: seed %d, %d queries compared (%d zones), %d identical, %d differences: %d allowed, %d unexplained\n",
		seed, len(corpus), len(zones), identical, allowed+unexplained, allowed, unexplained)
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		fmt.Fprintf(&rep, "  allowed %5d  %s\n", byKind[k], k)
	}
	t.Log(rep.String())
	for _, e := range examples {
		t.Error(e)
	}
}
