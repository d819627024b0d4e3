// Package geo places a client address in a region for geographic GTM
// policies.
//
// A [DB] combines two sources. Inline CIDR maps, given by the operator,
// name a region (a continent or an ISO 3166-1 alpha-2 country code) for a
// network; they always win, and the longest matching prefix among them is
// used. Addresses no CIDR covers are looked up in an optional MaxMind
// GeoIP2/GeoLite2 Country (or City) database through geoip2-golang.
//
// [DB.Locate] also returns a prefix length: every address in that prefix of
// the queried address gets the same answer, which is what an EDNS Client
// Subnet scope needs. It accounts for both sources, so a CIDR nested in a
// database network (or in another CIDR) narrows the prefix of the addresses
// around it.
//
// The package has no global state. Tests build small databases with
// package geo/geotest, since no redistributable GeoIP database exists.
package geo
