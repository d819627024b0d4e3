package health

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/resolvx/resolvx/gtm"
)

func TestResolve(t *testing.T) {
	r := fakeResolver{
		"ok.example":    {netip.MustParseAddr("127.0.0.1")},
		"meta.example":  {netip.MustParseAddr("169.254.169.254")},
		"ll6.example":   {netip.MustParseAddr("fe80::1")},
		"mixed.example": {netip.MustParseAddr("100.100.100.200"), netip.MustParseAddr("::ffff:127.0.0.2")},
		"none.example":  {},
	}
	cases := []struct {
		addr        string
		allowUnsafe bool
		want        string // "" when refused
		host        string
		errHas      string
	}{
		{addr: "127.0.0.1", want: "127.0.0.1"},
		{addr: "::1", want: "::1"},
		{addr: "[::1]", want: "::1"},
		{addr: "::ffff:127.0.0.1", want: "127.0.0.1"},
		{addr: "169.254.169.254", errHas: "cloud-metadata"},
		{addr: "fd00:ec2::254", errHas: "cloud-metadata"},
		{addr: "100.100.100.200", errHas: "cloud-metadata"},
		{addr: "169.254.1.1", errHas: "link-local"},
		{addr: "fe80::1", errHas: "link-local"},
		{addr: "0.0.0.0", errHas: "unspecified"},
		{addr: "::", errHas: "unspecified"},
		{addr: "224.0.0.1", errHas: "link-local"},
		{addr: "239.1.1.1", errHas: "multicast"},
		{addr: "ff02::1", errHas: "link-local"},
		{addr: "169.254.169.254", allowUnsafe: true, want: "169.254.169.254"},
		{addr: "fe80::1%lo", errHas: "link-local"},
		{addr: "fe80::1%lo", allowUnsafe: true, want: "fe80::1%lo"},
		{addr: "ok.example", want: "127.0.0.1", host: "ok.example"},
		{addr: "ok.example.", want: "127.0.0.1", host: "ok.example"},
		{addr: "meta.example", errHas: "resolves to a cloud-metadata"},
		{addr: "meta.example", allowUnsafe: true, want: "169.254.169.254", host: "meta.example"},
		{addr: "ll6.example", errHas: "link-local"},
		{addr: "mixed.example", want: "127.0.0.2", host: "mixed.example"},
		{addr: "none.example", errHas: "no addresses"},
		{addr: "missing.example", errHas: "no such host"},
	}
	for _, c := range cases {
		a, host, err := resolve(context.Background(), r, Target{EndpointID: "e", Address: c.addr}, c.allowUnsafe)
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("%s (allow %v): err %v, want one saying %q", c.addr, c.allowUnsafe, err, c.errHas)
			}
			continue
		}
		if err != nil || a.String() != c.want || host != c.host {
			t.Errorf("%s (allow %v) = %v, %q, %v; want %s, %q", c.addr, c.allowUnsafe, a, host, err, c.want, c.host)
		}
	}
}

func TestNoResolverRefusesNames(t *testing.T) {
	p := &Prober{}
	o := p.TCP(context.Background(), Target{EndpointID: "e", Address: "ok.example"}, gtm.HealthCheck{Type: "tcp", Port: 1})
	if o.OK || !strings.Contains(o.Error, "no resolver") {
		t.Fatalf("observation %+v, want a failure for want of a resolver", o)
	}
}

func TestUnsafeTargetsNotProbed(t *testing.T) {
	p := &Prober{Resolver: fakeResolver{"meta.example": {netip.MustParseAddr("169.254.169.254")}}}
	for _, typ := range []string{"http", "https", "tcp", "dns"} {
		for _, addr := range []string{"169.254.169.254", "meta.example", "fe80::1"} {
			hc := gtm.HealthCheck{Type: typ, Port: 80, Query: "x.example", Timeout: gtm.Duration(gtm.DefaultTimeout)}
			o := p.Probe(context.Background(), Target{EndpointID: "e", Address: addr}, hc)
			if o.OK || !strings.Contains(o.Error, "refused") || o.EndpointID != "e" {
				t.Errorf("%s check of %s: %+v, want refused", typ, addr, o)
			}
		}
	}
}

func TestUnknownCheckType(t *testing.T) {
	o := (&Prober{}).Probe(context.Background(), Target{EndpointID: "e", Address: "127.0.0.1"}, gtm.HealthCheck{Type: "icmp"})
	if o.OK || !strings.Contains(o.Error, "unknown check type") {
		t.Fatalf("observation %+v", o)
	}
}
