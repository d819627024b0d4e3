package dnsserver

import "strings"

// lower returns name in lower case; it does not allocate when name has no
// upper-case letter, which is the common case for the zone's own names.
func lower(name string) string { return strings.ToLower(name) }

// isWildcard reports whether name is a wildcard owner ("*.…").
func isWildcard(name string) bool { return strings.HasPrefix(name, "*.") }
