// Package notify sends DNS NOTIFY (RFC 1996) to each zone's configured
// secondaries when the zone's serial changes, so they transfer at once
// instead of waiting for their SOA refresh timer.
//
// The Notifier is level-triggered: its one owner goroutine (Run) compares
// every zone's serial in the current View with the serial it last notified,
// on a short ticker, so no change can be missed, however applies and
// leadership interleave. Only the Raft leader notifies (one NOTIFY per
// change, not one per node); a node that becomes leader notifies every zone
// once (a change whose NOTIFY the old leader never sent is covered, and a
// secondary that is current only answers and checks its SOA). Each target
// is retried with backoff (1 s, 2 s, 4 s, … up to Tries sends) until it
// answers NOERROR; a newer serial replaces a pending one. NOTIFYs are
// signed with the zone's TSIG key when it has one.
//
// A zone's first NOTIFY for a change waits (Config.Replication, at most
// ReplicationWait, 1 s) until every member has applied it, so a secondary
// may transfer from any node: without the wait, one that asked a follower
// still behind got the old serial and waited for its SOA retry timer (one
// run in three of TestNSDSecondary). With a member down, NOTIFYs go out
// after that second; a secondary should then list several nodes (or the
// VIP) as primaries. Every node's address must be in the secondaries'
// allow-notify list, since the sender moves with leadership.
package notify
