// Package gtm holds the global traffic management model: policies that bind
// a name in a zone to a set of endpoints, how a policy chooses among them,
// and the health verdicts of those endpoints.
//
// Files: policy.go (the model and Validate), check.go (health-check
// settings, defaults and the targets probers must not touch), region.go
// (continent and ISO 3166 country codes), select.go (Select: the endpoints a
// policy answers with), key.go (the per-query selection key).
//
// Select is a pure function of the policy, the committed verdicts and the
// query: every node holding the same state answers the same query from the
// same client alike. Weighted choices are spread by a key derived from the
// client address, the query name and the message ID, so answers follow the
// weights across queries while each query is answered identically
// everywhere.
//
// Health probers and the quorum verdicts that feed Select come later
// (issue 5); until then every endpoint's verdict is unknown, which Select
// treats as usable.
package gtm
