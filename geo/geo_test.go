package geo

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/resolvx/resolvx/geo/geotest"
	"github.com/resolvx/resolvx/gtm"
)

// testNetworks is the content of the test MaxMind database.
var testNetworks = map[string]gtm.Location{
	"198.51.100.0/24":   {Country: "US", Continent: "NA"},
	"203.0.113.0/24":    {Country: "JP", Continent: "AS"},
	"192.0.2.0/25":      {Country: "DE", Continent: "EU"},
	"192.0.2.128/26":    {Country: "AU"}, // no continent in the record
	"2001:db8:1::/48":   {Country: "BR", Continent: "SA"},
	"2001:db8:1:f::/64": {Country: "AR", Continent: "SA"},
}

func writeTestDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "country.mmdb")
	if err := geotest.WriteMMDB(path, testNetworks); err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t testing.TB, mmdb string, cidrs map[string]string) *DB {
	t.Helper()
	d, err := Open(mmdb, cidrs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

type locateCase struct {
	addr string
	want gtm.Location
	bits int
}

func checkLocate(t *testing.T, d *DB, cases []locateCase) {
	t.Helper()
	for _, c := range cases {
		loc, bits := d.Locate(netip.MustParseAddr(c.addr))
		if loc != c.want || bits != c.bits {
			t.Errorf("Locate(%s) = %+v, %d; want %+v, %d", c.addr, loc, bits, c.want, c.bits)
		}
	}
}

var (
	us = gtm.Location{Country: "US", Continent: "NA"}
	jp = gtm.Location{Country: "JP", Continent: "AS"}
	de = gtm.Location{Country: "DE", Continent: "EU"}
	au = gtm.Location{Country: "AU", Continent: "OC"}
	br = gtm.Location{Country: "BR", Continent: "SA"}
	ar = gtm.Location{Country: "AR", Continent: "SA"}
)

func TestLocateMMDB(t *testing.T) {
	d := open(t, writeTestDB(t), nil)
	checkLocate(t, d, []locateCase{
		{"198.51.100.7", us, 24},
		{"198.51.100.255", us, 24},
		{"::ffff:198.51.100.7", us, 24}, // unmapped: IPv4 bits
		{"203.0.113.200", jp, 24},
		{"192.0.2.1", de, 25},
		{"192.0.2.130", au, 26}, // continent derived from the country
		// The /64 nested in the /48 splits it: 2::, 0010, and f::, 1111,
		// part after 60 bits.
		{"2001:db8:1:2::5", br, 61},
		{"2001:db8:1:8000::5", br, 49},
		{"2001:db8:1:f::1", ar, 64},
		// Absent: the length of the network that proved it. 8.0.0.0 is
		// 0000 1000, every test network starts with a 1 bit.
		{"8.8.8.8", gtm.Location{}, 1},
		{"192.0.2.192", gtm.Location{}, 26},
	})
	// Absent IPv6 addresses: zero location, some positive length.
	for _, s := range []string{"2001:db8:2::1", "2600::1"} {
		loc, bits := d.Locate(netip.MustParseAddr(s))
		if loc != (gtm.Location{}) || bits <= 0 || bits > 128 {
			t.Errorf("Locate(%s) = %+v, %d; want zero location, 0 < bits <= 128", s, loc, bits)
		}
	}
}

func TestCIDROverridesDB(t *testing.T) {
	d := open(t, writeTestDB(t), map[string]string{
		"198.51.100.128/25": "ca",
		"2001:db8:1::/56":   "eu",
		"203.0.113.0/24":    "KR",
	})
	ca := gtm.Location{Country: "CA", Continent: "NA"}
	checkLocate(t, d, []locateCase{
		{"198.51.100.200", ca, 25},
		// The database's /24 is split by the CIDR: only the other /25
		// answers the same.
		{"198.51.100.7", us, 25},
		{"203.0.113.5", gtm.Location{Country: "KR", Continent: "AS"}, 24},
		{"2001:db8:1:2::5", gtm.Location{Continent: "EU"}, 56},
		{"2001:db8:1:f::1", gtm.Location{Continent: "EU"}, 56}, // over the database's /64
		{"2001:db8:1:100::1", br, 56},
		{"192.0.2.1", de, 25},
	})
}

func TestLongestPrefix(t *testing.T) {
	d := open(t, "", map[string]string{
		"10.0.0.0/8":            "EU",
		"10.1.0.0/16":           "de",
		"10.1.2.0/24":           "Fr",
		"::ffff:172.16.0.0/108": "jp", // IPv4-mapped: 172.16.0.0/12
		"2001:db8::/32":         "oc",
		"2001:db8:aa::/48":      "NZ",
		"100.64.0.0/10":         "na", // the continent, not Namibia
	})
	eu := gtm.Location{Continent: "EU"}
	oc := gtm.Location{Continent: "OC"}
	checkLocate(t, d, []locateCase{
		{"10.1.2.3", gtm.Location{Country: "FR", Continent: "EU"}, 24},
		// 10.1.9.9 and 10.1.2.0/24 part after 20 bits.
		{"10.1.9.9", de, 21},
		{"10.1.200.1", de, 17},
		// 10.9 and 10.1 part after 12 bits.
		{"10.9.9.9", eu, 13},
		{"10.200.0.1", eu, 9},
		{"::ffff:10.200.0.1", eu, 9},
		{"172.16.5.5", jp, 12},
		{"::ffff:172.31.255.255", jp, 12},
		{"100.100.0.1", gtm.Location{Continent: "NA"}, 10},
		{"2001:db8:aa:1::1", gtm.Location{Country: "NZ", Continent: "OC"}, 48},
		// 00aa = ...1010 1010, 00bb = ...1011 1011: they part after 43 bits.
		{"2001:db8:bb::1", oc, 44},
		// Not covered: the length that proves it (10 and 11 part after 7 bits).
		{"11.0.0.1", gtm.Location{}, 8},
		{"2001:db9::1", gtm.Location{}, 32},
	})
}

func TestWholeSpaceCIDR(t *testing.T) {
	d := open(t, writeTestDB(t), map[string]string{"0.0.0.0/0": "AN"})
	checkLocate(t, d, []locateCase{
		{"198.51.100.7", gtm.Location{Continent: "AN"}, 0},
		{"2001:db8:1:8000::1", br, 49}, // IPv6 still goes to the database
	})
}

func TestNilAndInvalid(t *testing.T) {
	var d *DB
	if loc, bits := d.Locate(netip.MustParseAddr("198.51.100.7")); loc != (gtm.Location{}) || bits != 0 {
		t.Errorf("nil DB: Locate = %+v, %d", loc, bits)
	}
	if err := d.Close(); err != nil {
		t.Errorf("nil DB: Close = %v", err)
	}
	d = open(t, writeTestDB(t), map[string]string{"0.0.0.0/0": "EU"})
	if loc, bits := d.Locate(netip.Addr{}); loc != (gtm.Location{}) || bits != 0 {
		t.Errorf("invalid address: Locate = %+v, %d", loc, bits)
	}
	// No sources at all.
	empty := open(t, "", nil)
	checkLocate(t, empty, []locateCase{{"198.51.100.7", gtm.Location{}, 0}, {"2001:db8::1", gtm.Location{}, 0}})
}

func TestClose(t *testing.T) {
	d := open(t, writeTestDB(t), map[string]string{"10.0.0.0/8": "JP"})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				if loc, _ := d.Locate(netip.MustParseAddr("198.51.100.7")); loc != us && loc != (gtm.Location{}) {
					t.Errorf("Locate during Close = %+v", loc)
					return
				}
			}
		}()
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	checkLocate(t, d, []locateCase{
		{"198.51.100.7", gtm.Location{}, 1}, // the database is gone
		{"10.0.0.1", jp, 8},                 // the CIDRs stay
	})
}

// writeMMDB writes a database of type dbType with one record.
func writeMMDB(t *testing.T, dbType string) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("198.51.100.0/24")
	if err := tree.Insert(n, mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64496)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a MaxMind database"), 0o644); err != nil {
		t.Fatal(err)
	}
	asn := writeMMDB(t, "GeoLite2-ASN")
	unknown := writeMMDB(t, "Resolvx-Test")

	for _, c := range []struct {
		name  string
		mmdb  string
		cidrs map[string]string
		want  []string // substrings of the error
	}{
		{"prefix length too long", "", map[string]string{"10.0.0.0/33": "EU"}, []string{`"10.0.0.0/33"`}},
		{"no prefix length", "", map[string]string{"10.0.0.0": "EU"}, []string{`"10.0.0.0"`}},
		{"not an address", "", map[string]string{"example.com/24": "EU"}, []string{`"example.com/24"`}},
		{"zone", "", map[string]string{"fe80::%eth0/64": "EU"}, []string{`"fe80::%eth0/64"`}},
		{"host bits", "", map[string]string{"10.1.2.3/16": "EU"}, []string{`"10.1.2.3/16"`, "host bits", "10.1.0.0/16"}},
		{"unknown country", "", map[string]string{"10.0.0.0/8": "XX"}, []string{`"10.0.0.0/8"`, `"XX"`}},
		{"empty region", "", map[string]string{"10.0.0.0/8": ""}, []string{`"10.0.0.0/8"`, `region ""`}},
		{"any region", "", map[string]string{"10.0.0.0/8": "*"}, []string{`"10.0.0.0/8"`, `"*"`}},
		{"continent name", "", map[string]string{"2001:db8::/32": "Europe"}, []string{`"2001:db8::/32"`, `"Europe"`}},
		{"conflict", "", map[string]string{"10.0.0.0/8": "DE", "::ffff:10.0.0.0/104": "fr"},
			[]string{`"::ffff:10.0.0.0/104"`, "10.0.0.0/8", "DE", "FR"}},
		{"bad CIDR among good ones", "", map[string]string{"10.0.0.0/8": "DE", "192.0.2.0/24": "JP", "192.0.2.0/40": "US"},
			[]string{`"192.0.2.0/40"`}},
		{"missing database", filepath.Join(dir, "missing.mmdb"), nil, []string{"missing.mmdb", "no such file"}},
		{"garbage database", garbage, nil, []string{"garbage.mmdb"}},
		{"ASN database", asn, nil, []string{"GeoLite2-ASN.mmdb", `"GeoLite2-ASN"`, "no country data"}},
		{"unknown database type", unknown, nil, []string{"Resolvx-Test.mmdb", "Resolvx-Test"}},
		{"bad CIDR with a good database", writeTestDB(t), map[string]string{"10.0.0.0/8": "moon"}, []string{`"moon"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Open(c.mmdb, c.cidrs)
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestOpenSameNetworkTwice(t *testing.T) {
	// The same network and region twice (spelled differently) is no conflict.
	d := open(t, "", map[string]string{"10.0.0.0/8": "de", "::ffff:10.0.0.0/104": "DE"})
	checkLocate(t, d, []locateCase{{"10.0.0.1", de, 8}})
}

func TestContinentOf(t *testing.T) {
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			c := string([]rune{a, b})
			cont := continentOf(c)
			if gtm.IsCountry(c) != (cont != "") {
				t.Errorf("continentOf(%s) = %q, gtm.IsCountry = %v", c, cont, gtm.IsCountry(c))
			}
			if cont != "" {
				n++
				if !gtm.IsContinent(cont) {
					t.Errorf("continentOf(%s) = %q: not a continent", c, cont)
				}
			}
		}
	}
	if n != 249 {
		t.Errorf("%d countries have a continent, want the 249 ISO 3166-1 codes", n)
	}
	for c, want := range map[string]string{"US": "NA", "BR": "SA", "DE": "EU", "RU": "EU", "TR": "AS", "JP": "AS",
		"AU": "OC", "ZA": "AF", "AQ": "AN", "NA": "AF", "SA": "AS", "AS": "OC", "MX": "NA", "EG": "AF"} {
		if got := continentOf(c); got != want {
			t.Errorf("continentOf(%s) = %q, want %q", c, got, want)
		}
	}
}

func BenchmarkLocate(b *testing.B) {
	d := open(b, writeTestDB(b), map[string]string{
		"10.0.0.0/8":       "EU",
		"10.1.0.0/16":      "DE",
		"10.1.2.0/24":      "FR",
		"2001:db8:aa::/48": "NZ",
	})
	for _, c := range []struct{ name, addr string }{
		{"CIDR/IPv4", "10.1.2.3"},
		{"CIDR/IPv6", "2001:db8:aa::1"},
		{"MMDB/IPv4", "198.51.100.7"},
		{"MMDB/IPv4-mapped", "::ffff:198.51.100.7"},
		{"MMDB/IPv6", "2001:db8:1:2::5"},
		{"miss/IPv4", "8.8.8.8"},
		{"miss/IPv6", "2600::1"},
	} {
		a := netip.MustParseAddr(c.addr)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.Locate(a)
			}
		})
	}
	b.Run("parallel/MMDB/IPv4", func(b *testing.B) {
		a := netip.MustParseAddr("198.51.100.7")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d.Locate(a)
			}
		})
	})
}
