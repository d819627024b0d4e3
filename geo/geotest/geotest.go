package geotest

import (
	"fmt"
	"net"
	"os"
	"sort"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/resolvx/resolvx/gtm"
)

// WriteMMDB writes to path a MaxMind database of type "GeoIP2-Country" in
// which each network of networks (CIDR notation, IPv4 or IPv6) has a record
// with country.iso_code and continent.code (each left out when empty). The
// tree is IPv6 with the IPv4 space aliased into it (::/96, ::ffff:0:0/96,
// 2002::/16), so IPv4 and IPv4-mapped lookups work as with MaxMind's own
// databases. Reserved and documentation networks (192.0.2.0/24,
// 2001:db8::/32, ...) are allowed. Where networks nest, the more specific one
// wins.
func WriteMMDB(path string, networks map[string]gtm.Location) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-Country",
		Description:             map[string]string{"en": "resolvx geotest GeoIP2 Country"},
		Languages:               []string{"en"},
		IPVersion:               6,
		RecordSize:              24,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return fmt.Errorf("geotest: %w", err)
	}

	type entry struct {
		net  *net.IPNet
		bits int
		key  string
	}
	entries := make([]entry, 0, len(networks))
	for k := range networks {
		_, n, err := net.ParseCIDR(k)
		if err != nil {
			return fmt.Errorf("geotest: network %q: %w", k, err)
		}
		ones, bits := n.Mask.Size()
		if bits == 32 {
			ones += 96 // compare IPv4 and IPv6 lengths in the one tree
		}
		entries = append(entries, entry{n, ones, k})
	}
	// Shorter prefixes first: an insert replaces what it covers, so the
	// more specific networks must come last to win.
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].bits != entries[j].bits {
			return entries[i].bits < entries[j].bits
		}
		return entries[i].key < entries[j].key
	})
	for _, e := range entries {
		if err := tree.Insert(e.net, record(networks[e.key])); err != nil {
			return fmt.Errorf("geotest: network %q: %w", e.key, err)
		}
	}

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("geotest: %w", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("geotest: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("geotest: writing %s: %w", path, err)
	}
	return nil
}

// record is the GeoIP2 Country record of loc.
func record(loc gtm.Location) mmdbtype.Map {
	m := mmdbtype.Map{}
	if loc.Country != "" {
		m["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(loc.Country)}
	}
	if loc.Continent != "" {
		m["continent"] = mmdbtype.Map{"code": mmdbtype.String(loc.Continent)}
	}
	return m
}
