package zone

// stringHasher hashes strings for the persistent maps without boxing them
// into interfaces (the library's default hasher allocates on every Get).
type stringHasher struct{}

// Hash is FNV-1a over the bytes of s.
func (stringHasher) Hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Equal reports whether a and b are the same key.
func (stringHasher) Equal(a, b string) bool { return a == b }
