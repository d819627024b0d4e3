package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// PolicyHealth is the data of GET /policies/{name}/health, and one entry
// of GET /health: each endpoint's committed verdict beside every node's own
// observation of it.
type PolicyHealth struct {
	Name string   `json:"name"`
	Type gtm.Kind `json:"type"`
	// Preferred is the endpoint a latency policy answers with, as
	// committed ("" for other policies, or before the first verdict).
	Preferred string           `json:"preferred,omitempty"`
	Endpoints []EndpointHealth `json:"endpoints"`
	// Nodes and Error: as in HealthReport (GET /policies/{name}/health only).
	Nodes []string `json:"nodes,omitempty"`
	Error string   `json:"error,omitempty"`
}

// EndpointHealth is one endpoint's health. Status is the committed verdict
// every node answers by; LastCheck, LatencyMS, ConsecutiveFailures and
// LastError come from this node's own observation when it has one, else
// from the freshest other node's (ObservedBy says whose; all are zero when
// no node has observed the endpoint).
type EndpointHealth struct {
	ID                  string     `json:"id"`
	Address             string     `json:"address"`
	Status              gtm.Health `json:"status"`
	LastCheck           *time.Time `json:"last_check"`
	LatencyMS           float64    `json:"latency_ms"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastError           string     `json:"last_error"`
	ObservedBy          string     `json:"observed_by,omitempty"`
	Disabled            bool       `json:"disabled"`
	// VerdictLatencyMS is the latency (median over the reporting nodes) the
	// committed latency verdict was decided on; latency policies only.
	VerdictLatencyMS *float64 `json:"verdict_latency_ms,omitempty"`
	// Observations is every node's own, thresholded view of the endpoint,
	// sorted by node.
	Observations []NodeObservation `json:"observations"`
}

// NodeObservation is what one node's probes say about an endpoint.
type NodeObservation struct {
	Node                string     `json:"node"`
	Status              gtm.Health `json:"status"`
	LastCheck           *time.Time `json:"last_check"`
	LatencyMS           float64    `json:"latency_ms"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastError           string     `json:"last_error"`
}

// HealthReport is the data of GET /health: every policy's health.
type HealthReport struct {
	Policies []PolicyHealth `json:"policies"`
	// Nodes are the nodes whose observations are shown, sorted.
	Nodes []string `json:"nodes"`
	// Error says why some (or all) observations are missing: a node that
	// could not be reached, or a node that collects none.
	Error string `json:"error,omitempty"`
}

func (s *server) policyHealth(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.readPolicies(w, r)
	if !ok {
		return
	}
	p, ok := s.policyAt(w, r, snap)
	if !ok {
		return
	}
	obs, errText := s.observations(r)
	ph := buildPolicyHealth(p, snap.Verdicts(p.Name), obs, s.cfg.Cluster.LocalStatus().ID)
	ph.Nodes = reportingNodes(obs, func(o gtm.Observation) bool { return o.Policy == p.Name })
	ph.Error = errText
	s.ok(w, ph)
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.readPolicies(w, r)
	if !ok {
		return
	}
	obs, errText := s.observations(r)
	self := s.cfg.Cluster.LocalStatus().ID
	rep := HealthReport{Policies: []PolicyHealth{}, Error: errText}
	policies := snap.Policies()
	slices.SortFunc(policies, func(a, b gtm.Policy) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range policies {
		rep.Policies = append(rep.Policies, buildPolicyHealth(p, snap.Verdicts(p.Name), obs, self))
	}
	rep.Nodes = reportingNodes(obs, func(gtm.Observation) bool { return true })
	s.ok(w, rep)
}

// observations asks every node for its own observations. A failure to
// reach some nodes is not an error of the request: what did arrive is
// shown, with the reason the rest is missing.
func (s *server) observations(r *http.Request) ([]gtm.Observation, string) {
	if s.cfg.HealthReports == nil {
		return nil, "this node does not collect health observations; only the committed verdicts are shown"
	}
	obs, err := s.cfg.HealthReports.Observations(r.Context())
	if err != nil {
		return obs, clean(err.Error())
	}
	return obs, ""
}

// buildPolicyHealth joins a policy's endpoints, their committed verdicts
// and the nodes' observations. self is this node's ID.
func buildPolicyHealth(p gtm.Policy, v gtm.Verdicts, obs []gtm.Observation, self string) PolicyHealth {
	ph := PolicyHealth{Name: p.Name, Type: p.Type, Preferred: v.Preferred, Endpoints: make([]EndpointHealth, 0, len(p.Endpoints))}
	for _, e := range p.Endpoints {
		eh := EndpointHealth{ID: e.ID, Address: e.Address, Status: v.Of(e.ID), Disabled: e.Disabled, Observations: []NodeObservation{}}
		if ms, ok := v.LatencyMS[e.ID]; ok {
			eh.VerdictLatencyMS = &ms
		}
		// One observation per node: the latest, should a node report twice.
		latest := map[string]gtm.Observation{}
		for _, o := range obs {
			if o.Policy != p.Name || o.Endpoint != e.ID {
				continue
			}
			if cur, ok := latest[o.Node]; !ok || o.LastCheck.After(cur.LastCheck) {
				latest[o.Node] = o
			}
		}
		nodes := make([]string, 0, len(latest))
		for n := range latest {
			nodes = append(nodes, n)
		}
		slices.Sort(nodes)
		var source *gtm.Observation
		for _, n := range nodes {
			o := latest[n]
			eh.Observations = append(eh.Observations, NodeObservation{
				Node: o.Node, Status: o.Status, LastCheck: timeOrNil(o.LastCheck), LatencyMS: o.LatencyMS,
				ConsecutiveFailures: o.ConsecutiveFailures, LastError: o.LastError,
			})
			switch {
			case source != nil && source.Node == self:
			case n == self, source == nil, o.LastCheck.After(source.LastCheck):
				source = &o
			}
		}
		if source != nil {
			eh.LastCheck = timeOrNil(source.LastCheck)
			eh.LatencyMS = source.LatencyMS
			eh.ConsecutiveFailures = source.ConsecutiveFailures
			eh.LastError = source.LastError
			eh.ObservedBy = source.Node
		}
		ph.Endpoints = append(ph.Endpoints, eh)
	}
	return ph
}

// reportingNodes are the nodes with an observation that keep accepts.
func reportingNodes(obs []gtm.Observation, keep func(gtm.Observation) bool) []string {
	out := []string{}
	for _, o := range obs {
		if keep(o) && !slices.Contains(out, o.Node) {
			out = append(out, o.Node)
		}
	}
	slices.Sort(out)
	return out
}

// timeOrNil is nil for the zero time (never checked), so JSON shows null.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
