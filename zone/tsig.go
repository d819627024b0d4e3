package zone

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// TSIGKey is a shared secret for transaction signatures (RFC 8945). Secret
// is base64; it is replicated through Raft but never logged and never shown
// by the API.
type TSIGKey struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Secret    string `json:"secret"`
}

// tsigAlgorithm returns the wire name of an HMAC resolvx accepts, by the
// name users type.
func tsigAlgorithm(name string) (string, bool) {
	switch name {
	case "hmac-sha256":
		return dns.HmacSHA256, true
	case "hmac-sha512":
		return dns.HmacSHA512, true
	}
	return "", false
}

// ValidateTSIGKey checks a key and returns it with a canonical name and the
// algorithm's wire name ("hmac-sha256."). An empty algorithm means
// hmac-sha256.
func ValidateTSIGKey(k TSIGKey) (TSIGKey, error) {
	name, err := CanonicalName(k.Name)
	if err != nil || name == "." {
		return k, fmt.Errorf("%w: TSIG key name %q is not a valid domain name", ErrInvalid, Printable(k.Name))
	}
	k.Name = name
	alg := strings.TrimSuffix(strings.ToLower(k.Algorithm), ".")
	if alg == "" {
		alg = "hmac-sha256"
	}
	wire, ok := tsigAlgorithm(alg)
	if !ok {
		return k, fmt.Errorf("%w: TSIG algorithm %q is not supported; use hmac-sha256 or hmac-sha512", ErrInvalid, Printable(k.Algorithm))
	}
	k.Algorithm = wire
	b, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil || len(b) == 0 {
		return k, fmt.Errorf("%w: TSIG secret is not valid, non-empty base64", ErrInvalid)
	}
	return k, nil
}

// AlgorithmName returns the algorithm as users type it ("hmac-sha256").
func (k TSIGKey) AlgorithmName() string { return strings.TrimSuffix(k.Algorithm, ".") }

// TSIGKey returns the key with the given name (any case, dot optional).
func (v *View) TSIGKey(name string) (TSIGKey, bool) {
	name = lower(name)
	if name == "" || name[len(name)-1] != '.' {
		name += "."
	}
	return v.keys.Get(name)
}

// TSIGKeys returns every key, sorted by name.
func (v *View) TSIGKeys() []TSIGKey {
	out := make([]TSIGKey, 0, v.keys.Len())
	it := v.keys.Iterator()
	for !it.Done() {
		_, k, _ := it.Next()
		out = append(out, k)
	}
	return out
}

// PutTSIGKey returns a View with the key added or replaced.
func (v *View) PutTSIGKey(k TSIGKey) (*View, error) {
	k, err := ValidateTSIGKey(k)
	if err != nil {
		return nil, err
	}
	c := *v
	c.keys = v.keys.Set(k.Name, k)
	return &c, nil
}

// DeleteTSIGKey returns a View without the key. A key that a zone's
// transfer settings name cannot be deleted.
func (v *View) DeleteTSIGKey(name string) (*View, error) {
	k, ok := v.TSIGKey(name)
	if !ok {
		return nil, fmt.Errorf("%w: TSIG key %s", ErrNotFound, Printable(name))
	}
	for _, z := range v.Zones() {
		if z.transfer.TSIGKey == k.Name {
			return nil, fmt.Errorf("%w: TSIG key %s is used by the transfer settings of zone %s", ErrInvalid, k.Name, z.name)
		}
	}
	c := *v
	c.keys = v.keys.Delete(k.Name)
	return &c, nil
}
