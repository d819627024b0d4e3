// Package zone is the DNS data model of resolvx: zones, records, their
// validation, RFC 1035 zone files, and the immutable lookup index (View)
// that the DNS server reads on every query.
//
// A View is immutable. Every change (CreateZone, Apply, Replace, …) returns a
// new View that shares all unchanged parts with the old one: zones and their
// nodes live in persistent hash maps (github.com/benbjohnson/immutable), so a
// change to one record copies one node and O(log n) map branches, never a
// whole zone. Readers load a View once per query and never lock.
//
// Names are kept in canonical form: lower case, fully qualified, trailing dot.
// Each zone's SOA is synthesised from its SOA fields and a serial derived from
// the Raft index of the zone's last change, so the serial only grows.
//
// Every owner name that exists — because it has records, or because a name
// below it has (an empty non-terminal, RFC 8020 / RFC 4592) — has a Node.
// Nodes count their descendants with data, which keeps that invariant in
// O(depth) per change.
//
// A View also holds the TSIG keys (tsig.go), and each Zone its transfer
// settings (transfer.go) and the last HistoryLen changes as IXFR deltas
// (history.go): the old and new versions of each RRset a change touched,
// never a copy of the zone. Every RR of an RRset carries the set's lowest
// TTL, so a delta replaces whole RRsets.
package zone
