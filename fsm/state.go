package fsm

import (
	"fmt"

	"github.com/benbjohnson/immutable"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// State is the whole replicated state at one applied index. Immutable.
type State struct {
	Index      uint64
	Zones      *zone.View
	policies   *immutable.SortedMap[string, gtm.Policy]
	vipRelease VIPReleaseRecord
}

// VIPReleaseRecord is the last graceful VIP release in the log: the leader
// NodeID released the VIP in Term, at log index Index.
type VIPReleaseRecord struct {
	NodeID string `json:"node_id"`
	Term   uint64 `json:"term"`
	Index  uint64 `json:"index"`
}

// LastVIPRelease returns the last vip.release applied, if any.
func (s *State) LastVIPRelease() (VIPReleaseRecord, bool) {
	return s.vipRelease, s.vipRelease.Term != 0
}

// emptyState is the state before the first log entry.
func emptyState() *State {
	return &State{Zones: zone.Empty(), policies: immutable.NewSortedMap[string, gtm.Policy](nil)}
}

// Policy returns the named policy.
func (s *State) Policy(name string) (gtm.Policy, bool) { return s.policies.Get(name) }

// Policies returns every policy, sorted by name.
func (s *State) Policies() []gtm.Policy {
	out := make([]gtm.Policy, 0, s.policies.Len())
	it := s.policies.Iterator()
	for !it.Done() {
		_, p, _ := it.Next()
		out = append(out, p)
	}
	return out
}

// withPolicy checks p against the zones and returns the state with it.
func (s *State) withPolicy(p gtm.Policy) (*State, error) {
	p, err := gtm.Validate(p)
	if err != nil {
		return nil, err
	}
	z := s.Zones.Zone(p.Zone)
	if z == nil {
		return nil, fmt.Errorf("%w: zone %s of policy %s", zone.ErrNotFound, p.Zone, p.Name)
	}
	p.Zone = z.Name()
	c := *s
	c.policies = s.policies.Set(p.Name, p)
	return &c, nil
}

// withoutZonePolicies returns the policies without those of zoneName.
func (s *State) withoutZonePolicies(zoneName string) *immutable.SortedMap[string, gtm.Policy] {
	m := s.policies
	for _, p := range s.Policies() {
		if p.Zone == zoneName {
			m = m.Delete(p.Name)
		}
	}
	return m
}
