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
// Secondaries should transfer from the leader (the VIP): the leader sends
// the NOTIFY as soon as it has applied the change, when a follower may not
// have yet; a secondary that asks a lagging follower gets the old serial
// and waits for its SOA retry timer (seen in one of three runs of
// TestNSDSecondary with a follower as NSD's primary). Every node's address
// must be in the secondaries' allow-notify list, since the sender moves
// with leadership.
package notify
