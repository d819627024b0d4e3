package zone

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// MaxZoneFileRecords bounds how many records one import may hold.
const MaxZoneFileRecords = 2_000_000

// ZoneFile is the content of an RFC 1035 master file.
type ZoneFile struct {
	SOA     *SOA // the apex SOA's settings, if the file has one
	Records []Record
}

// ParseZoneText parses RFC 1035 master-file text for the zone origin and
// returns its records (the SOA is left out; see ParseZoneFile). IDs are
// left empty.
func ParseZoneText(origin, text string) ([]Record, error) {
	zf, err := ParseZoneFile(origin, text)
	if err != nil {
		return nil, err
	}
	return zf.Records, nil
}

// ParseZoneFile parses RFC 1035 master-file text for the zone origin:
// $ORIGIN, $TTL, relative names, parentheses and comments are understood;
// $INCLUDE and $GENERATE are refused. Every record is validated as the API
// validates it. Error messages give the line or record number and the
// reason, never the file's content.
func ParseZoneFile(origin, text string) (ZoneFile, error) {
	apex, err := CanonicalName(origin)
	if err != nil {
		return ZoneFile{}, fmt.Errorf("zone: %w", err)
	}
	if err := checkDirectives(text); err != nil {
		return ZoneFile{}, err
	}
	var zf ZoneFile
	seen := map[string]struct{}{}
	zp := dns.NewZoneParser(strings.NewReader(text), apex, "")
	zp.SetDefaultTTL(3600)
	n := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		n++
		if n > MaxZoneFileRecords {
			return ZoneFile{}, fmt.Errorf("%w: the file has more than %d records", ErrInvalid, MaxZoneFileRecords)
		}
		h := rr.Header()
		if h.Class != dns.ClassINET {
			return ZoneFile{}, fmt.Errorf("%w: record %d: only class IN is supported", ErrInvalid, n)
		}
		if soa, isSOA := rr.(*dns.SOA); isSOA {
			if lower(h.Name) != apex {
				return ZoneFile{}, fmt.Errorf("%w: record %d: a SOA record is only allowed at the zone apex", ErrInvalid, n)
			}
			if zf.SOA != nil {
				return ZoneFile{}, fmt.Errorf("%w: record %d: the file has more than one SOA record", ErrInvalid, n)
			}
			s, err := ValidateSOA(SOA{MName: lower(soa.Ns), RName: lower(soa.Mbox), Refresh: soa.Refresh, Retry: soa.Retry, Expire: soa.Expire, Minimum: soa.Minttl, TTL: h.Ttl})
			if err != nil {
				// An "@ SOA" line without data parses (miekg/dns allows
				// empty RDATA) and must not become the zone's SOA.
				return ZoneFile{}, fmt.Errorf("record %d: %w", n, err)
			}
			zf.SOA = &s
			continue
		}
		r, err := recordFromRR(apex, rr)
		if err != nil {
			return ZoneFile{}, fmt.Errorf("record %d: %w", n, err)
		}
		// A record listed twice is one record (RFC 2181 §5: duplicates are
		// suppressed), as BIND and Knot load it; the first TTL stands.
		key := r.Name + " " + r.Type + " " + strconv.FormatUint(uint64(r.Priority), 10) + " " + r.Value
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		zf.Records = append(zf.Records, r)
	}
	if err := zp.Err(); err != nil {
		return ZoneFile{}, fmt.Errorf("%w: %s", ErrInvalid, zoneParseError(err))
	}
	return zf, nil
}

// checkDirectives refuses the directives resolvx does not follow.
func checkDirectives(text string) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		f := strings.ToUpper(strings.TrimLeft(sc.Text(), " \t"))
		switch {
		case strings.HasPrefix(f, "$INCLUDE"):
			return fmt.Errorf("%w: line %d: $INCLUDE is not allowed in imported zone files", ErrInvalid, line)
		case strings.HasPrefix(f, "$GENERATE"):
			return fmt.Errorf("%w: line %d: $GENERATE is not supported; expand the records before importing", ErrInvalid, line)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: a line is longer than 1 MiB", ErrInvalid)
	}
	return nil
}

// recordFromRR turns a parsed RR into a validated Record.
func recordFromRR(apex string, rr dns.RR) (Record, error) {
	h := rr.Header()
	r := Record{Name: lower(h.Name), Type: dns.TypeToString[h.Rrtype], TTL: h.Ttl}
	switch x := rr.(type) {
	case *dns.MX:
		r.Priority = x.Preference
	case *dns.SRV:
		r.Priority = x.Priority
	}
	r.Value = rdataText(rr)
	prr, canon, err := parseRecord(apex, r)
	if err != nil {
		return canon, err
	}
	return entering(prr, canon)
}

// zoneParseError reduces a miekg/dns parse error to its reason and position,
// dropping the token it quotes (file content).
func zoneParseError(err error) string {
	msg := err.Error()
	pos := ""
	if i := strings.LastIndex(msg, " at line: "); i >= 0 {
		pos = msg[i+len(" at line: "):]
		if j := strings.IndexByte(pos, ':'); j >= 0 {
			pos = pos[:j]
		}
		if _, convErr := strconv.Atoi(pos); convErr != nil {
			pos = ""
		}
	}
	reason := parseError(err).Error()
	if pos != "" {
		return fmt.Sprintf("line %s: %s", pos, reason)
	}
	return reason
}

// ExportText renders the zone as an RFC 1035 master file that ParseZoneFile
// reads back to the same zone.
func ExportText(z *Zone) string {
	var b strings.Builder
	fmt.Fprintf(&b, "; zone %s exported by resolvx, serial %d\n", z.name, z.Serial())
	fmt.Fprintf(&b, "$ORIGIN %s\n", z.name)
	b.WriteString(z.soaRR.String())
	b.WriteByte('\n')
	for _, r := range z.Records() {
		b.WriteString(r.Name)
		b.WriteByte('\t')
		b.WriteString(strconv.FormatUint(uint64(r.TTL), 10))
		b.WriteString("\tIN\t")
		b.WriteString(r.Type)
		b.WriteByte('\t')
		if hasPriority(supportedTypes[r.Type]) {
			b.WriteString(strconv.FormatUint(uint64(r.Priority), 10))
			b.WriteByte(' ')
		}
		b.WriteString(r.Value)
		b.WriteByte('\n')
	}
	return b.String()
}
