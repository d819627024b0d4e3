package zone

import (
	"cmp"
	"maps"
	"slices"

	"github.com/miekg/dns"
)

// HistoryLen is how many changes a zone remembers for incremental transfers
// (IXFR, RFC 1995). A secondary further behind gets a full transfer.
const HistoryLen = 64

// Delta is one change of a zone as IXFR sends it (RFC 1995 §4): the SOA
// before and after, and the RRsets the change touched, whole: the old
// version of each in Deleted, the new one in Added. Whole RRsets keep a
// secondary exact when a change moves an RRset's TTL (every RR of a set
// carries the set's lowest TTL). Only touched RRsets are stored, never the
// zone. A Delta is shared by every later View: never modify it.
type Delta struct {
	From, To *dns.SOA
	Deleted  []dns.RR
	Added    []dns.RR
}

// rrsetKey names one RRset of a zone.
type rrsetKey struct {
	name string
	typ  uint16
}

// ChangesSince returns the deltas that lead from serial to the zone's
// current serial, oldest first, or false when the zone does not remember
// serial (too old, never existed, or from before a snapshot restore: the
// history is not part of snapshots). A secondary at the current serial gets
// an empty list and true.
func (z *Zone) ChangesSince(serial uint32) ([]*Delta, bool) {
	if serial == z.Serial() {
		return nil, true
	}
	for i, d := range z.history {
		if d.From.Serial == serial {
			return z.history[i:], true
		}
	}
	return nil, false
}

// HistoryLen returns the number of deltas the zone remembers.
func (z *Zone) HistoryLen() int { return len(z.history) }

// withDelta returns nz (a new version of old) remembering old's history and
// d, at most HistoryLen deltas.
func (nz *Zone) withDelta(old *Zone, d *Delta) *Zone {
	h := old.history
	if old.index == nz.index && len(h) > 0 {
		// A second step of one command (an import's SOA, then its
		// records): one serial, so one delta. The first step changed
		// only the SOA when it left no RRs; otherwise the steps cannot
		// be merged in order, and the history starts afresh (older
		// serials get a full transfer).
		prev := h[len(h)-1]
		h = h[:len(h)-1]
		if len(prev.Deleted) > 0 || len(prev.Added) > 0 {
			c := *nz
			c.history = nil
			return &c
		}
		d = &Delta{From: prev.From, To: d.To, Deleted: d.Deleted, Added: d.Added}
	}
	if len(h) >= HistoryLen {
		h = h[len(h)-HistoryLen+1:]
	}
	c := *nz
	c.history = append(slices.Clip(h), d)
	return &c
}

// deltaOf computes the delta from old to nz over the touched RRsets (the
// SOA aside: IXFR carries it in the framing). Deterministic: RRsets are
// visited in canonical order.
func deltaOf(old, nz *Zone, touched map[rrsetKey]struct{}) *Delta {
	d := &Delta{From: old.soaRR, To: nz.soaRR}
	keys := slices.SortedFunc(maps.Keys(touched), func(a, b rrsetKey) int {
		return cmp.Or(compareNames(a.name, b.name), cmp.Compare(a.typ, b.typ))
	})
	for _, k := range keys {
		if k.typ == dns.TypeSOA {
			continue
		}
		a, b := old.rrset(k), nz.rrset(k)
		if sameRRset(a, b) {
			continue
		}
		d.Deleted = append(d.Deleted, a...)
		d.Added = append(d.Added, b...)
	}
	return d
}

// allRRsets returns the key of every RRset of z.
func (z *Zone) allRRsets(into map[rrsetKey]struct{}) {
	it := z.nodes.Iterator()
	for !it.Done() {
		name, n, _ := it.Next()
		for _, t := range n.Types() {
			into[rrsetKey{name, t}] = struct{}{}
		}
	}
}

func (z *Zone) rrset(k rrsetKey) []dns.RR {
	n, ok := z.nodes.Get(k.name)
	if !ok {
		return nil
	}
	return n.RRset(k.typ)
}

// sameRRset reports whether a and b hold the same records with the same
// TTLs, in any order.
func sameRRset(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y dns.RR) bool {
			return x == y || (x.Header().Ttl == y.Header().Ttl && dns.IsDuplicate(x, y))
		}) {
			return false
		}
	}
	return true
}

// RRs returns every RR of the zone except the SOA, owners in canonical
// order, for a full transfer (AXFR). The RRs are shared: never modify them.
func (z *Zone) RRs() []dns.RR {
	names := make([]string, 0, z.nodes.Len())
	it := z.nodes.Iterator()
	for !it.Done() {
		name, _, _ := it.Next()
		names = append(names, name)
	}
	slices.SortFunc(names, compareNames)
	out := make([]dns.RR, 0, z.records.Len())
	for _, name := range names {
		n, _ := z.nodes.Get(name)
		for _, s := range n.sets {
			if s.typ != dns.TypeSOA {
				out = append(out, s.rrs...)
			}
		}
	}
	return out
}
