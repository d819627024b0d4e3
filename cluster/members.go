package cluster

import (
	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/transport"
)

// Member is one voter of the Raft configuration.
type Member struct {
	ID      string
	Address string // cluster address (Raft and RPC)
}

// Voters returns the voters of the latest Raft configuration this node
// knows, in configuration order.
func (n *Node) Voters() ([]Member, error) {
	servers, err := n.configuration()
	if err != nil {
		return nil, err
	}
	var out []Member
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			out = append(out, Member{ID: string(s.ID), Address: string(s.Address)})
		}
	}
	return out, nil
}

// HandleRPC serves another cluster RPC method on this node's cluster port,
// for the parts of the server that talk to their peers (the health verdict
// loop). The method names of the cluster itself are reserved.
func (n *Node) HandleRPC(method string, h transport.Handler) {
	n.mux.Handle(method, h)
}

// LeaderAddress returns the cluster address of the leader this node knows
// of, or "" when it knows none.
func (n *Node) LeaderAddress() string {
	addr, _ := n.raft.LeaderWithID()
	return string(addr)
}
