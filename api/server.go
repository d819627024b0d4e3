package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// Writer proposes validated changes through Raft and returns the index each
// was applied at. fsm.Writer satisfies it.
type Writer interface {
	CreateZone(ctx context.Context, name string) (uint64, error)
	DeleteZone(ctx context.Context, name string) (uint64, error)
	ChangeRecords(ctx context.Context, zoneName string, changes []zone.Change) (uint64, error)
	ReplaceZone(ctx context.Context, zoneName string, soa *zone.SOA, recs []zone.Record) (uint64, error)
}

// StateReader is the node's applied state. fsm.FSM satisfies it.
type StateReader interface {
	View() *zone.View
	AppliedIndex() uint64
}

// Cluster is the Raft node as the API sees it. cluster.Node satisfies it.
type Cluster interface {
	Status(ctx context.Context) cluster.Status
	LocalStatus() cluster.NodeStatus
	ReadBarrier(ctx context.Context, c cluster.Consistency) error
	Leave(ctx context.Context) error
	Remove(ctx context.Context, id string) error
}

// PolicyWriter proposes GTM policy changes through Raft and returns the
// index each was applied at. fsm.Writer satisfies it.
type PolicyWriter interface {
	CreatePolicy(ctx context.Context, p gtm.Policy) (uint64, error)
	PutPolicy(ctx context.Context, p gtm.Policy) (uint64, error)
	DeletePolicy(ctx context.Context, name string) (uint64, error)
	PatchEndpoint(ctx context.Context, policy, endpoint string, p gtm.EndpointPatch) (uint64, error)
}

// PolicyReader gives the applied GTM state. Each request reads one
// PolicySnapshot, so a reply never mixes two states.
type PolicyReader interface {
	PolicyState() PolicySnapshot
}

// PolicySnapshot is the GTM state at one applied index: the policies and
// their committed verdicts. *fsm.State satisfies it.
type PolicySnapshot interface {
	Policies() []gtm.Policy // sorted by name
	Policy(name string) (gtm.Policy, bool)
	Verdicts(name string) gtm.Verdicts // zero when the policy has none yet
}

// HealthReports gathers every node's own health observations (its
// thresholded view, before the quorum decides). It may return what it got
// with an error naming the nodes it could not reach.
type HealthReports interface {
	Observations(ctx context.Context) ([]gtm.Observation, error)
}

// Explainer says why a query gets its answer from this node's DNS server.
// name is canonical; client has no zone; ecs is masked, or the zero
// Prefix when the query carries no client subnet.
type Explainer interface {
	Explain(name string, qtype uint16, client netip.Addr, ecs netip.Prefix) gtm.Explanation
}

// Config is what the API needs. Writer, State and Cluster are required.
type Config struct {
	Writer  Writer
	State   StateReader
	Cluster Cluster
	// Transfers, when set, serves the TSIG key and zone-transfer routes.
	Transfers TransferWriter
	// Policies and PolicyState serve the GTM policy and health routes;
	// without both those routes answer 501 NOT_IMPLEMENTED.
	Policies    PolicyWriter
	PolicyState PolicyReader
	// HealthReports adds every node's observations to the health routes;
	// nil shows the committed verdicts only, and says so.
	HealthReports HealthReports
	// Explainer serves GET /api/v1/explain; nil answers 501.
	Explainer Explainer
	// Version is reported by GET /api/v1/status.
	Version string
	// Metrics serves GET /metrics; nil answers 404.
	Metrics http.Handler
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger
	// OnLeave is called once, after the reply to a successful
	// POST /api/v1/cluster/leave has been written and flushed, on the
	// handler's goroutine: it must not wait for the HTTP server to shut
	// down (signal the shutdown, for example by closing a channel).
	OnLeave func()
}

// server holds the handlers' dependencies.
type server struct {
	cfg       Config
	logger    *slog.Logger
	mux       *http.ServeMux
	leaveOnce sync.Once
}

// New returns the HTTP handler of the API, the dashboard, /healthz and
// /metrics.
func New(cfg Config) http.Handler {
	s := &server{cfg: cfg, logger: cfg.Logger, mux: http.NewServeMux()}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.routes()
	return s
}

func (s *server) routes() {
	m := s.mux
	m.HandleFunc("GET /api/v1/zones", s.listZones)
	m.HandleFunc("POST /api/v1/zones", s.createZone)
	m.HandleFunc("GET /api/v1/zones/{zone}", s.getZone)
	m.HandleFunc("DELETE /api/v1/zones/{zone}", s.deleteZone)
	m.HandleFunc("GET /api/v1/zones/{zone}/export", s.exportZone)
	m.HandleFunc("POST /api/v1/zones/{zone}/import", s.importZone)

	m.HandleFunc("GET /api/v1/zones/{zone}/records", s.listRecords)
	m.HandleFunc("POST /api/v1/zones/{zone}/records", s.createRecord)
	m.HandleFunc("GET /api/v1/zones/{zone}/records/{id}", s.getRecord)
	m.HandleFunc("PUT /api/v1/zones/{zone}/records/{id}", s.updateRecord)
	m.HandleFunc("DELETE /api/v1/zones/{zone}/records/{id}", s.deleteRecord)

	s.transferRoutes()
	s.policyRoutes()

	m.HandleFunc("GET /api/v1/cluster", s.clusterStatus)
	m.HandleFunc("GET /api/v1/cluster/node", s.clusterNode)
	m.HandleFunc("POST /api/v1/cluster/leave", s.clusterLeave)
	m.HandleFunc("DELETE /api/v1/cluster/nodes/{id}", s.clusterRemove)

	m.HandleFunc("GET /api/v1/status", s.status)

	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /metrics", s.metrics)
	m.HandleFunc("GET /{$}", s.dashboard)
}

// ServeHTTP routes r. Requests that match no route get the envelope: 404
// NOT_FOUND for an unknown path, 405 INVALID_REQUEST (with Allow) for a
// known path with the wrong method, instead of the mux's plain text.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// Let the mux's own handler decide between 404, 405 and a redirect
	// (path cleaning), capturing what it would write.
	c := &captured{header: http.Header{}}
	h.ServeHTTP(c, r)
	switch c.status {
	case http.StatusMethodNotAllowed:
		allow := c.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.fail(w, r, &requestError{status: http.StatusMethodNotAllowed, code: CodeInvalidRequest,
			msg: "method " + r.Method + " is not allowed on " + r.URL.Path + " (allowed: " + allow + ")"})
	case http.StatusNotFound:
		s.fail(w, r, &requestError{status: http.StatusNotFound, code: CodeNotFound,
			msg: "no such endpoint: " + r.Method + " " + r.URL.Path})
	default:
		for k, v := range c.header {
			w.Header()[k] = v
		}
		w.WriteHeader(c.status)
		_, _ = w.Write([]byte(c.body.String()))
	}
}

// captured records what a fallback handler of the mux writes.
type captured struct {
	header http.Header
	status int
	body   strings.Builder
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
func (c *captured) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(b)
}

// readView passes the read barrier at the level the request asks for
// (?consistency=, default def) and returns the state to read. On failure it
// has replied.
func (s *server) readView(w http.ResponseWriter, r *http.Request, def cluster.Consistency) (*zone.View, bool) {
	raw := r.URL.Query().Get("consistency")
	level := def
	if raw != "" {
		var ok bool
		if level, ok = cluster.ParseConsistency(raw); !ok {
			s.fail(w, r, badRequest("consistency %q is not one of stale, leader, linearizable", raw))
			return nil, false
		}
	}
	if err := s.cfg.Cluster.ReadBarrier(r.Context(), level); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return s.cfg.State.View(), true
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		s.fail(w, r, notFound("metrics are not enabled on this node"))
		return
	}
	s.cfg.Metrics.ServeHTTP(w, r)
}
