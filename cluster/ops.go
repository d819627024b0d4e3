package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/transport"
)

// leaderDo runs local when this node is the leader, else remote against the
// leader's cluster address. It waits up to leaderWait for a leader to be
// known, and retries (within the same budget) when the leader could not be
// reached or answered that it no longer leads: in both cases the request was
// not acted upon (or, for an idempotent request, when the leader was lost
// while it was in flight). Anything else is returned as is.
func (n *Node) leaderDo(ctx context.Context, what string, idempotent bool, local func(context.Context) error, remote func(ctx context.Context, addr string) error) error {
	wait := leaderWait
	if addr, _ := n.raft.LeaderWithID(); addr != "" {
		n.sawLeader.Store(true)
	} else if !n.sawLeader.Load() {
		wait = firstLeaderWait
	}
	deadline := time.Now().Add(wait)
	var last error
	for {
		var err error
		if n.raft.State() == raft.Leader {
			err = local(ctx)
		} else {
			addr, id, werr := n.awaitLeader(ctx, deadline)
			switch {
			case werr == nil && id == n.id:
				err = errNotLeader // raft names us but has not switched state yet (or just left it)
			case werr == nil:
				err = n.callLeader(ctx, what, addr, idempotent, remote)
			case ctx.Err() != nil:
				return fmt.Errorf("cluster: %s: %w", what, ctx.Err())
			case errors.Is(werr, errStopped):
				return noQuorum(what + ": " + errStopped.Error())
			default:
				detail := what + ": no leader known after " + wait.String()
				if last != nil {
					detail += " (last attempt: " + last.Error() + ")"
				}
				return noQuorum(detail)
			}
		}
		if err == nil || !retryable(err) {
			return err
		}
		last = err
		if err == errTransferred {
			deadline = time.Now().Add(leaderWait) // a fresh budget to reach the new leader
		}
		if !time.Now().Before(deadline) {
			return noQuorum(fmt.Sprintf("%s: could not reach a leader within %s (last attempt: %v)", what, wait, last))
		}
		n.pause(ctx, deadline)
	}
}

// callLeader runs remote against the leader at addr, abandoning it as soon
// as this node stops seeing addr as the leader: a leader that is frozen or
// cut off would otherwise hold the caller until the call times out, while
// this node learns within a heartbeat timeout that it is gone.
func (n *Node) callLeader(ctx context.Context, what, addr string, idempotent bool, remote func(ctx context.Context, addr string) error) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lost atomic.Bool
	watching := n.spawn(func() {
		tick := time.NewTicker(100 * time.Millisecond) // in case an observation was dropped
		defer tick.Stop()
		for {
			ch := n.leaderChanged()
			if a, _ := n.raft.LeaderWithID(); string(a) != addr {
				lost.Store(true)
				cancel()
				return
			}
			select {
			case <-ch:
			case <-tick.C:
			case <-cctx.Done():
				return
			}
		}
	})
	if !watching {
		return noQuorum(what + ": " + errStopped.Error())
	}
	err := remote(cctx, addr)
	if err == nil {
		return nil
	}
	if lost.Load() && ctx.Err() == nil {
		var de *transport.DialError
		if errors.As(err, &de) {
			return err // never delivered: retryable
		}
		if idempotent {
			return errNotLeader // retry on whoever leads now
		}
		return noQuorum(fmt.Sprintf("%s: this node lost contact with the leader at %s while the request was in flight (the outcome is unknown)", what, addr))
	}
	return callError(ctx, what, addr, err)
}

// Apply proposes cmd to the Raft group and returns the index it was
// committed and applied at. On the leader it is proposed directly; on a
// follower it is forwarded to the leader, and Apply then waits (briefly)
// until this node's FSM has applied it too, so a client that writes through
// a node reads its write back from the same node. With no leader, or no
// commit in time, it fails fast with ErrNoQuorum. An error from the FSM
// (the command was rejected) is returned with its code. Implements
// fsm.Applier.
func (n *Node) Apply(ctx context.Context, cmd []byte) (uint64, error) {
	var index uint64
	forwarded := false
	err := n.leaderDo(ctx, "write", false,
		func(ctx context.Context) error {
			var err error
			index, err = n.applyLocal(ctx, cmd)
			return err
		},
		func(ctx context.Context, addr string) error {
			cctx, cancel := context.WithTimeout(ctx, forwardTimeout)
			defer cancel()
			var resp applyResponse
			if err := transport.Call(cctx, addr, methodApply, applyRequest{Cmd: cmd}, &resp); err != nil {
				return err
			}
			index, forwarded = resp.Index, true
			return nil
		})
	if err != nil {
		return 0, err
	}
	if forwarded {
		wctx, cancel := context.WithTimeout(ctx, catchUpWait)
		if err := n.fsm.WaitApplied(wctx, index); err != nil {
			n.logger.Debug("cluster: forwarded write committed but not yet applied here", "index", index, "applied", n.fsm.AppliedIndex())
		}
		cancel()
	}
	return index, nil
}

// applyLocal proposes cmd on this node, which must be the leader.
func (n *Node) applyLocal(ctx context.Context, cmd []byte) (uint64, error) {
	f := n.raft.Apply(cmd, enqueueTimeout)
	if err := n.waitFuture(ctx, f, commitCap); err != nil {
		return 0, raftError("write", err, false)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return 0, err // the FSM rejected the command (on every node alike)
	}
	return f.Index(), nil
}

// ReadBarrier makes the local state fresh enough for a read at level c:
// Stale returns at once; Leader waits until the local FSM has applied the
// leader's applied index; Linearizable has the leader confirm its
// leadership with a quorum first. With no leader it fails with ErrNoQuorum.
func (n *Node) ReadBarrier(ctx context.Context, c Consistency) error {
	switch c {
	case Stale:
		return nil
	case Leader, Linearizable:
	default:
		return withDetail(ErrInvalid, fmt.Sprintf("unknown consistency %q", c))
	}
	lin := c == Linearizable
	var index uint64
	err := n.leaderDo(ctx, "read", true,
		func(ctx context.Context) error {
			var err error
			index, err = n.readIndexLocal(ctx, lin)
			return err
		},
		func(ctx context.Context, addr string) error {
			cctx, cancel := context.WithTimeout(ctx, readBarrierWait)
			defer cancel()
			var resp readIndexResponse
			if err := transport.Call(cctx, addr, methodReadIndex, readIndexRequest{Linearizable: lin}, &resp); err != nil {
				return err
			}
			index = resp.Index
			return nil
		})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, readBarrierWait)
	defer cancel()
	if err := n.fsm.WaitApplied(wctx, index); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("cluster: read barrier: %w", ctx.Err())
		}
		return noQuorum(fmt.Sprintf("read: this node has applied index %d, the leader %d, and it did not catch up within %s", n.fsm.AppliedIndex(), index, readBarrierWait))
	}
	return nil
}

// readIndexLocal returns the index a read must wait for, on the leader: its
// applied index, once it has applied everything of earlier terms, and (for
// linearizable reads) after a quorum confirmed it still leads.
func (n *Node) readIndexLocal(ctx context.Context, linearizable bool) (uint64, error) {
	if err := n.leaderReady(ctx); err != nil {
		return 0, raftError("read", err, true)
	}
	if linearizable {
		if err := n.waitFuture(ctx, n.raft.VerifyLeader(), commitCap); err != nil {
			return 0, raftError("read", err, true)
		}
	}
	return n.fsm.AppliedIndex(), nil
}

// leaderReady makes sure this leader has applied every entry committed
// before its term: a new leader learns what is committed only when an entry
// of its own term commits (raft's no-op), so until then its applied index
// could miss a write the previous leader acknowledged. One barrier per term.
func (n *Node) leaderReady(ctx context.Context) error {
	term := n.raft.CurrentTerm()
	if n.readyTerm.Load() == term {
		return nil
	}
	if err := n.waitFuture(ctx, n.raft.Barrier(enqueueTimeout), commitCap); err != nil {
		return err
	}
	if n.raft.State() == raft.Leader && n.raft.CurrentTerm() == term {
		n.readyTerm.Store(term)
	}
	return nil
}

// configuration returns the latest Raft configuration.
func (n *Node) configuration() ([]raft.Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	return f.Configuration().Servers, nil
}

// otherVoters counts the voters other than this node.
func (n *Node) otherVoters() int {
	servers, err := n.configuration()
	if err != nil {
		return 0
	}
	c := 0
	for _, s := range servers {
		if s.Suffrage == raft.Voter && string(s.ID) != n.id {
			c++
		}
	}
	return c
}

// joinLocal adds a voter, on the leader. Idempotent: a member with the same
// address is left alone; a member that comes back with a new address is
// removed and added again; another id at the same address (a node that was
// rebuilt under a new id) is removed.
func (n *Node) joinLocal(ctx context.Context, id, addr string) error {
	servers, err := n.configuration()
	if err != nil {
		return raftError("join", err, true)
	}
	for _, s := range servers {
		sid, saddr := string(s.ID), string(s.Address)
		switch {
		case sid == id && saddr == addr && s.Suffrage == raft.Voter:
			n.logger.Debug("cluster: join: already a member", "id", id, "address", addr)
			return nil
		case sid == id && saddr == addr:
			// a nonvoter: AddVoter below promotes it
		case sid == id || saddr == addr:
			if sid == n.id {
				return withDetail(ErrInvalid, fmt.Sprintf("join of %s at %s: conflicts with the leader itself (%s at %s)", id, addr, sid, saddr))
			}
			n.logger.Info("cluster: join: replacing a member entry", "old_id", sid, "old_address", saddr, "id", id, "address", addr)
			if err := n.waitFuture(ctx, n.raft.RemoveServer(s.ID, 0, configTimeout), configTimeout); err != nil {
				return raftError("join", err, false)
			}
		}
	}
	if err := n.waitFuture(ctx, n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, configTimeout), configTimeout); err != nil {
		return raftError("join", err, false)
	}
	n.logger.Info("cluster: added a voter", "id", id, "address", addr)
	return nil
}

// Remove takes the member id out of the cluster (on the leader, forwarded
// from any node). An unknown id is ErrNotFound. Removing the leader first
// hands leadership to another voter, which then removes it. When the
// leader changes midway the request goes to the new leader; if the first
// attempt had already removed the member, the retry's NOT_FOUND means done.
func (n *Node) Remove(ctx context.Context, id string) error {
	if id == "" {
		return withDetail(ErrInvalid, "remove: empty node id")
	}
	attempts := 0
	err := n.leaderDo(ctx, "remove", true,
		func(ctx context.Context) error {
			attempts++
			return n.removeLocal(ctx, id)
		},
		func(ctx context.Context, addr string) error {
			attempts++
			cctx, cancel := context.WithTimeout(ctx, configTimeout+transferWait)
			defer cancel()
			return transport.Call(cctx, addr, methodRemove, removeRequest{ID: id, Forwarded: true}, nil)
		})
	if attempts > 1 && errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Leave takes this node out of the cluster: a leader first transfers its
// leadership, then the (new) leader removes it. Shut the node down after.
func (n *Node) Leave(ctx context.Context) error {
	err := n.Remove(ctx, n.id)
	if err == nil {
		n.logger.Info("cluster: left the cluster", "node", n.id)
	}
	return err
}

// removeLocal removes a member, on the leader.
func (n *Node) removeLocal(ctx context.Context, id string) error {
	servers, err := n.configuration()
	if err != nil {
		return raftError("remove", err, true)
	}
	found := false
	for _, s := range servers {
		found = found || string(s.ID) == id
	}
	if !found {
		return withDetail(ErrNotFound, fmt.Sprintf("%q is not a member", id))
	}
	if id == n.id {
		if n.otherVoters() == 0 {
			return withDetail(ErrInvalid, fmt.Sprintf("%q is the only voter: a cluster cannot remove its last member", id))
		}
		if err := n.transferLeadership(ctx); err != nil {
			return err
		}
		return errTransferred
	}
	if err := n.waitFuture(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, configTimeout), configTimeout); err != nil {
		return raftError("remove", err, false)
	}
	n.logger.Info("cluster: removed a member", "id", id)
	return nil
}

// transferLeadership hands leadership to another voter and waits until
// this node sees the new leader. The VIP goes first (releaseVIPForTransfer);
// if it cannot be removed there is no transfer.
func (n *Node) transferLeadership(ctx context.Context) error {
	if err := n.releaseVIPForTransfer(ctx); err != nil {
		return withDetail(ErrInternal, "leadership transfer: "+err.Error())
	}
	defer n.endVIPTransfer()
	if err := n.waitFuture(ctx, n.raft.LeadershipTransfer(), transferWait); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return nil // someone else leads already
		}
		return noQuorum("leadership transfer failed: " + err.Error())
	}
	deadline := time.Now().Add(transferWait)
	for {
		if addr, id := n.raft.LeaderWithID(); addr != "" && string(id) != n.id {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("cluster: leadership transfer: %w", ctx.Err())
		}
		if !time.Now().Before(deadline) {
			return noQuorum("leadership transferred but no new leader seen within " + transferWait.String())
		}
		n.pause(ctx, deadline)
	}
}
