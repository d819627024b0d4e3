package conformance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// rendered is a reply in comparable text form. The question is compared
// exactly (case included); RRs are grouped into RRsets (owner, class,
// type) whose records are compared as a multiset of "TTL RDATA" (RFC 2181
// §5: the order of RRs in an RRset is not significant). The answer
// section keeps the order of its RRsets (a CNAME chain is read in order);
// the authority and additional sections are compared as multisets of
// RRsets.
type rendered struct {
	header     string
	question   string
	opt        string
	answer     []string
	authority  []string
	additional []string
}

// render presents m; nil (no reply) renders as "no reply".
func render(m *dns.Msg) rendered {
	if m == nil {
		return rendered{header: "no reply"}
	}
	var r rendered
	r.header = fmt.Sprintf("opcode %s rcode %s qr %t aa %t tc %t rd %t ra %t z %t ad %t cd %t",
		dns.OpcodeToString[m.Opcode], rcodeName(m.Rcode), m.Response, m.Authoritative, m.Truncated,
		m.RecursionDesired, m.RecursionAvailable, m.Zero, m.AuthenticatedData, m.CheckingDisabled)
	var qs []string
	for _, q := range m.Question {
		qs = append(qs, fmt.Sprintf("%s %s %s", q.Name, dns.Class(q.Qclass), dns.Type(q.Qtype)))
	}
	r.question = strings.Join(qs, "; ")
	r.answer = rrsets(m.Answer, true)
	r.authority = rrsets(m.Ns, false)
	var extra []dns.RR
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			if r.opt != "" {
				r.opt += " + "
			}
			r.opt += renderOPT(opt)
			continue
		}
		extra = append(extra, rr)
	}
	r.additional = rrsets(extra, false)
	return r
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

func renderOPT(o *dns.OPT) string {
	var codes []string
	for _, e := range o.Option {
		codes = append(codes, fmt.Sprintf("%d", e.Option()))
	}
	return fmt.Sprintf("EDNS v%d do %t size %d options [%s]", o.Version(), o.Do(), o.UDPSize(), strings.Join(codes, " "))
}

// rrsets groups rrs into RRsets, each rendered "owner class type: ttl
// rdata | ttl rdata" with its records sorted. ordered keeps the order in
// which the RRsets first appear; otherwise they are sorted.
func rrsets(rrs []dns.RR, ordered bool) []string {
	type set struct {
		key  string
		recs []string
	}
	var sets []*set
	byKey := make(map[string]*set)
	for _, rr := range rrs {
		h := rr.Header()
		key := fmt.Sprintf("%s %s %s", h.Name, dns.Class(h.Class), dns.Type(h.Rrtype))
		s := byKey[key]
		if s == nil {
			s = &set{key: key}
			byKey[key] = s
			sets = append(sets, s)
		}
		rdata := strings.TrimPrefix(rr.String(), h.String())
		s.recs = append(s.recs, fmt.Sprintf("%d %s", h.Ttl, rdata))
	}
	out := make([]string, 0, len(sets))
	for _, s := range sets {
		slices.Sort(s.recs)
		out = append(out, s.key+": "+strings.Join(s.recs, " | "))
	}
	if !ordered {
		slices.Sort(out)
	}
	return out
}

// diff lists every way a and b differ, one entry per field or RRset.
func diff(a, b rendered) []string {
	var d []string
	for _, f := range []struct {
		name string
		a, b string
	}{{"header", a.header, b.header}, {"question", a.question, b.question}, {"opt", a.opt, b.opt}} {
		if f.a != f.b {
			d = append(d, fmt.Sprintf("%s: knot %q, resolvx %q", f.name, f.a, f.b))
		}
	}
	d = append(d, diffSets("answer", a.answer, b.answer, true)...)
	d = append(d, diffSets("authority", a.authority, b.authority, false)...)
	d = append(d, diffSets("additional", a.additional, b.additional, false)...)
	return d
}

// diffSets lists the RRsets only one side has; for an ordered section, a
// different order of the same RRsets is one more entry.
func diffSets(section string, a, b []string, ordered bool) []string {
	var d []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			d = append(d, fmt.Sprintf("%s: only knot has %s", section, s))
		}
	}
	for _, s := range b {
		if !slices.Contains(a, s) {
			d = append(d, fmt.Sprintf("%s: only resolvx has %s", section, s))
		}
	}
	if len(d) == 0 && ordered && !slices.Equal(a, b) {
		d = append(d, fmt.Sprintf("%s: RRset order: knot %v, resolvx %v", section, a, b))
	}
	return d
}

// show presents a reply for a failure message.
func show(m *dns.Msg) string {
	if m == nil {
		return "(no reply)"
	}
	return m.String()
}
