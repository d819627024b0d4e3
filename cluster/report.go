package cluster

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/transport"
)

// Status reports the cluster as this node sees it: Raft's configuration,
// the leader, and each other member as it answers a short status probe
// (sent to all in parallel; a member that does not answer within about
// 300ms is "unreachable"). ReadOnly is true when this node cannot get a
// write committed: no leader is known, or (on a follower) the leader has
// not been heard from for a heartbeat timeout — heartbeats come ten times
// as often — or the node has stopped. A leader that loses its quorum steps
// down within its leader lease, so both sides of a minority report it.
func (n *Node) Status(ctx context.Context) Status {
	state := n.raft.State()
	leaderAddr, leaderID := n.raft.LeaderWithID()
	st := Status{
		NodeID:        n.id,
		IsLeader:      state == raft.Leader,
		Leader:        string(leaderID),
		LeaderAddress: string(leaderAddr),
		ReadOnly:      n.readOnly(state, string(leaderID)),
		Term:          n.raft.CurrentTerm(),
		CommitIndex:   n.raft.CommitIndex(),
		AppliedIndex:  n.fsm.AppliedIndex(),
		Nodes:         []NodeStatus{},
	}
	servers, err := n.configuration()
	if err != nil {
		return st
	}
	nodes := make([]NodeStatus, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		base := NodeStatus{
			ID:       string(s.ID),
			Address:  string(s.Address),
			Suffrage: suffrage(s.Suffrage),
			IsLeader: s.ID == leaderID && leaderID != "",
		}
		if string(s.ID) == n.id {
			self := n.LocalStatus()
			self.Address, self.Suffrage = base.Address, base.Suffrage
			nodes[i] = self
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i] = n.probe(ctx, base)
		}()
	}
	wg.Wait()
	slices.SortFunc(nodes, func(a, b NodeStatus) int { return strings.Compare(a.ID, b.ID) })
	st.Nodes = nodes
	for _, ns := range nodes {
		if ns.VIPHeld {
			st.VIP = n.cfg.VIPAddress
		}
	}
	return st
}

// probe asks a member for its own status.
func (n *Node) probe(ctx context.Context, base NodeStatus) NodeStatus {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	var got NodeStatus
	if err := transport.Call(ctx, base.Address, methodNodeStatus, nil, &got); err != nil {
		base.Status = "unreachable"
		base.LastContact = ""
		return base
	}
	base.Status = got.Status
	base.IsLeader = got.IsLeader
	base.AppliedIndex = got.AppliedIndex
	base.VIPHeld = got.VIPHeld
	base.APIAddress = got.APIAddress
	base.DNSAddress = got.DNSAddress
	base.LastContact = durationString(time.Since(start))
	return base
}

// LocalStatus reports this node alone, without asking anyone.
func (n *Node) LocalStatus() NodeStatus {
	state := n.raft.State()
	ns := NodeStatus{
		ID:           n.id,
		Address:      n.addr,
		Status:       strings.ToLower(state.String()),
		IsLeader:     state == raft.Leader,
		AppliedIndex: n.fsm.AppliedIndex(),
		APIAddress:   n.cfg.APIAddress,
		DNSAddress:   n.cfg.DNSAddress,
		VIPHeld:      n.cfg.VIPHeld != nil && n.cfg.VIPHeld(),
	}
	if servers, err := n.configuration(); err == nil {
		for _, s := range servers {
			if string(s.ID) == n.id {
				ns.Suffrage = suffrage(s.Suffrage)
			}
		}
	}
	switch {
	case state == raft.Leader:
		ns.LastContact = durationString(0)
	case state == raft.Shutdown:
	default:
		if lc := n.raft.LastContact(); !lc.IsZero() {
			ns.LastContact = durationString(time.Since(lc))
		}
	}
	return ns
}

func suffrage(s raft.ServerSuffrage) string {
	if s == raft.Voter {
		return "voter"
	}
	return "nonvoter"
}

// readOnly reports whether a write through this node cannot be committed
// now (see Status).
func (n *Node) readOnly(state raft.RaftState, leaderID string) bool {
	switch {
	case leaderID == "" || state == raft.Shutdown:
		return true
	case state == raft.Leader:
		return false
	}
	return time.Since(n.raft.LastContact()) > n.cfg.HeartbeatTimeout
}
