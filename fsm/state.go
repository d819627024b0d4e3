package fsm

import (
	"github.com/benbjohnson/immutable"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// State is the whole replicated state at one applied index. Immutable.
type State struct {
	Index      uint64
	Zones      *zone.View
	policies   *immutable.SortedMap[string, gtm.Policy]
	verdicts   *immutable.SortedMap[string, gtm.Verdicts] // by policy name
	table      *gtm.Table                                 // compiled from policies and verdicts
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
	return &State{
		Zones:    zone.Empty(),
		policies: immutable.NewSortedMap[string, gtm.Policy](nil),
		verdicts: immutable.NewSortedMap[string, gtm.Verdicts](nil),
		table:    gtm.Compile(nil, nil),
	}
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

// Verdicts returns the committed verdicts of the named policy (zero when it
// has none yet).
func (s *State) Verdicts(policy string) gtm.Verdicts {
	v, _ := s.verdicts.Get(policy)
	return v
}

// GTM returns the compiled policy table the DNS server answers from.
func (s *State) GTM() *gtm.Table { return s.table }
