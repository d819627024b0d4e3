package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/oschwald/geoip2-golang/v2"

	"github.com/resolvx/resolvx/gtm"
)

// DB places client addresses in regions. It is immutable once opened
// (apart from Close) and safe for concurrent use.
type DB struct {
	v4, v6 trie
	// mmdb is the MaxMind database, nil when there is none or after Close.
	// The database is read into memory rather than memory-mapped, so a
	// Locate that races with Close still reads valid memory.
	mmdb atomic.Pointer[geoip2.Reader]
}

// Open returns a DB that reads the MaxMind GeoIP2/GeoLite2 Country (or City)
// database at mmdbPath ("" for none) and maps the networks of cidrs to
// regions. A key of cidrs is a network in CIDR notation with no host bits
// set ("10.1.0.0/16", "2001:db8::/32"; IPv4-mapped IPv6 networks count as
// IPv4); its value is a continent code (NA, SA, EU, AF, AS, OC, AN) or an
// ISO 3166-1 alpha-2 country code, in any letter case. NA, SA and AS always
// mean the continents, as in a policy. Two keys that name the same network
// must name the same region.
func Open(mmdbPath string, cidrs map[string]string) (*DB, error) {
	d := &DB{v4: newTrie(), v6: newTrie()}

	// Sorted, so that the error reported for a bad map is always the same.
	keys := make([]string, 0, len(cidrs))
	for k := range cidrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, err := parseCIDR(k)
		if err != nil {
			return nil, err
		}
		loc, err := regionLocation(cidrs[k])
		if err != nil {
			return nil, fmt.Errorf("geo: CIDR %q: %w", k, err)
		}
		t := &d.v6
		if p.Addr().Is4() {
			t = &d.v4
		}
		if old, had := t.insert(p, loc); had && old != loc {
			return nil, fmt.Errorf("geo: CIDR %q: network %s is mapped to both %s and %s",
				k, p, locationCode(old), locationCode(loc))
		}
	}

	if mmdbPath != "" {
		data, err := os.ReadFile(mmdbPath)
		if err != nil {
			return nil, fmt.Errorf("geo: GeoIP database: %w", err)
		}
		r, err := geoip2.OpenBytes(data)
		if err != nil {
			return nil, fmt.Errorf("geo: GeoIP database %s: %w", mmdbPath, err)
		}
		// Country lookups need a Country, City or Enterprise database.
		if _, err := r.Country(netip.IPv6Unspecified()); err != nil {
			var ime geoip2.InvalidMethodError
			if errors.As(err, &ime) {
				return nil, fmt.Errorf("geo: GeoIP database %s: type %q has no country data",
					mmdbPath, r.Metadata().DatabaseType)
			}
			return nil, fmt.Errorf("geo: GeoIP database %s: %w", mmdbPath, err)
		}
		d.mmdb.Store(r)
	}
	return d, nil
}

// parseCIDR parses a CIDR key of Open: a masked prefix, IPv4-mapped IPv6
// ones turned into IPv4.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("geo: CIDR %q: %w", s, err)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("geo: CIDR %q has host bits set (the network is %s)", s, p.Masked())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

// regionLocation returns the location a region code stands for.
func regionLocation(code string) (gtm.Location, error) {
	c := strings.ToUpper(code)
	switch {
	case gtm.IsContinent(c):
		return gtm.Location{Continent: c}, nil
	case gtm.IsCountry(c):
		return gtm.Location{Country: c, Continent: continentOf(c)}, nil
	}
	return gtm.Location{}, fmt.Errorf("region %q is not a continent (NA, SA, EU, AF, AS, OC, AN) or an ISO 3166-1 alpha-2 country code", code)
}

// locationCode is the region code a CIDR location came from.
func locationCode(l gtm.Location) string {
	if l.Country != "" {
		return l.Country
	}
	return l.Continent
}

// Locate returns where the client at a is, and prefixBits: every address in
// the prefix of a of that length gets the same answer (suited to an EDNS
// Client Subnet scope). IPv4-mapped IPv6 addresses are unmapped first, so
// prefixBits counts IPv4 bits for them.
//
// The longest inline CIDR containing a wins; prefixBits is then at least its
// length, longer where more specific CIDRs lie nearby. Otherwise the MaxMind
// database answers with its record's country and continent (the continent
// derived from the country when the record lacks it; codes that are not
// valid region codes are dropped), and prefixBits is at least the length of
// the database network. When neither knows a, Locate returns the zero
// Location and the length of the network that proved a absent (from the
// CIDRs and the database together; 0 when there are neither). A nil DB, an
// invalid address, a lookup error or a closed DB give the zero Location and
// 0.
func (d *DB) Locate(a netip.Addr) (loc gtm.Location, prefixBits int) {
	if d == nil || !a.IsValid() {
		return gtm.Location{}, 0
	}
	a = a.Unmap()
	var (
		ok    bool
		scope int
	)
	if a.Is4() {
		loc, ok, scope = d.v4.lookup(keyOf(a), 32)
	} else {
		loc, ok, scope = d.v6.lookup(keyOf(a), 128)
	}
	if ok {
		return loc, scope
	}
	r := d.mmdb.Load()
	if r == nil {
		return gtm.Location{}, scope
	}
	rec, err := r.Country(a)
	if err != nil {
		return gtm.Location{}, 0
	}
	if n := rec.Traits.Network; n.IsValid() && n.Addr().Is4() == a.Is4() && n.Bits() > scope {
		// Otherwise the database stopped above the IPv4 subtree of its
		// IPv6 tree (a nonsensical length for an IPv4 address) or is
		// coarser than the CIDRs around a.
		scope = n.Bits()
	}
	loc.Country = strings.ToUpper(rec.Country.ISOCode) // no copy when already upper case
	if !gtm.IsCountry(loc.Country) {
		loc.Country = ""
	}
	loc.Continent = strings.ToUpper(rec.Continent.Code)
	if !gtm.IsContinent(loc.Continent) {
		loc.Continent = continentOf(loc.Country)
	}
	return loc, scope
}

// Close releases the MaxMind database; afterwards Locate answers from the
// CIDR maps only. It is safe to call concurrently with Locate, and more than
// once. A nil DB is closed.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	// The reader's data is a heap slice, not a mapping: dropping the
	// reference is enough, and leaves in-flight lookups valid.
	d.mmdb.Store(nil)
	return nil
}
