// Package health probes GTM endpoints and turns the observations into
// per-endpoint statuses.
//
// Files: target.go (what is probed, name resolution through an injected
// Resolver, and the targets that are refused), observation.go (the outcome
// of one probe), prober.go (Prober and the dispatch on the check type),
// http.go, tcp.go and dns.go (the three kinds of probe; https is http over
// TLS), errors.go (short error texts for observations), tracker.go
// (thresholds over consecutive observations), scheduler.go (runs the probes
// at each check's interval with bounded concurrency).
//
// A node's Tracker is its own view only. The verdict every node answers by
// (gtm.Health in the FSM) is decided by a majority of the reporting nodes
// and committed through Raft; that aggregation is not in this package.
//
// Names are never resolved through resolvx itself: the caller injects the
// Resolver, and a Prober without one fails every check of a host-name
// endpoint rather than fall back to the system resolver.
package health
