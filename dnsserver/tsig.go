package dnsserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"

	"github.com/miekg/dns"
)

// keyring is the server's dns.TsigProvider: it finds each key in the
// current View (one atomic load, no lock), so keys added or deleted through
// Raft take effect on the next message. Unknown keys and algorithm
// mismatches fail with dns.ErrSecret; secrets never reach a log.
type keyring struct{ src Source }

func (k keyring) mac(t *dns.TSIG) (hash.Hash, error) {
	v := k.src.Data().Zones
	if v == nil {
		return nil, dns.ErrSecret
	}
	key, ok := v.TSIGKey(t.Hdr.Name)
	if !ok || !strings.EqualFold(dns.CanonicalName(t.Algorithm), key.Algorithm) {
		return nil, dns.ErrSecret
	}
	secret, err := base64.StdEncoding.DecodeString(key.Secret)
	if err != nil {
		return nil, dns.ErrSecret
	}
	switch key.Algorithm {
	case dns.HmacSHA256:
		return hmac.New(sha256.New, secret), nil
	case dns.HmacSHA512:
		return hmac.New(sha512.New, secret), nil
	}
	return nil, dns.ErrKeyAlg
}

// Generate returns the MAC of msg under the key t names.
func (k keyring) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	h, err := k.mac(t)
	if err != nil {
		return nil, err
	}
	h.Write(msg)
	return h.Sum(nil), nil
}

// Verify checks t's MAC over msg.
func (k keyring) Verify(msg []byte, t *dns.TSIG) error {
	b, err := k.Generate(msg, t)
	if err != nil {
		return err
	}
	mac, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(b, mac) {
		return dns.ErrSig
	}
	return nil
}
