package zone

import (
	"slices"

	"github.com/miekg/dns"
)

// Node is one owner name of a zone with its RRsets. A Node is immutable once
// it is reachable from a View; changes copy the node (copy-on-write).
type Node struct {
	name string
	sets []rrset // sorted by type
	// desc counts the nodes with data strictly below this one; a node with
	// no data and desc > 0 is an empty non-terminal.
	desc int
	// wild is true when the child "*.<name>" exists.
	wild bool
}

// rrset is the records of one type at a node. rrs[i] stands for the record
// ids[i]; the RRs all carry the set's lowest TTL (RFC 2181 §5.2).
type rrset struct {
	typ uint16
	rrs []dns.RR
	ids []string
	// ttls keeps each record's own TTL so that removing the record with the
	// lowest TTL can restore the others.
	ttls []uint32
}

// Name returns the owner name, canonical (lower case).
func (n *Node) Name() string { return n.name }

// Empty reports whether the node has no records (an empty non-terminal).
func (n *Node) Empty() bool { return len(n.sets) == 0 }

// RRset returns the records of type t at this node, or nil. The returned RRs
// are shared by every reader: never modify them.
func (n *Node) RRset(t uint16) []dns.RR {
	for i := range n.sets {
		if n.sets[i].typ == t {
			return n.sets[i].rrs
		}
	}
	return nil
}

// Types returns the record types present at the node, sorted.
func (n *Node) Types() []uint16 {
	ts := make([]uint16, len(n.sets))
	for i := range n.sets {
		ts[i] = n.sets[i].typ
	}
	return ts
}

// ids returns every record ID at the node.
func (n *Node) recordIDs() []string {
	var ids []string
	for i := range n.sets {
		ids = append(ids, n.sets[i].ids...)
	}
	return ids
}

func (n *Node) clone() *Node {
	c := *n
	c.sets = slices.Clone(n.sets)
	return &c
}

func (n *Node) setIndex(t uint16) (int, bool) {
	return slices.BinarySearchFunc(n.sets, t, func(s rrset, t uint16) int { return int(s.typ) - int(t) })
}

// withRR returns a copy of n with rr (record id) added to its type's RRset.
func (n *Node) withRR(id string, rr dns.RR) *Node {
	c := n.clone()
	t := rr.Header().Rrtype
	i, found := c.setIndex(t)
	if !found {
		c.sets = slices.Insert(c.sets, i, rrset{typ: t})
	}
	// Keep records ordered by ID, so that a node's RRset has the same order
	// whatever history built it (log replay or snapshot restore).
	s := c.sets[i]
	j, _ := slices.BinarySearch(s.ids, id)
	s.ids = slices.Insert(slices.Clip(s.ids), j, id)
	s.ttls = slices.Insert(slices.Clip(s.ttls), j, rr.Header().Ttl)
	s.rrs = slices.Insert(slices.Clip(s.rrs), j, rr)
	c.sets[i] = s.normalised()
	return c
}

// withoutRR returns a copy of n without the record id of type t.
func (n *Node) withoutRR(t uint16, id string) *Node {
	c := n.clone()
	i, found := c.setIndex(t)
	if !found {
		return c
	}
	s := c.sets[i]
	j := slices.Index(s.ids, id)
	if j < 0 {
		return c
	}
	s.ids = slices.Delete(slices.Clone(s.ids), j, j+1)
	s.ttls = slices.Delete(slices.Clone(s.ttls), j, j+1)
	s.rrs = slices.Delete(slices.Clone(s.rrs), j, j+1)
	if len(s.ids) == 0 {
		c.sets = slices.Delete(c.sets, i, i+1)
		return c
	}
	c.sets[i] = s.normalised()
	return c
}

// normalised gives every RR of the set the set's lowest TTL, copying the RRs
// whose TTL changes (RRs may be shared with older views).
func (s rrset) normalised() rrset {
	low := slices.Min(s.ttls)
	for k, rr := range s.rrs {
		if rr.Header().Ttl != low {
			cp := dns.Copy(rr)
			cp.Header().Ttl = low
			s.rrs[k] = cp
		}
	}
	return s
}

// hasDuplicate reports whether the node already holds a record equal to rr
// (same owner, type and data; TTL aside).
func (n *Node) hasDuplicate(rr dns.RR, exceptID string) bool {
	i, found := n.setIndex(rr.Header().Rrtype)
	if !found {
		return false
	}
	s := n.sets[i]
	for k, have := range s.rrs {
		if s.ids[k] != exceptID && dns.IsDuplicate(have, rr) {
			return true
		}
	}
	return false
}
