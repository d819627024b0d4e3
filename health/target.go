package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/resolvx/resolvx/gtm"
)

// Target is the endpoint a probe checks.
type Target struct {
	EndpointID string
	Address    string // IPv4, IPv6 or a host name
}

// Resolver looks up host names for the probers. It must not be resolvx
// itself; *net.Resolver configured with an outside server satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// resolve returns the address to probe for t and the host name to present
// (Host header, TLS server name), which is "" for a literal address. With
// allowUnsafe false, unsafe addresses are refused; a name is probed at its
// first safe address.
func resolve(ctx context.Context, r Resolver, t Target, allowUnsafe bool) (netip.Addr, string, error) {
	addr := strings.TrimSuffix(strings.TrimPrefix(t.Address, "["), "]")
	if a, err := netip.ParseAddr(addr); err == nil {
		a = a.Unmap()
		if reason := gtm.UnsafeAddr(a); reason != "" && !allowUnsafe {
			return netip.Addr{}, "", fmt.Errorf("refused: %s (allow_unsafe_targets is not set)", reason)
		}
		return a, "", nil
	}
	host := strings.TrimSuffix(t.Address, ".")
	if r == nil {
		return netip.Addr{}, host, errors.New("no resolver for host names")
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, host, fmt.Errorf("resolve: %w", err)
	}
	reason := "no addresses"
	for _, a := range addrs {
		a = a.Unmap()
		if why := gtm.UnsafeAddr(a); why != "" && !allowUnsafe {
			reason = "refused: resolves to a " + why
			continue
		}
		return a, host, nil
	}
	return netip.Addr{}, host, errors.New(reason)
}
