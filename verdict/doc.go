// Package verdict turns every voter's own health observations into the
// verdicts the whole cluster answers by.
//
// Each node runs its own checks (health.Monitor) and serves what it sees
// over the cluster RPC method "health.observations". The leader's Loop
// pulls every voter's observations twice a second (and at once when its own
// change), drops those that are stale, applies gtm.Decide to each policy
// and commits the verdicts that change through Raft (fsm.SetVerdicts). A
// verdict therefore changes only when a majority of the voters report on
// an endpoint and a majority of those reports agree; only a leader with
// quorum can commit it, and every node answers from the same committed
// verdict.
//
// Files: loop.go (the leader's loop), collect.go (pulling observations
// from the voters, also used by the API to show each node's view).
package verdict
