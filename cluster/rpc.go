package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/transport"
	"github.com/resolvx/resolvx/zone"
)

// Cluster RPC methods (over the transport's RPC protocol).
const (
	// methodJoin {id, address} → {}: add a voter (on the leader; a follower
	// forwards it). Idempotent.
	methodJoin = "join"
	// methodApply {cmd} → {index}: propose a command; leader only.
	methodApply = "apply"
	// methodReadIndex {linearizable} → {index}: the leader's applied index
	// (after VerifyLeader when linearizable); leader only.
	methodReadIndex = "read_index"
	// methodNodeStatus → NodeStatus of the answering node.
	methodNodeStatus = "node_status"
	// methodRemove {id} → {}: remove a member (on the leader; a follower
	// forwards it).
	methodRemove = "remove"
)

type joinRequest struct {
	ID        string `json:"id"`
	Address   string `json:"address"`
	Forwarded bool   `json:"forwarded,omitempty"`
}

type applyRequest struct {
	Cmd []byte `json:"cmd"`
}

type applyResponse struct {
	Index uint64 `json:"index"`
}

type readIndexRequest struct {
	Linearizable bool `json:"linearizable"`
}

type readIndexResponse struct {
	Index uint64 `json:"index"`
}

type removeRequest struct {
	ID        string `json:"id"`
	Forwarded bool   `json:"forwarded,omitempty"`
}

// errNotLeader is the answer of a node that is not (or no longer) the
// leader to a leader-only request: the request was not acted upon, so the
// caller may retry it on the current leader. It never reaches the API: past
// the retry budget it becomes NO_QUORUM.
var errNotLeader = &Error{code: "NOT_LEADER", msg: "this node is not the leader"}

// errTransferred: this node was the leader and has just handed leadership
// over; the request must go to the new leader.
var errTransferred = &Error{code: "NOT_LEADER", msg: "leadership was just transferred; retry on the new leader"}

func (n *Node) registerHandlers() {
	n.mux.Handle(methodJoin, n.handleJoin)
	n.mux.Handle(methodApply, n.handleApply)
	n.mux.Handle(methodReadIndex, n.handleReadIndex)
	n.mux.Handle(methodNodeStatus, n.handleNodeStatus)
	n.mux.Handle(methodRemove, n.handleRemove)
	n.mux.Handle(methodVIPContact, n.handleVIPContact)
}

func decode(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return withDetail(ErrInvalid, "undecodable request: "+err.Error())
	}
	return nil
}

func (n *Node) handleJoin(ctx context.Context, raw json.RawMessage) (any, error) {
	var req joinRequest
	if err := decode(raw, &req); err != nil {
		return nil, err
	}
	if req.ID == "" {
		return nil, withDetail(ErrInvalid, "join: empty node id")
	}
	if _, _, err := net.SplitHostPort(req.Address); err != nil {
		return nil, withDetail(ErrInvalid, fmt.Sprintf("join: bad address %q: %v", req.Address, err))
	}
	if req.Forwarded && !n.IsLeader() {
		return nil, errNotLeader
	}
	return struct{}{}, n.leaderDo(ctx, "join", true,
		func(ctx context.Context) error { return n.joinLocal(ctx, req.ID, req.Address) },
		func(ctx context.Context, addr string) error {
			fwd := req
			fwd.Forwarded = true
			return transport.Call(ctx, addr, methodJoin, fwd, nil)
		})
}

func (n *Node) handleApply(ctx context.Context, raw json.RawMessage) (any, error) {
	var req applyRequest
	if err := decode(raw, &req); err != nil {
		return nil, err
	}
	if !n.IsLeader() {
		return nil, errNotLeader
	}
	idx, err := n.applyLocal(ctx, req.Cmd)
	if err != nil {
		return nil, err
	}
	return applyResponse{Index: idx}, nil
}

func (n *Node) handleReadIndex(ctx context.Context, raw json.RawMessage) (any, error) {
	var req readIndexRequest
	if err := decode(raw, &req); err != nil {
		return nil, err
	}
	if !n.IsLeader() {
		return nil, errNotLeader
	}
	idx, err := n.readIndexLocal(ctx, req.Linearizable)
	if err != nil {
		return nil, err
	}
	return readIndexResponse{Index: idx}, nil
}

func (n *Node) handleNodeStatus(context.Context, json.RawMessage) (any, error) {
	return n.LocalStatus(), nil
}

func (n *Node) handleRemove(ctx context.Context, raw json.RawMessage) (any, error) {
	var req removeRequest
	if err := decode(raw, &req); err != nil {
		return nil, err
	}
	if req.ID == "" {
		return nil, withDetail(ErrInvalid, "remove: empty node id")
	}
	if req.Forwarded {
		if !n.IsLeader() {
			return nil, errNotLeader
		}
		return struct{}{}, n.removeLocal(ctx, req.ID)
	}
	return struct{}{}, n.Remove(ctx, req.ID)
}

// withDetail returns base's code with a longer message.
func withDetail(base *Error, detail string) *Error {
	return &Error{code: base.code, msg: base.msg + ": " + detail, wrapped: base.wrapped}
}

// noQuorum is ErrNoQuorum with the reason.
func noQuorum(detail string) *Error { return withDetail(ErrNoQuorum, detail) }

// fromRemote rebuilds an error a handler on another node returned as an
// *Error with its code; codes of the zone package also unwrap to zone's
// sentinels, so errors.Is behaves as it would on the leader. A handler that
// ran out of the caller's time becomes NO_QUORUM (wrapping
// context.DeadlineExceeded).
func fromRemote(re *transport.RemoteError) *Error {
	e := &Error{code: re.Code(), msg: re.Error()}
	switch re.Code() {
	case zone.ErrInvalid.Code():
		e.wrapped = zone.ErrInvalid
	case zone.ErrNotFound.Code():
		e.wrapped = zone.ErrNotFound
	case zone.ErrExists.Code():
		e.wrapped = zone.ErrExists
	case transport.CodeDeadline:
		// The leader ran out of this request's time: the outcome is
		// unknown, which the API reports like any other missing quorum.
		e = noQuorum("the leader did not finish in time (the outcome is unknown): " + re.Error())
		e.wrapped = context.DeadlineExceeded
	}
	return e
}

// retryable reports whether a request that failed with err was certainly
// not acted upon, so it may go to the (new) leader again.
func retryable(err error) bool {
	var de *transport.DialError
	return errors.Is(err, errNotLeader) || errors.As(err, &de)
}

// callError maps a failed Call to the leader at addr.
func callError(ctx context.Context, what, addr string, err error) error {
	var re *transport.RemoteError
	var de *transport.DialError
	switch {
	case errors.As(err, &re):
		return fromRemote(re)
	case errors.As(err, &de):
		return err // retryable; leaderDo maps it if it runs out of time
	case ctx.Err() != nil:
		return fmt.Errorf("cluster: %s: no answer from the leader at %s in time (the outcome is unknown): %w", what, addr, ctx.Err())
	default:
		return noQuorum(fmt.Sprintf("%s: lost the connection to the leader at %s (the outcome is unknown): %v", what, addr, err))
	}
}

// raftError maps an error of a raft future on this node. idempotent says
// whether the operation may be retried after raft lost leadership midway.
func raftError(what string, err error, idempotent bool) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return errNotLeader // not enqueued: safe to retry on the new leader
	case errors.Is(err, raft.ErrLeadershipLost):
		if idempotent {
			return errNotLeader
		}
		return noQuorum(what + ": leadership was lost before the entry committed (it may still commit under the next leader)")
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return noQuorum(what + ": the leader could not take the entry in time")
	case errors.Is(err, raft.ErrRaftShutdown):
		return noQuorum(what + ": " + errStopped.Error())
	case errors.Is(err, errWaitTimeout):
		return noQuorum(what + ": not committed in time (the outcome is unknown)")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cluster: %s: %w", what, err)
	default:
		return withDetail(ErrInternal, what+": "+err.Error())
	}
}
