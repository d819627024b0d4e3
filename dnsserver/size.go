package dnsserver

import "github.com/miekg/dns"

// fit makes m fit in limit bytes once packed. Optional additional records
// go first (they never cause truncation, RFC 2181 §9); if the reply is still
// too large, it keeps only the question and the OPT record and sets TC, as
// Knot does. glue is the number of records at the start of m.Extra that are
// mandatory glue and stay as long as the reply is not truncated.
func fit(m *dns.Msg, limit int, glue int) {
	if fits(m, limit) {
		return
	}
	opt := optOf(m)
	if optional := len(m.Extra) - glue; opt != nil && optional > 1 || opt == nil && optional > 0 {
		m.Extra = m.Extra[:glue:glue]
		if opt != nil {
			m.Extra = append(m.Extra, opt)
		}
		if fits(m, limit) {
			return
		}
	}
	m.Truncated = true
	m.Answer, m.Ns, m.Extra = nil, nil, nil
	if opt != nil {
		m.Extra = []dns.RR{opt}
	}
}

// fits reports whether m packs into limit bytes with compression. The
// uncompressed length is cheap (no map) and settles the common case; the
// compressed one is computed only when the first is too large.
func fits(m *dns.Msg, limit int) bool {
	m.Compress = false
	n := m.Len()
	m.Compress = true
	return n <= limit || m.Len() <= limit
}

// optOf returns the reply's OPT record, the last record of its additional
// section when present.
func optOf(m *dns.Msg) *dns.OPT {
	if len(m.Extra) == 0 {
		return nil
	}
	opt, _ := m.Extra[len(m.Extra)-1].(*dns.OPT)
	return opt
}
