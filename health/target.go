package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
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

// metadataAddrs are cloud instance-metadata services. They repeat
// gtm's list, which gtm does not export.
func metadataAddrs() [3]netip.Addr {
	return [...]netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack
		netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	}
}

// unsafeAddr says why an address must not be probed by default, or "" when
// it may. It is the rule gtm's validation applies to literal endpoint
// addresses, applied here to what host names resolve to.
func unsafeAddr(a netip.Addr) string {
	a = a.Unmap()
	for _, m := range metadataAddrs() {
		if a == m {
			return "cloud-metadata address"
		}
	}
	switch {
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local address"
	case a.IsUnspecified():
		return "unspecified address"
	case a.IsMulticast():
		return "multicast address"
	}
	return ""
}

// resolve returns the address to probe for t and the host name to present
// (Host header, TLS server name), which is "" for a literal address. With
// allowUnsafe false, unsafe addresses are refused; a name is probed at its
// first safe address.
func resolve(ctx context.Context, r Resolver, t Target, allowUnsafe bool) (netip.Addr, string, error) {
	addr := strings.TrimSuffix(strings.TrimPrefix(t.Address, "["), "]")
	if a, err := netip.ParseAddr(addr); err == nil {
		a = a.Unmap()
		if reason := unsafeAddr(a); reason != "" && !allowUnsafe {
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
		if why := unsafeAddr(a); why != "" && !allowUnsafe {
			reason = "refused: resolves to a " + why
			continue
		}
		return a, host, nil
	}
	return netip.Addr{}, host, errors.New(reason)
}
