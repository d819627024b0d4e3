// Package geotest writes small GeoIP2-Country-shaped MaxMind databases for
// tests: no redistributable GeoIP database exists, so tests of package geo
// and of its users generate their own with [WriteMMDB].
//
// It is an ordinary package (not a _test file) so that tests in other
// packages can import it; production code has no use for it.
package geotest
