package gtm

import (
	"fmt"
	"slices"
)

// EndpointPatch changes some fields of one endpoint; nil fields stay.
type EndpointPatch struct {
	Weight   *int  `json:"weight,omitempty"`
	Priority *int  `json:"priority,omitempty"`
	Disabled *bool `json:"disabled,omitempty"`
}

// ErrNoEndpoint marks a patch of an endpoint the policy does not have.
var ErrNoEndpoint = &codeError{code: "NOT_FOUND", msg: "no such endpoint"}

// PatchEndpoint returns a copy of p with the endpoint id changed by patch,
// validated as a whole: a patch that leaves the policy invalid (every weight
// zero, say) is an error and changes nothing.
func (p Policy) PatchEndpoint(id string, patch EndpointPatch) (Policy, error) {
	i := slices.IndexFunc(p.Endpoints, func(e Endpoint) bool { return e.ID == id })
	if i < 0 {
		return p, fmt.Errorf("%w: policy %s has no endpoint %q", ErrNoEndpoint, p.Name, id)
	}
	if patch.Weight == nil && patch.Priority == nil && patch.Disabled == nil {
		return p, fmt.Errorf("%w: the patch changes nothing (set weight, priority or disabled)", ErrInvalid)
	}
	p.Endpoints = slices.Clone(p.Endpoints)
	e := &p.Endpoints[i]
	if patch.Weight != nil {
		e.Weight = *patch.Weight
	}
	if patch.Priority != nil {
		e.Priority = *patch.Priority
	}
	if patch.Disabled != nil {
		e.Disabled = *patch.Disabled
	}
	return Validate(p)
}
