package geo

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/resolvx/resolvx/gtm"
)

// TestTrieRandom checks the trie against a brute-force search over random,
// heavily nested prefix sets: the longest match, and the scope (the
// shortest s such that no prefix lies strictly inside a/s).
func TestTrieRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	codes := []string{"DE", "FR", "JP", "US", "BR", "EU", "AS", "OC"}
	for round := range 200 {
		v6 := round%2 == 1
		width := 32
		if v6 {
			width = 128
		}
		// Addresses share a random base so that the prefixes nest and part
		// at all depths.
		base := randAddr(rng, v6)
		addr := func() netip.Addr {
			b := base.AsSlice()
			r := randAddr(rng, v6).AsSlice()
			keep := rng.IntN(width + 1)
			for i := keep; i < width; i++ {
				m := byte(0x80 >> (i % 8))
				b[i/8] = b[i/8]&^m | r[i/8]&m
			}
			a, _ := netip.AddrFromSlice(b)
			return a
		}
		tr := newTrie()
		type entry struct {
			p   netip.Prefix
			loc gtm.Location
		}
		var entries []entry
		for range 1 + rng.IntN(40) {
			p := netip.PrefixFrom(addr(), rng.IntN(width+1)).Masked()
			loc := gtm.Location{Country: codes[rng.IntN(len(codes))]}
			old, had := tr.insert(p, loc)
			dup := false
			for _, e := range entries {
				if e.p == p {
					dup = true
					if !had || old != e.loc {
						t.Fatalf("round %d: insert(%s) again = %v, %v; want %v, true", round, p, old, had, e.loc)
					}
				}
			}
			if !dup {
				if had {
					t.Fatalf("round %d: insert(%s) reports a previous value", round, p)
				}
				entries = append(entries, entry{p, loc})
			}
		}
		for range 200 {
			a := addr()
			bestBits, want := -1, gtm.Location{}
			for _, e := range entries {
				if e.p.Contains(a) && e.p.Bits() > bestBits {
					bestBits, want = e.p.Bits(), e.loc
				}
			}
			wantScope := 0
			for s := 0; s <= width; s++ {
				outer := netip.PrefixFrom(a, s).Masked()
				inside := false
				for _, e := range entries {
					if e.p.Bits() > s && outer.Contains(e.p.Addr()) {
						inside = true
						break
					}
				}
				if !inside {
					wantScope = s
					break
				}
			}
			loc, ok, scope := tr.lookup(keyOf(a), width)
			if ok != (bestBits >= 0) || loc != want || scope != wantScope {
				t.Fatalf("round %d: lookup(%s) = %v, %v, %d; want %v, %v, %d (prefixes %v)",
					round, a, loc, ok, scope, want, bestBits >= 0, wantScope, entries)
			}
		}
	}
}

func randAddr(rng *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return netip.AddrFrom16(b)
	}
	var b [4]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return netip.AddrFrom4(b)
}
