// Package gtm holds the global traffic management model: policies that bind
// a name in a zone to a set of endpoints, how a policy chooses among them,
// and the health verdicts of those endpoints.
//
// This version carries the state model and its validation, replicated by
// the FSM; endpoint selection and health checks build on it.
package gtm
