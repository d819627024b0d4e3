package cluster

import "time"

// Consistency is the read level an API read asks for.
type Consistency string

// The read levels (DESIGN.md "Consistency").
const (
	// Stale reads the local applied state as it is.
	Stale Consistency = "stale"
	// Leader (the default) waits until the local FSM has applied the
	// leader's applied index, fetched over the cluster port.
	Leader Consistency = "leader"
	// Linearizable also has the leader confirm its leadership
	// (raft.VerifyLeader) before it reports its index.
	Linearizable Consistency = "linearizable"
)

// ParseConsistency reads a ?consistency= value; "" is Leader.
func ParseConsistency(s string) (Consistency, bool) {
	switch Consistency(s) {
	case "":
		return Leader, true
	case Stale, Leader, Linearizable:
		return Consistency(s), true
	}
	return "", false
}

// Status is the cluster as one node sees it: the object of
// GET /api/v1/cluster and `resolvx cluster status --json`.
type Status struct {
	NodeID        string       `json:"node_id"`
	IsLeader      bool         `json:"is_leader"`
	Leader        string       `json:"leader"`         // leader's node id, "" when none is known
	LeaderAddress string       `json:"leader_address"` // leader's cluster address
	VIP           string       `json:"vip"`            // the VIP when some member reports holding it, else ""
	ReadOnly      bool         `json:"read_only"`      // true when this node cannot get a write committed
	Term          uint64       `json:"term"`
	CommitIndex   uint64       `json:"commit_index"`
	AppliedIndex  uint64       `json:"applied_index"`
	Nodes         []NodeStatus `json:"nodes"` // every member of the Raft configuration, sorted by id
}

// NodeStatus is one member as seen from the node answering (and, where it
// could be reached, as it reports itself).
type NodeStatus struct {
	ID       string `json:"id"`
	Address  string `json:"address"` // cluster (Raft + RPC) address
	Status   string `json:"status"`  // "leader", "follower", "candidate", "unreachable", "shutdown"
	IsLeader bool   `json:"is_leader"`
	Suffrage string `json:"suffrage"` // "voter" or "nonvoter"
	// LastContact is how long ago the node answered the status probe (or,
	// for the node itself, heard from the leader); "" when unreachable.
	LastContact  string `json:"last_contact"`
	AppliedIndex uint64 `json:"applied_index"`
	// VIPHeld: the node holds the VIP (as it reports itself).
	VIPHeld bool `json:"vip_held"`
	// APIAddress and DNSAddress are the node's own listeners, when known.
	APIAddress string `json:"api_address,omitempty"`
	DNSAddress string `json:"dns_address,omitempty"`
}

// durationString renders a contact age for NodeStatus.LastContact.
func durationString(d time.Duration) string {
	if d < 0 {
		return ""
	}
	return d.Round(time.Millisecond).String()
}
