package fsm

import (
	"fmt"

	"github.com/miekg/dns"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// This file holds the state transitions of GTM policies and their verdicts,
// and the rule that keeps a policy's name and ordinary records apart: a
// name answers a type either from records or from a policy, never both.

// withPolicy checks p against the zones and the other policies and returns
// the state with it (replacing a policy of the same name). Verdicts of
// endpoints that keep their ID and address survive a replacement; a policy
// without a health check has none (nobody would ever revise them).
func (s *State) withPolicy(p gtm.Policy) (*State, error) {
	p, err := gtm.Validate(p)
	if err != nil {
		return nil, err
	}
	apex, err := zone.CanonicalName(p.Zone)
	if err != nil {
		return nil, fmt.Errorf("%w: zone of policy %s: %v", zone.ErrInvalid, p.Name, err)
	}
	z := s.Zones.Zone(apex)
	if z == nil {
		return nil, fmt.Errorf("%w: zone %s of policy %s", zone.ErrNotFound, p.Zone, p.Name)
	}
	p.Zone = z.Name()
	owner := p.Owner()
	if _, err := zone.CanonicalName(owner); err != nil || !zone.IsBelow(owner, z.Name()) {
		return nil, fmt.Errorf("%w: record %q of policy %s is not a name in zone %s", zone.ErrInvalid, p.Record, p.Name, z.Name())
	}
	if err := recordConflict(z, &p); err != nil {
		return nil, err
	}
	for _, q := range s.Policies() {
		if q.Name == p.Name || q.Owner() != owner {
			continue
		}
		if q.RRType() == p.RRType() || q.RRType() == dns.TypeCNAME || p.RRType() == dns.TypeCNAME {
			return nil, fmt.Errorf("%w: policy %s already answers %s %s", zone.ErrExists, q.Name, owner, dns.TypeToString[q.RRType()])
		}
	}
	c := *s
	c.policies = s.policies.Set(p.Name, p)
	if old, ok := s.policies.Get(p.Name); ok && p.HealthCheck != nil {
		c.verdicts = s.verdicts.Set(p.Name, keepVerdicts(old, p, s.Verdicts(p.Name)))
	} else {
		c.verdicts = s.verdicts.Delete(p.Name)
	}
	c.compile()
	return &c, nil
}

// recordConflict reports the ordinary records that p's owner name already
// has of the type p answers (any record at all for a CNAME policy, and a
// CNAME for an address policy), and an owner at or below a zone cut.
func recordConflict(z *zone.Zone, p *gtm.Policy) error {
	owner := p.Owner()
	res := z.Lookup(owner)
	if res.Kind == zone.Delegation {
		return fmt.Errorf("%w: policy %s: %s is at or below the delegation %s", zone.ErrInvalid, p.Name, owner, res.Node.Name())
	}
	if res.Kind != zone.Exact || res.Node == nil || res.Node.Name() != owner {
		return nil
	}
	t := p.RRType()
	for _, have := range res.Node.Types() {
		if have == t || t == dns.TypeCNAME || have == dns.TypeCNAME {
			return fmt.Errorf("%w: %s already has %s records; a policy answers %s there only without them (delete them first)",
				zone.ErrExists, owner, dns.TypeToString[have], dns.TypeToString[t])
		}
	}
	return nil
}

// policyConflicts checks every policy of zoneName against the zone in v:
// a record change or an import must not add records a policy owns.
func (s *State) policyConflicts(v *zone.View, zoneName string) error {
	z := v.Zone(zoneName)
	if z == nil {
		return nil
	}
	it := s.policies.Iterator()
	for !it.Done() {
		_, p, _ := it.Next()
		if p.Zone != z.Name() {
			continue
		}
		if err := recordConflict(z, &p); err != nil {
			return fmt.Errorf("%w (policy %s answers this name)", err, p.Name)
		}
	}
	return nil
}

// keepVerdicts carries the verdicts of endpoints that keep their ID and
// address from old to p; a changed endpoint starts unknown.
func keepVerdicts(old, p gtm.Policy, v gtm.Verdicts) gtm.Verdicts {
	addr := map[string]string{}
	for _, e := range old.Endpoints {
		addr[e.ID] = e.Address
	}
	out := gtm.Verdicts{Health: map[string]gtm.Health{}, LatencyMS: map[string]float64{}}
	for _, e := range p.Endpoints {
		if a, ok := addr[e.ID]; !ok || a != e.Address {
			continue
		}
		if h := v.Of(e.ID); h != gtm.HealthUnknown {
			out.Health[e.ID] = h
		}
		if ms, ok := v.LatencyMS[e.ID]; ok {
			out.LatencyMS[e.ID] = ms
		}
		if e.ID == v.Preferred {
			out.Preferred = e.ID
		}
	}
	return out
}

// withVerdicts commits the verdicts of one policy. Every endpoint named
// must belong to it: verdicts decided for an older version of the policy
// are rejected whole, and the leader decides again.
func (s *State) withVerdicts(c SetVerdicts) (*State, error) {
	p, ok := s.policies.Get(c.Policy)
	if !ok {
		return nil, fmt.Errorf("%w: policy %s", zone.ErrNotFound, c.Policy)
	}
	ids := map[string]string{}
	for _, e := range p.Endpoints {
		ids[e.ID] = e.Address
	}
	check := func(id string) error {
		if _, ok := ids[id]; !ok {
			return fmt.Errorf("%w: policy %s has no endpoint %q", zone.ErrInvalid, p.Name, id)
		}
		return nil
	}
	for id := range c.Verdicts.Health {
		if err := check(id); err != nil {
			return nil, err
		}
	}
	for id := range c.Verdicts.LatencyMS {
		if err := check(id); err != nil {
			return nil, err
		}
	}
	if c.Verdicts.Preferred != "" {
		if err := check(c.Verdicts.Preferred); err != nil {
			return nil, err
		}
	}
	for id, a := range c.Addresses {
		if ids[id] != a {
			return nil, fmt.Errorf("%w: endpoint %s of policy %s changed since the verdict was decided", zone.ErrInvalid, id, p.Name)
		}
	}
	n := *s
	n.verdicts = s.verdicts.Set(p.Name, c.Verdicts)
	n.compile()
	return &n, nil
}

// withEndpointPatch changes one endpoint of a policy in place.
func (s *State) withEndpointPatch(c PatchEndpoint) (*State, error) {
	p, ok := s.policies.Get(c.Policy)
	if !ok {
		return nil, fmt.Errorf("%w: policy %s", zone.ErrNotFound, c.Policy)
	}
	np, err := p.PatchEndpoint(c.Endpoint, c.Patch)
	if err != nil {
		return nil, err
	}
	return s.withPolicy(np)
}

// withoutPolicy removes a policy and its verdicts.
func (s *State) withoutPolicy(name string) (*State, error) {
	if _, ok := s.policies.Get(name); !ok {
		return nil, fmt.Errorf("%w: policy %s", zone.ErrNotFound, name)
	}
	n := *s
	n.policies = s.policies.Delete(name)
	n.verdicts = s.verdicts.Delete(name)
	n.compile()
	return &n, nil
}

// withoutZonePolicies returns the state without the policies of zoneName.
func (s *State) withoutZonePolicies(zoneName string) *State {
	n := *s
	for _, p := range s.Policies() {
		if p.Zone == zoneName {
			n.policies = n.policies.Delete(p.Name)
			n.verdicts = n.verdicts.Delete(p.Name)
		}
	}
	n.compile()
	return &n
}

// compile rebuilds the answer table from the policies and verdicts.
func (s *State) compile() {
	s.table = gtm.Compile(s.Policies(), s.Verdicts)
}
