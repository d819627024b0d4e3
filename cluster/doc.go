// Package cluster is the Raft node of resolvx: it opens the Raft stores
// (raft-boltdb for the log and stable store, file snapshots), runs Raft over
// the transport package's shared cluster port, and gives the rest of the
// server what it needs from the group:
//
//   - Apply proposes a command on the leader, or forwards it there over the
//     cluster RPC ("apply"); a write is acknowledged only once Raft has
//     committed it and the leader's FSM applied it. Without a leader, or
//     without a commit in time, it fails fast with ErrNoQuorum.
//   - ReadBarrier implements the read levels: stale (local), leader (wait
//     until the local FSM reaches the leader's applied index, "read_index")
//     and linearizable (the leader confirms its leadership first).
//   - Membership: a node with no state bootstraps a one-node cluster unless
//     it has Join addresses; Start then asks them to add it ("join",
//     idempotent, retried with backoff). Remove and Leave take members out,
//     moving leadership off a leader first.
//   - Status and LocalStatus report the configuration, the leader and each
//     member as it answers a short probe ("node_status").
//   - LeaderEvents feeds leadership changes to the VIP manager, and
//     MayHoldVIP is its gate (vipgate.go has the rule and why it is safe):
//     leader, caught up, confirmed by a quorum, and every earlier holder's
//     lease over — bounded by when a quorum of members last heard from an
//     earlier term (the transport notes every leader request), or by the
//     election, or skipped when the previous leader recorded vip.release.
//     A leader removes its VIP and records the release before it hands
//     leadership over.
//
// Requests that only the leader can serve are sent to it by the node that
// received them; a node that turns out not to lead answers NOT_LEADER and
// the sender retries on the new leader within a bounded budget. Errors keep
// their codes across nodes (an FSM's VALIDATION_ERROR reaches the API the
// same whether the write was proposed locally or forwarded).
package cluster
