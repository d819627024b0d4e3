package geo

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/resolvx/resolvx/gtm"
)

// trie is a path-compressed binary trie of the inline CIDR maps of one
// address family. A node is a prefix; its children are the longest prefixes
// below it, one on each side of the bit after it, and internal nodes exist
// only where two branches part. Nodes live in one slice and refer to their
// children by index (0 means none: the root, the /0 prefix, is no one's
// child), so a lookup visits one node per branching on the address's path
// and allocates nothing. Open builds it; afterwards it is only read.
type trie struct {
	nodes []trieNode
	locs  []gtm.Location // values, indexed by trieNode.loc
}

type trieNode struct {
	key   key // masked to bits
	bits  int32
	loc   int32 // index into trie.locs, or -1
	child [2]int32
}

// key is an address as two words, most significant bit first: the 4 bytes
// of an IPv4 address fill the top of hi.
type key struct{ hi, lo uint64 }

func keyOf(a netip.Addr) key {
	if a.Is4() {
		b := a.As4()
		return key{hi: uint64(binary.BigEndian.Uint32(b[:])) << 32}
	}
	b := a.As16()
	return key{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// bit returns bit i (0 = most significant) of k.
func (k key) bit(i int) int {
	if i < 64 {
		return int(k.hi>>(63-uint(i))) & 1
	}
	return int(k.lo>>(127-uint(i))) & 1
}

// common returns how many leading bits k and o share (128 if all).
func (k key) common(o key) int {
	if x := k.hi ^ o.hi; x != 0 {
		return bits.LeadingZeros64(x)
	}
	return 64 + bits.LeadingZeros64(k.lo^o.lo)
}

// masked returns k with the bits from n on cleared.
func (k key) masked(n int) key {
	switch {
	case n <= 0:
		return key{}
	case n < 64:
		return key{hi: k.hi &^ (^uint64(0) >> uint(n))}
	case n < 128:
		return key{k.hi, k.lo &^ (^uint64(0) >> uint(n-64))}
	}
	return k
}

func newTrie() trie {
	return trie{nodes: []trieNode{{loc: -1}}}
}

func (t *trie) newNode(k key, bits int, loc int32) int32 {
	t.nodes = append(t.nodes, trieNode{key: k, bits: int32(bits), loc: loc})
	return int32(len(t.nodes) - 1)
}

// insert maps the masked prefix p (of the trie's family) to loc, and
// reports the location it had already, if any.
func (t *trie) insert(p netip.Prefix, loc gtm.Location) (old gtm.Location, had bool) {
	k, pb := keyOf(p.Addr()), p.Bits()
	n := int32(0) // invariant: node n's prefix contains p
	for {
		nd := &t.nodes[n]
		if int(nd.bits) == pb {
			if nd.loc >= 0 {
				return t.locs[nd.loc], true
			}
			t.locs = append(t.locs, loc)
			nd.loc = int32(len(t.locs) - 1)
			return gtm.Location{}, false
		}
		side := k.bit(int(nd.bits))
		c := nd.child[side]
		if c == 0 {
			t.locs = append(t.locs, loc)
			leaf := t.newNode(k, pb, int32(len(t.locs)-1))
			t.nodes[n].child[side] = leaf
			return gtm.Location{}, false
		}
		cn := &t.nodes[c]
		d := min(k.common(cn.key), int(cn.bits), pb)
		switch {
		case d == int(cn.bits): // c contains p
			n = c
			continue
		case d == pb: // p contains c: p goes between n and c
			t.locs = append(t.locs, loc)
			mid := t.newNode(k, pb, int32(len(t.locs)-1))
			t.nodes[mid].child[t.nodes[c].key.bit(pb)] = c
			t.nodes[n].child[side] = mid
		default: // they part at bit d: a branching node for their common prefix
			ck := t.nodes[c].key
			branch := t.newNode(k.masked(d), d, -1)
			t.locs = append(t.locs, loc)
			leaf := t.newNode(k, pb, int32(len(t.locs)-1))
			t.nodes[branch].child[k.bit(d)] = leaf
			t.nodes[branch].child[ck.bit(d)] = c
			t.nodes[n].child[side] = branch
		}
		return gtm.Location{}, false
	}
}

// lookup returns the location of the longest prefix containing the address
// k (of width bits, 32 or 128), whether there is one, and scope: the
// shortest prefix length such that no mapped prefix lies strictly inside
// k/scope, so that every address in k/scope gets the same result.
func (t *trie) lookup(k key, width int) (loc gtm.Location, ok bool, scope int) {
	n, best := int32(0), int32(-1)
	for {
		nd := &t.nodes[n]
		if nd.loc >= 0 {
			best = nd.loc
		}
		b := int(nd.bits)
		if b == width {
			scope = width
			break
		}
		c := nd.child[k.bit(b)]
		if c == 0 {
			scope = b
			if nd.child[0] != 0 || nd.child[1] != 0 {
				scope++ // a prefix lies below, on the other side of k
			}
			break
		}
		cn := &t.nodes[c]
		if d := k.common(cn.key); d < int(cn.bits) {
			// k leaves c's path at bit d (> b): k/(d+1) holds nothing.
			scope = d + 1
			break
		}
		n = c
	}
	if best < 0 {
		return gtm.Location{}, false, scope
	}
	return t.locs[best], true, scope
}
