// Package gtm holds the global traffic management model: policies that bind
// a name in a zone to a set of endpoints, how a policy chooses among them,
// and the health verdicts of those endpoints.
//
// Files: policy.go (the model and Validate), check.go (health-check
// settings, defaults and the targets probers must not touch), region.go
// (continent and ISO 3166 country codes), select.go (Select: the endpoints a
// policy answers with), key.go (the per-query selection key), verdict.go
// (committed verdicts and the quorum rule), table.go (Table: the compiled
// index the DNS server answers from), explain.go (the Explanation type).
//
// Select is a pure function of the policy, the committed verdicts and the
// query: every node holding the same state answers the same query from the
// same client alike. Weighted choices are spread by a key derived from the
// client address, the query name and the message ID, so answers follow the
// weights across queries while each query is answered identically
// everywhere.
//
// Selection is compiled: a chooser (select.go) works out everything that
// does not depend on the client once (the usable endpoints under the
// committed verdicts, cumulative weights, the failover and latency choice,
// the endpoints of each region, the fallback), and then chooses per query
// without allocating. Multi-endpoint answers (multivalue, fail open) are
// rotations of the usable endpoints, stored twice over so that every
// rotation is one contiguous window. Select compiles and chooses once;
// Compile builds a Table whose Bounds compile once per state, so the DNS
// answer, Select and `resolvx explain` always agree.
//
// Table (table.go) is what the FSM compiles after every policy or verdict
// change and the DNS server reads: the policies by canonical owner name
// (Find: case-insensitive, no allocation), the ancestors of every owner
// (HasBelow: empty non-terminals made by policy names), and per policy a
// Bound with one prebuilt record per endpoint (A, AAAA or CNAME per
// Policy.RRType, owner Policy.Owner, class IN, the policy's TTL) and its
// chooser. Bound.AppendAnswer appends the chosen records to a caller's
// slice. A CNAME policy answers one CNAME at most; an endpoint whose
// address makes no record (a host name that is not a domain name) is
// never chosen.
package gtm
