package zone

import (
	"fmt"
	"net/netip"
	"slices"
)

// Transfer is a zone's zone-transfer settings. A transfer (AXFR or IXFR) is
// allowed when the client's address is in Allow and, when TSIGKey is set,
// the request is signed with that key. Notify lists the secondaries
// ("ip:port") that get a NOTIFY when the zone's serial changes. The zero
// value allows nothing and notifies no one.
type Transfer struct {
	Allow   []string `json:"allow"`
	TSIGKey string   `json:"tsig_key"`
	Notify  []string `json:"notify"`
}

// validateTransfer checks t against the keys of v and returns it in
// canonical form, with the parsed prefixes.
func (v *View) validateTransfer(t Transfer) (Transfer, []netip.Prefix, error) {
	out := Transfer{Allow: []string{}, Notify: []string{}}
	var prefixes []netip.Prefix
	for _, a := range t.Allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			addr, aerr := netip.ParseAddr(a)
			if aerr != nil {
				return out, nil, fmt.Errorf("%w: allow %q is not a CIDR prefix (for example 192.0.2.0/24)", ErrInvalid, Printable(a))
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		p = p.Masked()
		if !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
			out.Allow = append(out.Allow, p.String())
		}
	}
	if t.TSIGKey != "" {
		k, ok := v.TSIGKey(t.TSIGKey)
		if !ok {
			return out, nil, fmt.Errorf("%w: TSIG key %s does not exist", ErrInvalid, Printable(t.TSIGKey))
		}
		out.TSIGKey = k.Name
	}
	for _, n := range t.Notify {
		ap, err := netip.ParseAddrPort(n)
		if err != nil || ap.Port() == 0 {
			return out, nil, fmt.Errorf("%w: notify %q is not an address:port (for example 192.0.2.1:53)", ErrInvalid, Printable(n))
		}
		if s := ap.String(); !slices.Contains(out.Notify, s) {
			out.Notify = append(out.Notify, s)
		}
	}
	return out, prefixes, nil
}

// SetTransfer returns a View in which the zone has new transfer settings.
// The zone's data and serial do not change.
func (v *View) SetTransfer(zoneName string, t Transfer) (*View, error) {
	z := v.Zone(zoneName)
	if z == nil {
		return nil, fmt.Errorf("%w: zone %s", ErrNotFound, Printable(zoneName))
	}
	t, prefixes, err := v.validateTransfer(t)
	if err != nil {
		return nil, err
	}
	c := *z
	c.transfer, c.allow = t, prefixes
	return v.withZone(&c), nil
}

// Transfer returns the zone's transfer settings.
func (z *Zone) Transfer() Transfer { return z.transfer }

// TransferAllowedFrom reports whether addr is in the zone's transfer ACL.
func (z *Zone) TransferAllowedFrom(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range z.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
