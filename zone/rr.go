package zone

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// MaxTTL is the largest TTL a record may carry (RFC 2181 §8).
const MaxTTL = 2147483647

// maxValueLen bounds a record value; a TXT record of many strings still fits.
const maxValueLen = 8192

// supportedTypes are the record types a user may create. SOA is managed by
// resolvx itself.
var supportedTypes = map[string]uint16{
	"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CNAME": dns.TypeCNAME, "MX": dns.TypeMX,
	"TXT": dns.TypeTXT, "NS": dns.TypeNS, "SRV": dns.TypeSRV, "PTR": dns.TypePTR,
	"CAA": dns.TypeCAA, "DS": dns.TypeDS, "SSHFP": dns.TypeSSHFP, "TLSA": dns.TypeTLSA,
	"NAPTR": dns.TypeNAPTR, "SVCB": dns.TypeSVCB, "HTTPS": dns.TypeHTTPS, "HINFO": dns.TypeHINFO,
}

// SupportedTypes lists the record types that can be created, sorted.
func SupportedTypes() []string {
	return []string{"A", "AAAA", "CAA", "CNAME", "DS", "HINFO", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"}
}

// hasPriority reports whether a type's first RDATA field is carried in
// Record.Priority rather than in Record.Value.
func hasPriority(t uint16) bool { return t == dns.TypeMX || t == dns.TypeSRV }

// NewRecord validates a record given as the API takes it and returns it in
// canonical form (ID left empty). name is relative to the zone ("www", "@")
// or fully qualified ("www.example.com."); a relative name in the value of a
// name-valued type (CNAME, MX, NS, …) is completed with the zone name.
func NewRecord(zoneName, name, typ, value string, ttl uint32, priority uint16) (Record, error) {
	apex, err := CanonicalName(zoneName)
	if err != nil {
		return Record{}, fmt.Errorf("zone: %w", err)
	}
	owner, err := ownerName(apex, name)
	if err != nil {
		return Record{}, err
	}
	r := Record{Name: owner, Type: strings.ToUpper(strings.TrimSpace(typ)), TTL: ttl, Priority: priority, Value: value}
	_, canon, err := parseRecord(apex, r)
	return canon, err
}

// ownerName turns a relative or absolute owner into a canonical FQDN inside apex.
func ownerName(apex, name string) (string, error) {
	name = strings.TrimSpace(name)
	var full string
	switch {
	case name == "" || name == "@":
		full = apex
	case strings.HasSuffix(name, "."):
		full = name
	case apex == ".":
		full = name + "."
	default:
		full = name + "." + apex
	}
	owner, err := CanonicalName(full)
	if err != nil {
		return "", err
	}
	if !isBelow(owner, apex) {
		return "", fmt.Errorf("%w: name %s is outside zone %s", ErrInvalid, owner, apex)
	}
	return owner, nil
}

// parseRecord checks r against the zone apex and returns the RR it stands
// for and the record in canonical form (owner, type and value normalised).
func parseRecord(apex string, r Record) (dns.RR, Record, error) {
	owner, err := CanonicalName(r.Name)
	if err != nil {
		return nil, r, err
	}
	if !isBelow(owner, apex) {
		return nil, r, fmt.Errorf("%w: name %s is outside zone %s", ErrInvalid, owner, apex)
	}
	typ := strings.ToUpper(r.Type)
	t, ok := supportedTypes[typ]
	if !ok {
		if typ == "SOA" {
			return nil, r, fmt.Errorf("%w: the SOA record is managed by resolvx; change the zone's SOA settings instead", ErrInvalid)
		}
		return nil, r, fmt.Errorf("%w: record type %q is not supported (supported: %s)", ErrInvalid, printable(r.Type), strings.Join(SupportedTypes(), ", "))
	}
	if r.TTL > MaxTTL {
		return nil, r, fmt.Errorf("%w: TTL %d is out of range 0..%d", ErrInvalid, r.TTL, MaxTTL)
	}
	if t == dns.TypeCNAME && owner == apex {
		return nil, r, fmt.Errorf("%w: a CNAME cannot be at the zone apex (RFC 1912 §2.4): the apex has SOA and NS records", ErrInvalid)
	}
	if t == dns.TypeNS && strings.HasPrefix(owner, "*.") {
		return nil, r, fmt.Errorf("%w: NS records cannot be owned by a wildcard name (RFC 4592 §4.2)", ErrInvalid)
	}
	if !hasPriority(t) && r.Priority != 0 {
		return nil, r, fmt.Errorf("%w: priority applies only to MX and SRV records", ErrInvalid)
	}
	value := strings.TrimSpace(r.Value)
	if value == "" {
		return nil, r, fmt.Errorf("%w: %s record value is empty", ErrInvalid, typ)
	}
	if len(value) > maxValueLen {
		return nil, r, fmt.Errorf("%w: %s record value is %d bytes long, the limit is %d", ErrInvalid, typ, len(value), maxValueLen)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return nil, r, fmt.Errorf("%w: %s record value has a control character", ErrInvalid, typ)
		}
	}
	if strings.ContainsAny(value, "()") && t != dns.TypeTXT && t != dns.TypeCAA && t != dns.TypeHINFO && t != dns.TypeNAPTR {
		return nil, r, fmt.Errorf("%w: %s record value cannot contain parentheses", ErrInvalid, typ)
	}
	rdata := value
	if hasPriority(t) {
		rdata = fmt.Sprintf("%d %s", r.Priority, value)
	}
	line := fmt.Sprintf("%s %d IN %s %s", owner, r.TTL, typ, rdata)
	rr, err := parseOne(line, apex)
	if err != nil {
		return nil, r, fmt.Errorf("%w: %s record value %q does not parse%s", ErrInvalid, typ, printable(value), parseReason(typ, err))
	}
	if rr.Header().Rrtype != t {
		return nil, r, fmt.Errorf("%w: %s record value does not parse as %s", ErrInvalid, typ, typ)
	}
	canon := Record{ID: r.ID, Name: owner, Type: typ, TTL: r.TTL, Priority: r.Priority, Value: rdataText(rr)}
	return rr, canon, nil
}

// parseReason turns a parser reason into the tail of a message. miekg/dns
// says "bad <TYPE> <field>" ("bad MX Pref", "bad A A"): name the field when
// it is not the type itself.
func parseReason(typ string, err error) string {
	msg := err.Error()
	if field, ok := strings.CutPrefix(msg, "bad "+typ+" "); ok {
		if field == typ || field == "" {
			return " as " + typ
		}
		return " (bad " + strings.ToLower(field) + ")"
	}
	return ": " + msg
}

// parseOne parses exactly one RR from a single line, with no directives.
func parseOne(line, origin string) (dns.RR, error) {
	zp := dns.NewZoneParser(strings.NewReader(line), origin, "")
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, parseError(err)
	}
	if !ok || rr == nil {
		return nil, fmt.Errorf("no record")
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("more than one record")
	}
	if err := zp.Err(); err != nil {
		return nil, parseError(err)
	}
	return rr, nil
}

// parseError keeps only the parser's reason: miekg/dns puts the offending
// token (file content) into its message, which must never be echoed.
func parseError(err error) error {
	if pe, ok := err.(*dns.ParseError); ok {
		msg := pe.Error()
		// ParseError formats as "dns: <err>: \"<token>\" at line: L:C".
		if i := strings.Index(msg, ": \""); i >= 0 {
			msg = msg[:i]
		}
		msg = strings.TrimPrefix(msg, "dns: ")
		return fmt.Errorf("%s", msg)
	}
	return fmt.Errorf("syntax error")
}

// rdataText is the presentation form of rr's data without the header and,
// for MX and SRV, without the priority field (it lives in Record.Priority).
func rdataText(rr dns.RR) string {
	s := strings.TrimPrefix(rr.String(), rr.Header().String())
	if hasPriority(rr.Header().Rrtype) {
		if i := strings.IndexByte(s, ' '); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}
