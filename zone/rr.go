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
	if unquotedSemicolon(value) {
		// In master-file syntax the rest would be a comment, silently
		// dropped: "v=spf1 -all; x" would store "v=spf1" "-all".
		return Record{}, fmt.Errorf("%w: %s record value has a ';' outside double quotes; quote the text that holds it", ErrInvalid, brief(r.Type))
	}
	rr, canon, err := parseRecord(apex, r)
	if err != nil {
		return canon, err
	}
	return entering(rr, canon)
}

// entering finishes a record that enters resolvx (NewRecord,
// ParseZoneFile): it refuses data checkRData refuses and writes TLSA data
// in lower case (miekg/dns keeps the case typed, and compares it when it
// looks for duplicates). The log-apply path does not run it, so records
// stored before it existed load unchanged on every node.
func entering(rr dns.RR, canon Record) (Record, error) {
	if err := checkRData(rr); err != nil {
		return Record{}, err
	}
	if x, ok := rr.(*dns.TLSA); ok && x.Certificate != strings.ToLower(x.Certificate) {
		c := *x
		c.Certificate = strings.ToLower(x.Certificate)
		canon.Value = rdataText(&c)
	}
	return canon, nil
}

// digestLen returns the digest length in octets that a DS digest type
// (RFC 4034, RFC 4509, RFC 6605), an SSHFP fingerprint type (RFC 4255,
// RFC 6594) or a TLSA matching type (RFC 6698; 0, the full data, has any
// length) requires, and false for the types without a fixed length.
func digestLen(rrtype uint16, code uint8) (int, bool) {
	switch {
	case rrtype == dns.TypeDS && code == 1, rrtype == dns.TypeSSHFP && code == 1:
		return 20, true // SHA-1
	case rrtype == dns.TypeDS && code == 2, rrtype == dns.TypeSSHFP && code == 2, rrtype == dns.TypeTLSA && code == 1:
		return 32, true // SHA-256
	case rrtype == dns.TypeDS && code == 4:
		return 48, true // SHA-384
	case rrtype == dns.TypeTLSA && code == 2:
		return 64, true // SHA-512
	}
	return 0, false
}

// checkRData refuses record data that parses but that resolvx could not
// serve or that no validator would accept: data that does not encode on
// the wire (a DS digest that is not hex, a repeated SVCB key; such a
// record would make every reply holding it fail), a DS, SSHFP or TLSA
// digest whose length does not match its type (a truncated DS makes the
// child zone bogus), an SVCB "mandatory" key list naming a key the record
// lacks (RFC 9460 §8). It runs where records enter (see entering).
func checkRData(rr dns.RR) error {
	typ := dns.TypeToString[rr.Header().Rrtype]
	buf := make([]byte, dns.Len(rr)+64)
	if _, err := dns.PackRR(rr, buf, 0, nil, false); err != nil {
		return fmt.Errorf("%w: %s record value does not encode: %s", ErrInvalid, typ, parseError(err))
	}
	var (
		field  string
		code   uint8
		digest string
	)
	switch x := rr.(type) {
	case *dns.DS:
		field, code, digest = "digest type", x.DigestType, x.Digest
	case *dns.SSHFP:
		field, code, digest = "fingerprint type", x.Type, x.FingerPrint
	case *dns.TLSA:
		field, code, digest = "matching type", x.MatchingType, x.Certificate
	case *dns.SVCB:
		return checkMandatory(x.Value)
	case *dns.HTTPS:
		return checkMandatory(x.Value)
	case *dns.CAA:
		if x.Tag == "" || strings.ContainsFunc(x.Tag, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			return fmt.Errorf("%w: a CAA tag is one or more letters and digits (RFC 8659 §4.1)", ErrInvalid)
		}
		return nil
	case *dns.TXT:
		if len(x.Txt) == 0 {
			return fmt.Errorf("%w: a TXT record needs at least one string (RFC 1035 §3.3.14)", ErrInvalid)
		}
		return nil
	default:
		return nil
	}
	if n, known := digestLen(rr.Header().Rrtype, code); known && len(digest) != 2*n {
		return fmt.Errorf("%w: %s record: %s %d needs a %d-octet digest (%d hex digits), the value has %d hex digits",
			ErrInvalid, typ, field, code, n, 2*n, len(digest))
	}
	return nil
}

// checkMandatory enforces RFC 9460 §8: the keys listed in "mandatory" are
// present in the record, and "mandatory" does not list itself.
func checkMandatory(params []dns.SVCBKeyValue) error {
	for _, p := range params {
		m, ok := p.(*dns.SVCBMandatory)
		if !ok {
			continue
		}
		for _, k := range m.Code {
			if k == dns.SVCB_MANDATORY {
				return fmt.Errorf("%w: SVCB parameter mandatory cannot list itself (RFC 9460 §8)", ErrInvalid)
			}
			found := false
			for _, q := range params {
				found = found || q.Key() == k
			}
			if !found {
				return fmt.Errorf("%w: SVCB parameter mandatory lists %s, which the record does not have (RFC 9460 §8)", ErrInvalid, k)
			}
		}
	}
	return nil
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
	if !IsBelow(owner, apex) {
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
	if !IsBelow(owner, apex) {
		return nil, r, fmt.Errorf("%w: name %s is outside zone %s", ErrInvalid, owner, apex)
	}
	typ := strings.ToUpper(r.Type)
	t, ok := supportedTypes[typ]
	if !ok {
		if typ == "SOA" {
			return nil, r, fmt.Errorf("%w: the SOA record is managed by resolvx; change the zone's SOA settings instead", ErrInvalid)
		}
		return nil, r, fmt.Errorf("%w: record type %q is not supported (supported: %s)", ErrInvalid, brief(r.Type), strings.Join(SupportedTypes(), ", "))
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
	if t == dns.TypeNAPTR {
		value = naptrQuoted(value)
	}
	rdata := value
	if hasPriority(t) {
		rdata = fmt.Sprintf("%d %s", r.Priority, value)
	}
	line := fmt.Sprintf("%s %d IN %s %s", owner, r.TTL, typ, rdata)
	rr, err := parseOne(line, apex)
	if err != nil {
		return nil, r, fmt.Errorf("%w: %s record value %q does not parse%s", ErrInvalid, typ, brief(value), parseReason(typ, err))
	}
	if rr.Header().Rrtype != t {
		return nil, r, fmt.Errorf("%w: %s record value does not parse as %s", ErrInvalid, typ, typ)
	}
	canon := Record{ID: r.ID, Name: owner, Type: typ, TTL: r.TTL, Priority: r.Priority, Value: rdataText(rr)}
	// The limit holds for the stored (canonical) form too: escaping can make
	// it longer than what was typed (a non-ASCII byte becomes \DDD), and a
	// stored record must always validate again (snapshot restore, export).
	if len(canon.Value) > maxValueLen {
		return nil, r, fmt.Errorf("%w: %s record value is %d bytes long once escaped, the limit is %d", ErrInvalid, typ, len(canon.Value), maxValueLen)
	}
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
	if msg == "" {
		return " as " + typ
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
	var s string
	switch x := rr.(type) {
	case *dns.SVCB:
		s = svcbText(x, x.Value)
	case *dns.HTTPS:
		c := *x
		s = svcbText(&c.SVCB, x.Value)
	default:
		s = rr.String()
	}
	s = strings.TrimPrefix(s, rr.Header().String())
	if hasPriority(rr.Header().Rrtype) {
		if i := strings.IndexByte(s, ' '); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}

// svcbText presents an SVCB (or HTTPS) record as miekg/dns does, except
// that a parameter with no value is written as its bare key
// ("no-default-alpn", RFC 9460 §7.1.1: "the presentation and wire-format
// values MUST be empty"): miekg/dns writes no-default-alpn="", which Knot
// and other servers refuse when they load an exported zone file.
func svcbText(x *dns.SVCB, params []dns.SVCBKeyValue) string {
	c := *x
	c.Value = nil
	var b strings.Builder
	b.WriteString(c.String())
	for _, p := range params {
		b.WriteByte(' ')
		b.WriteString(p.Key().String())
		if v := p.String(); v != "" {
			b.WriteString(`="`)
			b.WriteString(v)
			b.WriteByte('"')
		}
	}
	return b.String()
}

// naptrQuoted returns a NAPTR value with its three character-strings
// (flags, services, regexp) in double quotes. RFC 1035 §5.1 lets a
// character-string be written without quotes ("100 10 u E2U+sip
// !^.*$!sip:info@example.com! ."); miekg/dns's parser insists on them.
// A value that is not six fields is returned unchanged for the parser to
// judge.
func naptrQuoted(v string) string {
	fields, ok := splitFields(v)
	if !ok || len(fields) != 6 {
		return v
	}
	for i := 2; i <= 4; i++ {
		if f := fields[i]; !strings.HasPrefix(f, `"`) {
			if strings.Contains(f, `"`) {
				return v
			}
			fields[i] = `"` + f + `"`
		}
	}
	return strings.Join(fields, " ")
}

// unquotedSemicolon reports whether s has a ';' outside double quotes (and
// not escaped): the start of a master-file comment.
func unquotedSemicolon(s string) bool {
	inQuote, escaped := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			return true
		}
	}
	return false
}

// splitFields splits s at blanks outside double quotes, honouring
// backslash escapes; ok is false when a quote is not closed.
func splitFields(s string) (fields []string, ok bool) {
	var cur strings.Builder
	inQuote, escaped, have := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ' ' || c == '\t'):
			if have {
				fields = append(fields, cur.String())
				cur.Reset()
				have = false
			}
			continue
		}
		cur.WriteByte(c)
		have = true
	}
	if inQuote {
		return nil, false
	}
	if have {
		fields = append(fields, cur.String())
	}
	return fields, true
}
