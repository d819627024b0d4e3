package main

import (
	"net/netip"

	"github.com/resolvx/resolvx/api"
	"github.com/resolvx/resolvx/dnsserver"
	"github.com/resolvx/resolvx/fsm"
	"github.com/resolvx/resolvx/gtm"
)

// policyReader gives the API the applied GTM state: one *fsm.State per
// call, so a request reads the policies and verdicts of one index.
type policyReader struct{ f *fsm.FSM }

// PolicyState returns the state applied now.
func (r policyReader) PolicyState() api.PolicySnapshot { return r.f.State() }

// explainer answers the API's explain requests from the applied state, as
// this node's DNS server answers the query: same zones, same policy table,
// same client locations.
type explainer struct {
	f   *fsm.FSM
	geo dnsserver.Locator // nil: no client's location is known
}

// Explain says why the query gets its answer.
func (e explainer) Explain(name string, qtype uint16, client netip.Addr, ecs netip.Prefix) gtm.Explanation {
	st := e.f.State()
	return dnsserver.Explain(dnsserver.Data{Zones: st.Zones, Policies: st.GTM(), Geo: e.geo}, name, qtype, client, ecs)
}
