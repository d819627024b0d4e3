package gtm

import "net/netip"

// Key derives the selection key of one query from the client's address,
// the query name (case-insensitive) and the DNS message ID. Every node
// computes the same key for the same query, so all answer alike; different
// queries spread over the endpoints in proportion to their weights.
func Key(client netip.Addr, qname string, id uint16) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037) // FNV-1a
	b := client.As16()
	for _, c := range b {
		h = (h ^ uint64(c)) * prime
	}
	for i := 0; i < len(qname); i++ {
		c := qname[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * prime
	}
	h = (h ^ uint64(id>>8)) * prime
	h = (h ^ uint64(id&0xff)) * prime
	return h
}
