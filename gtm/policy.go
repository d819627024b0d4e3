package gtm

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/zone"
)

// ErrInvalid marks a policy that does not validate. It carries the API's
// error code.
var ErrInvalid = &codeError{code: "VALIDATION_ERROR", msg: "invalid policy"}

type codeError struct{ code, msg string }

func (e *codeError) Error() string { return e.msg }
func (e *codeError) Code() string  { return e.code }

// DefaultTTL is the TTL of policy answers when the policy sets none: short,
// so that a changed verdict reaches clients quickly.
const DefaultTTL = 30

// Kind is how a policy chooses endpoints.
type Kind string

// The policy kinds.
const (
	Weighted   Kind = "weighted"
	Failover   Kind = "failover"
	Geographic Kind = "geographic"
	Latency    Kind = "latency"
	Multivalue Kind = "multivalue"
)

// Policy binds the owner Record in Zone to endpoints chosen by Type.
type Policy struct {
	Name        string       `json:"name"`
	Zone        string       `json:"zone"`
	Record      string       `json:"record"`
	Type        Kind         `json:"type"`
	TTL         uint32       `json:"ttl"`
	Endpoints   []Endpoint   `json:"endpoints"`
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	// Fallback applies when no endpoint is healthy: "all" (fail open, the
	// default), "nodata", or the ID of one endpoint.
	Fallback   string `json:"fallback,omitempty"`
	MaxAnswers int    `json:"max_answers,omitempty"`
	// LatencyHysteresis: a latency policy moves its answer only to an
	// endpoint faster by more than this (DefaultLatencyHysteresis when 0).
	LatencyHysteresis Duration `json:"latency_hysteresis,omitempty"`
}

// Endpoint is one answer a policy can give.
type Endpoint struct {
	ID       string `json:"id"`
	Address  string `json:"address"` // IPv4, IPv6, or a host name answered as CNAME
	Weight   int    `json:"weight,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Region   string `json:"region,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// HealthCheck says how endpoints are probed.
type HealthCheck struct {
	Type           string            `json:"type"` // http, https, tcp, dns
	Port           int               `json:"port,omitempty"`
	Path           string            `json:"path,omitempty"`
	Method         string            `json:"method,omitempty"`
	ExpectedStatus int               `json:"expected_status,omitempty"`
	ExpectedBody   string            `json:"expected_body,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	SkipTLSVerify  bool              `json:"skip_tls_verify,omitempty"`
	Query          string            `json:"query,omitempty"`
	RecordType     string            `json:"record_type,omitempty"`
	ExpectedValue  string            `json:"expected_value,omitempty"`
	// AllowUnsafeTargets lets the checks probe link-local,
	// cloud-metadata and unspecified addresses, which are refused by default
	// so a policy cannot turn the probers against the hosts themselves.
	AllowUnsafeTargets bool     `json:"allow_unsafe_targets,omitempty"`
	Interval           Duration `json:"interval,omitempty"`
	Timeout            Duration `json:"timeout,omitempty"`
	Threshold          int      `json:"threshold,omitempty"`
	HealthyThreshold   int      `json:"healthy_threshold,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as "30s".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON reads "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	var secs int64
	if _, err := fmt.Sscan(s, &secs); err != nil {
		return fmt.Errorf("duration %q: use a value such as \"30s\"", s)
	}
	*d = Duration(time.Duration(secs) * time.Second)
	return nil
}

// Validate checks a policy on its own (not against the zones) and fills in
// defaults. It returns the normalised policy.
func Validate(p Policy) (Policy, error) {
	bad := func(format string, a ...any) (Policy, error) {
		return p, fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if p.Name == "" || len(p.Name) > 128 || strings.ContainsFunc(p.Name, func(r rune) bool { return r <= ' ' || r == '/' || r == 0x7f }) {
		return bad("name must be 1..128 printable characters without spaces or '/'")
	}
	switch p.Type {
	case Weighted, Failover, Geographic, Latency, Multivalue:
	default:
		return bad("type %q is not one of weighted, failover, geographic, latency, multivalue", p.Type)
	}
	if len(p.Endpoints) == 0 {
		return bad("a %s policy needs at least one endpoint", p.Type)
	}
	if p.TTL > 2147483647 {
		return bad("ttl %d is out of range", p.TTL)
	}
	if p.TTL == 0 {
		p.TTL = DefaultTTL
	}
	if p.LatencyHysteresis < 0 {
		return bad("latency_hysteresis must not be negative")
	}
	ids := map[string]bool{}
	totalWeight := 0
	for i, e := range p.Endpoints {
		if e.ID == "" {
			return bad("endpoint %d has no id", i+1)
		}
		if ids[e.ID] {
			return bad("endpoint id %q is used twice", e.ID)
		}
		ids[e.ID] = true
		if e.Address == "" {
			return bad("endpoint %q has no address", e.ID)
		}
		if why := addressProblem(e.Address); why != "" {
			return bad("endpoint %q: address %q %s", e.ID, e.Address, why)
		}
		if e.Weight < 0 {
			return bad("endpoint %q has a negative weight", e.ID)
		}
		totalWeight += e.Weight
	}
	if p.Type == Weighted && totalWeight == 0 {
		return bad("a weighted policy needs at least one endpoint with a positive weight")
	}
	if p.Fallback != "" && p.Fallback != "all" && p.Fallback != "nodata" && !ids[p.Fallback] {
		return bad("fallback %q is neither all, nodata nor an endpoint id", p.Fallback)
	}
	if p.MaxAnswers < 0 {
		return bad("max_answers must not be negative")
	}
	if err := p.checkAddresses(); err != nil {
		return p, err
	}
	if p.Type == Geographic {
		eps := slices.Clone(p.Endpoints)
		for i := range eps {
			eps[i].Region = strings.ToUpper(strings.TrimSpace(eps[i].Region))
			if !ValidRegion(eps[i].Region) {
				return bad("endpoint %q: region %q is not *, a continent (NA, SA, EU, AF, AS, OC, AN) or an ISO 3166 country code", eps[i].ID, eps[i].Region)
			}
		}
		p.Endpoints = eps
	}
	if p.Type == Latency && p.HealthCheck == nil {
		return bad("a latency policy needs a health_check: its probes measure the latency")
	}
	if p.HealthCheck != nil {
		hc, err := validateCheck(*p.HealthCheck, p.Endpoints)
		if err != nil {
			return p, err
		}
		p.HealthCheck = &hc
	}
	return p, nil
}

// checkAddresses requires the endpoints of one policy to answer one record
// type: all IPv4, all IPv6, or host names.
func (p Policy) checkAddresses() error {
	kinds := map[string]bool{}
	for _, e := range p.Endpoints {
		kinds[addressKind(e.Address)] = true
	}
	if len(kinds) > 1 {
		ks := make([]string, 0, len(kinds))
		for k := range kinds {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return fmt.Errorf("%w: endpoints mix %s addresses; use one policy per record type", ErrInvalid, strings.Join(ks, " and "))
	}
	return nil
}

// addressProblem says why a is neither an IP address (without a zone) nor
// a host name, or returns "".
func addressProblem(a string) string {
	if ip, err := netip.ParseAddr(a); err == nil {
		if ip.Zone() != "" {
			return "has a zone; use the address without %" + ip.Zone()
		}
		return ""
	}
	switch {
	case strings.Contains(a, "://"):
		return "is a URL; use an IP address or a host name (the health check says how it is probed)"
	case strings.HasPrefix(a, "*"):
		return "is a wildcard; use an IP address or a host name"
	}
	if _, err := zone.CanonicalName(a); err != nil {
		return "is neither an IP address nor a host name: " + strings.TrimPrefix(err.Error(), "invalid: ")
	}
	return ""
}

func addressKind(a string) string {
	ip, err := netip.ParseAddr(a)
	switch {
	case err != nil:
		return "host name"
	case ip.Is4():
		return "IPv4"
	}
	return "IPv6"
}

// IsInvalid reports whether err is a policy validation error.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// Owner returns the owner name the policy answers at, in canonical form
// (lower case, fully qualified): Record relative to Zone ("@" or "" is the
// apex), or Record itself when it is fully qualified. Zone must be
// canonical (the FSM stores it so).
func (p *Policy) Owner() string {
	r := strings.ToLower(strings.TrimSpace(p.Record))
	switch {
	case r == "" || r == "@":
		return p.Zone
	case strings.HasSuffix(r, "."):
		return r
	case p.Zone == ".":
		return r + "."
	}
	return r + "." + p.Zone
}

// RRType is the record type the policy answers: A for IPv4 endpoints, AAAA
// for IPv6, CNAME for host names (Validate allows no mix).
func (p *Policy) RRType() uint16 {
	if len(p.Endpoints) == 0 {
		return dns.TypeNone
	}
	switch addressKind(p.Endpoints[0].Address) {
	case "IPv4":
		return dns.TypeA
	case "IPv6":
		return dns.TypeAAAA
	}
	return dns.TypeCNAME
}
