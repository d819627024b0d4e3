package dnsserver

import "strings"

// isBelow reports whether name is apex or a name below it. Both must be in
// the same case (the zone's names are canonical lower case).
func isBelow(name, apex string) bool {
	if apex == "." {
		return true
	}
	if !strings.HasSuffix(name, apex) {
		return false
	}
	return len(name) == len(apex) || name[len(name)-len(apex)-1] == '.'
}

// parentName returns the name one label up of a canonical name ("a.b." →
// "b.", "b." → "."), or "" for the root. Canonical names have no escapes.
func parentName(name string) string {
	if name == "." || name == "" {
		return ""
	}
	i := strings.IndexByte(name, '.')
	if i < 0 || i+1 == len(name) {
		return "."
	}
	return name[i+1:]
}

// lower returns name in lower case; it does not allocate when name has no
// upper-case letter, which is the common case for the zone's own names.
func lower(name string) string { return strings.ToLower(name) }

// isWildcard reports whether name is a wildcard owner ("*.…").
func isWildcard(name string) bool { return strings.HasPrefix(name, "*.") }
