package zone

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits from RFC 1035 §2.3.4, in presentation form without the final dot.
const (
	maxLabelLen = 63
	maxNameLen  = 253
)

// CanonicalName validates a domain name and returns it in canonical form:
// lower case, with a trailing dot. Labels may hold letters, digits, '-', '_'
// and '/' (RFC 2317 classless reverse zones); a leftmost label "*" makes a
// wildcard. Escapes, spaces and control characters are refused: resolvx
// manages host names and service names, not arbitrary binary labels.
func CanonicalName(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: name is empty", ErrInvalid)
	}
	if s == "." {
		return ".", nil
	}
	name := strings.TrimSuffix(s, ".")
	if len(name) > maxNameLen {
		return "", fmt.Errorf("%w: name is %d characters long, the limit is %d", ErrInvalid, len(name), maxNameLen)
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "" {
			return "", fmt.Errorf("%w: name %q has an empty label", ErrInvalid, Printable(s))
		}
		if len(l) > maxLabelLen {
			return "", fmt.Errorf("%w: label %d of name %q is %d characters long, the limit is %d", ErrInvalid, i+1, Printable(s), len(l), maxLabelLen)
		}
		if l == "*" {
			if i != 0 {
				return "", fmt.Errorf("%w: name %q: \"*\" is only allowed as the leftmost label", ErrInvalid, Printable(s))
			}
			continue
		}
		for j := 0; j < len(l); j++ {
			if !nameByte(l[j]) {
				return "", fmt.Errorf("%w: name %q has a character that is not allowed (%q); use letters, digits, '-', '_' or '/'", ErrInvalid, Printable(s), Printable(string(l[j])))
			}
		}
	}
	return strings.ToLower(name) + ".", nil
}

func nameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '-', c == '_', c == '/':
		return true
	}
	return false
}

// Printable replaces control characters so an error message never carries
// raw control bytes back to a terminal.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// brief presents user input inside an error message: control characters
// replaced (see printable) and at most 80 bytes, so that a huge value is
// not echoed back whole.
func brief(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return Printable(s)
}

// lower returns s in lower case. It does not allocate when s has no
// upper-case ASCII letters, which is the common case for queries.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// ParentName returns the name one label up ("a.b." -> "b."), honouring
// backslash escapes in miekg/dns presentation form. The parent of "." is "".
func ParentName(name string) string {
	if name == "." {
		return ""
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++ // skip the escaped byte (\DDD escapes have no dots)
		case '.':
			if i+1 < len(name) {
				return name[i+1:]
			}
			return "."
		}
	}
	return ""
}

// IsBelow reports whether name is apex or a name below it (both canonical).
func IsBelow(name, apex string) bool {
	if apex == "." {
		return true
	}
	if !strings.HasSuffix(name, apex) {
		return false
	}
	return len(name) == len(apex) || name[len(name)-len(apex)-1] == '.'
}

// relativeName presents name relative to apex: "@" for the apex itself.
func relativeName(name, apex string) string {
	if name == apex {
		return "@"
	}
	if apex == "." {
		return strings.TrimSuffix(name, ".")
	}
	return strings.TrimSuffix(name, "."+apex)
}
