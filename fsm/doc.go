// Package fsm is the replicated state machine of resolvx: the typed,
// versioned commands that enter the Raft log, the deterministic Apply that
// turns them into a new State, and snapshots that restore that State exactly.
//
// State is immutable (zone.View plus the GTM policies). After every apply the
// FSM publishes the new State through an atomic pointer; the DNS server and
// the API load it without locks.
//
// Apply is deterministic: it uses no clock, no randomness and no map order.
// Anything non-deterministic — record IDs, the time a zone was created — is
// decided before proposing and carried in the command. The SOA serial is the
// Raft index of the change. A command that is rejected (for example a record
// that conflicts with the state it meets) is rejected on every node alike and
// changes nothing.
//
// Zone transfers add three commands (command.go): tsig.put and tsig.delete
// (TSIG keys; the secret is in the log and in snapshots so every node can
// verify transfers, and is never logged) and zone.set_transfer (a zone's
// ACL, TSIG key and NOTIFY targets; the key must exist, and a key in use
// cannot be deleted). Both live in zone.View and are optional fields of the
// snapshot stream: a snapshot without them restores with none. The IXFR
// history (zone.HistoryLen deltas per zone, derived in Apply from the
// RRsets a change touched) is not in snapshots: after a restore, IXFR for
// an older serial falls back to a full transfer.
package fsm
