package api

import (
	"net/http"

	"github.com/resolvx/resolvx/cluster"
)

// Status is the data of GET /api/v1/status: this node at a glance.
type Status struct {
	NodeID       string `json:"node_id"`
	Version      string `json:"version"`
	Leader       string `json:"leader"` // leader's node id, "" when none is known
	IsLeader     bool   `json:"is_leader"`
	ReadOnly     bool   `json:"read_only"` // no quorum: writes are refused
	Zones        int    `json:"zones"`
	Records      int    `json:"records"` // over every zone, SOAs not counted
	AppliedIndex uint64 `json:"applied_index"`
}

// status describes this node. Its reads default to stale, not leader: it
// reports this node's own state, and must answer on a node without quorum
// (the dashboard polls it); ?consistency= still applies when given.
func (s *server) status(w http.ResponseWriter, r *http.Request) {
	v, ok := s.readView(w, r, cluster.Stale)
	if !ok {
		return
	}
	cs := s.cfg.Cluster.Status(r.Context())
	st := Status{
		NodeID:       cs.NodeID,
		Version:      s.cfg.Version,
		Leader:       cs.Leader,
		IsLeader:     cs.IsLeader,
		ReadOnly:     cs.ReadOnly,
		Zones:        v.Len(),
		AppliedIndex: s.cfg.State.AppliedIndex(),
	}
	for _, z := range v.Zones() {
		st.Records += z.Len()
	}
	s.ok(w, st)
}
