package zone

import (
	"unsafe"

	"github.com/miekg/dns"
)

// MatchKind says how a query name matched a zone.
type MatchKind uint8

// The outcomes of Zone.Lookup.
const (
	// NXDomain: the name does not exist and no wildcard covers it.
	NXDomain MatchKind = iota
	// Exact: a node exists at the name (it may be an empty non-terminal).
	Exact
	// Wildcard: the name does not exist; the wildcard "*.<closest encloser>"
	// matches it (RFC 4592 §3.3.1).
	Wildcard
	// Delegation: the name is at or below a zone cut (a non-apex node with NS).
	Delegation
)

// String names the kind for logs and tests.
func (k MatchKind) String() string {
	switch k {
	case Exact:
		return "exact"
	case Wildcard:
		return "wildcard"
	case Delegation:
		return "delegation"
	}
	return "nxdomain"
}

// Result is the outcome of a lookup. Node is the node at the name (Exact),
// the matching wildcard node (Wildcard), the zone-cut node (Delegation), or
// nil (NXDomain).
type Result struct {
	Kind MatchKind
	Node *Node
}

// Lookup finds qname (any case) in the zone by walking from the apex down
// one label at a time: the first non-apex node with NS is a zone cut; the
// first missing name makes its parent the closest encloser, whose wildcard
// child, if any, matches. qname must be at or below the apex (FindZone
// guarantees it). Lookup does not allocate for lower-case names.
func (z *Zone) Lookup(qname string) Result {
	qname = lower(qname)
	if len(qname) < len(z.name) {
		return Result{}
	}
	encloser, _ := z.nodes.Get(z.name)
	// Walk the suffixes of qname that are longer than the apex, shortest
	// first: find where each starts by scanning labels from the right.
	end := len(qname) - len(z.name) // qname[:end] is the part below the apex
	for end > 0 {
		start := labelStart(qname, end-1)
		name := qname[start:]
		n, ok := z.nodes.Get(name)
		if !ok {
			if encloser.wild {
				if w := z.wildcardOf(encloser.name); w != nil {
					return Result{Kind: Wildcard, Node: w}
				}
			}
			return Result{Kind: NXDomain}
		}
		if n.RRset(dns.TypeNS) != nil {
			return Result{Kind: Delegation, Node: n}
		}
		encloser = n
		end = start - 1 // skip the dot before this label
		if start == 0 {
			break
		}
	}
	return Result{Kind: Exact, Node: encloser}
}

// labelStart returns where the label ending just before the dot at or before
// position i starts: qname[start:] is one label longer than qname[i+1:].
// i indexes the dot that ends the label (or the last byte before the apex).
func labelStart(qname string, i int) int {
	// qname[i] is the '.' separating this label from the suffix already seen
	// (or, for the first step, the dot before the apex). Scan left to the
	// previous unescaped dot.
	for j := i - 1; j >= 0; j-- {
		if qname[j] == '.' && !escaped(qname, j) {
			return j + 1
		}
	}
	return 0
}

// escaped reports whether the byte at i is escaped by an odd run of
// backslashes before it.
func escaped(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// wildcardOf returns the node "*.<name>" without allocating the key.
func (z *Zone) wildcardOf(name string) *Node {
	var buf [256]byte
	if len(name)+2 > len(buf) {
		return nil
	}
	b := append(buf[:0], "*."...)
	b = append(b, name...)
	// The key does not outlive Get, so a string over the stack buffer is safe.
	n, _ := z.nodes.Get(unsafe.String(&b[0], len(b)))
	return n
}
