package gtm

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// Health-check defaults and bounds.
const (
	DefaultInterval         = 30 * time.Second
	DefaultTimeout          = 5 * time.Second
	DefaultThreshold        = 3
	DefaultHealthyThreshold = 2
	minInterval             = time.Second
	maxThreshold            = 100
)

// metadataAddrs are cloud instance-metadata services.
func metadataAddrs() [3]netip.Addr {
	return [...]netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack
		netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	}
}

// validateCheck checks a health check against the policy's endpoints and
// fills in its defaults.
func validateCheck(hc HealthCheck, eps []Endpoint) (HealthCheck, error) {
	bad := func(format string, a ...any) (HealthCheck, error) {
		return hc, fmt.Errorf("%w: health_check: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	hc.Type = strings.ToLower(hc.Type)
	defaultPort := map[string]int{"http": 80, "https": 443, "tcp": 0, "dns": 53}
	port, known := defaultPort[hc.Type]
	if !known {
		return bad("type %q is not one of http, https, tcp, dns", hc.Type)
	}
	if hc.Port == 0 {
		hc.Port = port
	}
	if hc.Port < 1 || hc.Port > 65535 {
		return bad("port %d is out of range 1..65535 (a tcp check needs a port)", hc.Port)
	}
	if hc.Interval == 0 {
		hc.Interval = Duration(DefaultInterval)
	}
	if time.Duration(hc.Interval) < minInterval {
		return bad("interval %v is below the minimum %v", time.Duration(hc.Interval), minInterval)
	}
	if hc.Timeout == 0 {
		hc.Timeout = Duration(min(DefaultTimeout, time.Duration(hc.Interval)))
	}
	if hc.Timeout < 0 || hc.Timeout > hc.Interval {
		return bad("timeout %v must be positive and at most the interval %v", time.Duration(hc.Timeout), time.Duration(hc.Interval))
	}
	if hc.Threshold == 0 {
		hc.Threshold = DefaultThreshold
	}
	if hc.HealthyThreshold == 0 {
		hc.HealthyThreshold = DefaultHealthyThreshold
	}
	if hc.Threshold < 1 || hc.Threshold > maxThreshold || hc.HealthyThreshold < 1 || hc.HealthyThreshold > maxThreshold {
		return bad("threshold and healthy_threshold must be 1..%d", maxThreshold)
	}
	switch hc.Type {
	case "http", "https":
		if hc.Path == "" {
			hc.Path = "/"
		}
		if !strings.HasPrefix(hc.Path, "/") || strings.ContainsAny(hc.Path, " \t\r\n") {
			return bad("path %q must be an absolute URL path such as /healthz (no scheme, no spaces)", zone.Printable(hc.Path))
		}
		if hc.Method == "" {
			hc.Method = "GET"
		}
		hc.Method = strings.ToUpper(hc.Method)
		if hc.Method != "GET" && hc.Method != "HEAD" && hc.Method != "POST" {
			return bad("method %q is not GET, HEAD or POST", zone.Printable(hc.Method))
		}
		if hc.ExpectedStatus == 0 {
			hc.ExpectedStatus = 200
		}
		if hc.ExpectedStatus < 100 || hc.ExpectedStatus > 599 {
			return bad("expected_status %d is not an HTTP status", hc.ExpectedStatus)
		}
		for k, v := range hc.Headers {
			if k == "" || strings.ContainsAny(k+v, "\r\n") || strings.ContainsAny(k, " :") {
				return bad("header %q is not a valid header", zone.Printable(k))
			}
		}
	case "dns":
		if _, ok := dns.IsDomainName(hc.Query); !ok || hc.Query == "" {
			return bad("a dns check needs a query name (query)")
		}
		if hc.RecordType == "" {
			hc.RecordType = "A"
		}
		hc.RecordType = strings.ToUpper(hc.RecordType)
		if _, ok := dns.StringToType[hc.RecordType]; !ok {
			return bad("record_type %q is not a DNS type", zone.Printable(hc.RecordType))
		}
	}
	if !hc.AllowUnsafeTargets {
		for _, e := range eps {
			if reason := unsafeTarget(e.Address); reason != "" {
				return bad("endpoint %q: %s %s is not probed unless allow_unsafe_targets is set", e.ID, reason, e.Address)
			}
		}
	}
	return hc, nil
}

// unsafeTarget says why an endpoint address must not be probed by default,
// or "" when it may. Host names are resolved by the prober, which applies
// UnsafeAddr to what they resolve to.
func unsafeTarget(address string) string {
	a, err := netip.ParseAddr(address)
	if err != nil {
		return ""
	}
	if why := UnsafeAddr(a); why != "" {
		return "the " + why
	}
	return ""
}

// UnsafeAddr says why a health check must not probe a unless the check sets
// allow_unsafe_targets ("cloud-metadata address", "link-local address",
// "unspecified address", "multicast address"), or "" when it may.
func UnsafeAddr(a netip.Addr) string {
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
