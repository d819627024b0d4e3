package dnsserver

import "github.com/miekg/dns"

// fit makes m fit in limit bytes once packed, as Knot does. Optional
// additional records never cause truncation (RFC 2181 §9): an additional
// RRset that does not fit is left out and the next ones are tried. If the
// reply does not fit even without them, it keeps only the question and the
// OPT record and sets TC. glue is the number of records at the start of
// m.Extra that are mandatory glue: they stay as long as the reply is not
// truncated.
func fit(m *dns.Msg, limit int, glue int) {
	if fits(m, limit) {
		return
	}
	opt := optOf(m)
	extra := m.Extra
	if opt != nil {
		extra = extra[:len(extra)-1]
	}
	optional := extra[glue:]
	m.Extra = append(make([]dns.RR, 0, len(extra)+1), extra[:glue]...)
	if opt != nil {
		m.Extra = append(m.Extra, opt)
	}
	if !fits(m, limit) {
		m.Truncated = true
		m.Answer, m.Ns, m.Extra = nil, nil, nil
		if opt != nil {
			m.Extra = []dns.RR{opt}
		}
		return
	}
	// Put back the optional RRsets that fit, in order, keeping OPT last.
	for len(optional) > 0 {
		n := rrsetLen(optional)
		kept := m.Extra
		if opt != nil {
			kept = kept[:len(kept)-1]
		}
		m.Extra = append(kept, optional[:n]...)
		if opt != nil {
			m.Extra = append(m.Extra, opt)
		}
		if !fits(m, limit) {
			m.Extra = append(kept, m.Extra[len(kept)+n:]...)
		}
		optional = optional[n:]
	}
}

// rrsetLen returns how many records at the start of rrs form one RRset
// (same owner and type: the additional section is built RRset by RRset).
func rrsetLen(rrs []dns.RR) int {
	h := rrs[0].Header()
	n := 1
	for n < len(rrs) && rrs[n].Header().Rrtype == h.Rrtype && rrs[n].Header().Name == h.Name {
		n++
	}
	return n
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
