package api

import (
	"net/http"
	"strings"
)

// leftNode is the data of POST /cluster/leave's reply.
type leftNode struct {
	NodeID string `json:"node_id"`
}

// removedNode is the data of DELETE /cluster/nodes/{id}'s reply.
type removedNode struct {
	ID string `json:"id"`
}

// clusterStatus reports the cluster as this node sees it. It never waits on
// Raft: it is what an operator needs most when the cluster is unwell.
func (s *server) clusterStatus(w http.ResponseWriter, r *http.Request) {
	s.ok(w, s.cfg.Cluster.Status(r.Context()))
}

func (s *server) clusterNode(w http.ResponseWriter, _ *http.Request) {
	s.ok(w, s.cfg.Cluster.LocalStatus())
}

// clusterLeave takes this node out of the cluster. Once the reply is out,
// OnLeave tells the server to shut down.
func (s *server) clusterLeave(w http.ResponseWriter, r *http.Request) {
	id := s.cfg.Cluster.LocalStatus().ID
	if err := s.cfg.Cluster.Leave(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.ok(w, leftNode{NodeID: id})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if s.cfg.OnLeave != nil {
		s.leaveOnce.Do(s.cfg.OnLeave)
	}
}

func (s *server) clusterRemove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if strings.TrimSpace(id) == "" {
		s.fail(w, r, badRequest("the node id is empty"))
		return
	}
	if err := s.cfg.Cluster.Remove(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.ok(w, removedNode{ID: id})
}
