package api

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/zone"
)

// explain answers GET /explain?name=N&type=T&client=IP&ecs=PREFIX with the
// gtm.Explanation of the query as this node's DNS server would answer it.
// type defaults to A and client to the address the HTTP request came from.
// Reads default to stale, not leader: DNS answers come from the node's own
// applied state, and so does their explanation (?consistency= still
// applies when given).
func (s *server) explain(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Explainer == nil {
		s.fail(w, r, notImplemented("explain is not enabled on this node's API"))
		return
	}
	q := r.URL.Query()
	raw := strings.TrimSpace(q.Get("name"))
	if raw == "" {
		s.fail(w, r, badRequest("query parameter name is required, for example ?name=www.example.com"))
		return
	}
	name, err := zone.CanonicalName(raw)
	if err != nil {
		s.fail(w, r, badRequest("query parameter name: %s", strings.TrimPrefix(err.Error(), "invalid: ")))
		return
	}
	typ := strings.ToUpper(strings.TrimSpace(q.Get("type")))
	if typ == "" {
		typ = "A"
	}
	qtype, ok := dns.StringToType[typ]
	if !ok || qtype == dns.TypeNone {
		s.fail(w, r, badRequest("query parameter type: %q is not a DNS record type (for example A, AAAA, CNAME, TXT)", q.Get("type")))
		return
	}
	var client netip.Addr
	if c := strings.TrimSpace(q.Get("client")); c != "" {
		if client, err = netip.ParseAddr(c); err != nil || client.Zone() != "" {
			s.fail(w, r, badRequest("query parameter client: %q is not an IP address (for example 198.51.100.7 or 2001:db8::7)", c))
			return
		}
	} else {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			s.fail(w, r, badRequest("the client address of this request (%q) is not an IP address; pass ?client=IP", r.RemoteAddr))
			return
		}
		client = ap.Addr().WithZone("")
	}
	client = client.Unmap()
	var ecs netip.Prefix
	if e := strings.TrimSpace(q.Get("ecs")); e != "" {
		if ecs, err = netip.ParsePrefix(e); err != nil {
			s.fail(w, r, badRequest("query parameter ecs: %q is not an address prefix (for example 198.51.100.0/24 or 2001:db8::/56)", e))
			return
		}
		ecs = ecs.Masked()
	}
	if _, ok := s.readView(w, r, cluster.Stale); !ok {
		return
	}
	s.ok(w, s.cfg.Explainer.Explain(name, qtype, client, ecs))
}
