package zone

import (
	"fmt"
	"strings"

	"github.com/benbjohnson/immutable"
	"github.com/miekg/dns"
)

// store is a persistent map being edited: either an immutable.Map that each
// write replaces (small changes: every old View stays intact) or a
// MapBuilder that is written in place (bulk loads of a brand-new zone).
type store[V any] struct {
	m *immutable.Map[string, V]
	b *immutable.MapBuilder[string, V]
}

func (s *store[V]) get(k string) (V, bool) {
	if s.b != nil {
		return s.b.Get(k)
	}
	return s.m.Get(k)
}

func (s *store[V]) set(k string, v V) {
	if s.b != nil {
		s.b.Set(k, v)
		return
	}
	s.m = s.m.Set(k, v)
}

func (s *store[V]) del(k string) {
	if s.b != nil {
		s.b.Delete(k)
		return
	}
	s.m = s.m.Delete(k)
}

func (s *store[V]) done() *immutable.Map[string, V] {
	if s.b != nil {
		return s.b.Map()
	}
	return s.m
}

// editor applies record changes to a zone, keeping the node invariants:
// every ancestor (up to the apex) of a node with data exists, desc counts
// are exact, and wild flags mirror the existence of "*." children.
type editor struct {
	apex    string
	records store[Record]
	nodes   store[*Node]
	// touched collects the RRsets a change set edits (for the IXFR
	// history); nil when building a whole zone.
	touched map[rrsetKey]struct{}
}

func (e *editor) touch(name string, t uint16) {
	if e.touched != nil {
		e.touched[rrsetKey{name, t}] = struct{}{}
	}
}

// editZone edits a copy of z; z itself is never changed.
func editZone(z *Zone) *editor {
	return &editor{apex: z.name, records: store[Record]{m: z.records}, nodes: store[*Node]{m: z.nodes}}
}

// buildZone edits a fresh, empty zone in place (for imports and restores).
func buildZone(name string) *editor {
	e := &editor{
		apex:    name,
		records: store[Record]{b: immutable.NewMapBuilder[string, Record](stringHasher{})},
		nodes:   store[*Node]{b: immutable.NewMapBuilder[string, *Node](stringHasher{})},
	}
	e.nodes.set(name, &Node{name: name})
	return e
}

// finish returns a zone with the edited maps, the given SOA settings and a
// serial derived from index.
func (e *editor) finish(soa SOA, created, index uint64) *Zone {
	z := &Zone{name: e.apex, soa: soa, created: created, records: e.records.done(), nodes: e.nodes.done()}
	return z.withSerial(index)
}

func (e *editor) apply(c Change) error {
	switch c.Op {
	case OpAdd:
		return e.add(c.Record)
	case OpUpdate:
		if c.Record.ID == "" {
			return fmt.Errorf("%w: update needs a record ID", ErrInvalid)
		}
		if err := e.remove(c.Record.ID); err != nil {
			return err
		}
		return e.add(c.Record)
	case OpDelete:
		return e.remove(c.ID)
	default:
		return fmt.Errorf("%w: unknown change operation %q", ErrInvalid, Printable(string(c.Op)))
	}
}

func (e *editor) add(r Record) error {
	if r.ID == "" {
		return fmt.Errorf("%w: record has no ID", ErrInvalid)
	}
	if _, ok := e.records.get(r.ID); ok {
		return fmt.Errorf("%w: record ID %s", ErrExists, r.ID)
	}
	rr, canon, err := parseRecord(e.apex, r)
	if err != nil {
		return err
	}
	owner, t := canon.Name, rr.Header().Rrtype
	if t == dns.TypeDS && owner == e.apex {
		return fmt.Errorf("%w: a DS record belongs at a delegation point, not at the zone apex", ErrInvalid)
	}
	node, exists := e.nodes.get(owner)
	if exists {
		if err := checkCoexistence(node, rr); err != nil {
			return err
		}
		if node.hasDuplicate(rr, "") {
			return fmt.Errorf("%w: %s %s %s is already in the zone", ErrExists, owner, canon.Type, canon.Value)
		}
	} else {
		node = e.newNode(owner)
	}
	wasEmpty := node.Empty()
	e.touch(owner, t)
	e.nodes.set(owner, node.withRR(canon.ID, rr))
	e.records.set(canon.ID, canon)
	if wasEmpty {
		e.adjustAncestors(owner, +1)
	}
	return nil
}

// checkCoexistence enforces RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME stands
// alone at its name, and a name has at most one CNAME.
func checkCoexistence(node *Node, rr dns.RR) error {
	t := rr.Header().Rrtype
	hasCNAME := node.RRset(dns.TypeCNAME) != nil
	switch {
	case t == dns.TypeCNAME && hasCNAME:
		return fmt.Errorf("%w: %s already has a CNAME; a name can have only one", ErrInvalid, node.name)
	case t == dns.TypeCNAME && !node.Empty():
		return fmt.Errorf("%w: a CNAME cannot be added to %s because the name has other records (RFC 1034 §3.6.2)", ErrInvalid, node.name)
	case t != dns.TypeCNAME && hasCNAME:
		return fmt.Errorf("%w: %s has a CNAME, so it cannot have other records (RFC 1034 §3.6.2)", ErrInvalid, node.name)
	}
	return nil
}

func (e *editor) remove(id string) error {
	r, ok := e.records.get(id)
	if !ok {
		return fmt.Errorf("%w: record %s", ErrNotFound, id)
	}
	t := supportedTypes[r.Type]
	e.touch(r.Name, t)
	node, _ := e.nodes.get(r.Name)
	node = node.withoutRR(t, id)
	e.records.del(id)
	e.nodes.set(r.Name, node)
	if node.Empty() {
		e.adjustAncestors(r.Name, -1)
		e.pruneIfUnused(r.Name)
	}
	return nil
}

// newNode creates an empty node at name and marks its parent when it is a
// wildcard. The caller stores data in it or counts a descendant.
func (e *editor) newNode(name string) *Node {
	n := &Node{name: name}
	if _, ok := e.nodes.get("*." + name); ok {
		n.wild = true
	}
	e.nodes.set(name, n)
	if strings.HasPrefix(name, "*.") {
		e.setWild(ParentName(name), true)
	}
	return n
}

func (e *editor) setWild(parent string, wild bool) {
	if p, ok := e.nodes.get(parent); ok && p.wild != wild {
		c := p.clone()
		c.wild = wild
		e.nodes.set(parent, c)
	}
}

// adjustAncestors adds delta to desc of every ancestor of name up to and
// including the apex, creating missing ancestors (empty non-terminals) and
// removing ones that are no longer needed.
func (e *editor) adjustAncestors(name string, delta int) {
	for a := ParentName(name); name != e.apex && a != ""; a = ParentName(a) {
		n, ok := e.nodes.get(a)
		if !ok {
			n = e.newNode(a)
		}
		c := n.clone()
		c.desc += delta
		e.nodes.set(a, c)
		if delta < 0 {
			e.pruneIfUnused(a)
		}
		if a == e.apex {
			return
		}
	}
}

// pruneIfUnused deletes the node at name if it has no data and nothing below
// it. The apex always stays.
func (e *editor) pruneIfUnused(name string) {
	if name == e.apex {
		return
	}
	n, ok := e.nodes.get(name)
	if !ok || !n.Empty() || n.desc > 0 {
		return
	}
	e.nodes.del(name)
	if strings.HasPrefix(name, "*.") {
		e.setWild(ParentName(name), false)
	}
}
