package cluster

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// A restarted node must answer from its last state before it reaches
// anyone (DESIGN.md: every node answers DNS from its applied state, with or
// without quorum). hashicorp/raft v1.7.3 restores the latest snapshot at
// start but re-applies later log entries only once a leader commits them
// again, which needs a quorum. So the node remembers how far its FSM had
// applied — every entry up to that index was committed — and at start
// applies the entries from the snapshot up to that index itself. The FSM
// skips an index it already has, so this replay and raft's own apply may
// deliver the same entries in either order.

// appliedKey is the stable-store key of the persisted applied index.
var appliedKey = []byte("resolvx_applied_index")

// appliedPersistInterval is how often the applied index is written: a
// kill -9 loses at most this much of the replay (the entries then arrive
// from the leader as usual).
const appliedPersistInterval = 200 * time.Millisecond

// replayCommitted applies the local log from the FSM's index up to the
// persisted applied index. It returns how many entries it applied.
func (n *Node) replayCommitted() int {
	upTo, err := n.store.GetUint64(appliedKey)
	if err != nil || upTo == 0 {
		return 0 // nothing persisted yet (a new node, or an old data dir)
	}
	last, err := n.store.LastIndex()
	if err != nil {
		n.logger.Warn("cluster: startup replay: reading the last log index", "err", err)
		return 0
	}
	upTo = min(upTo, last)
	applied := 0
	for i := n.fsm.AppliedIndex() + 1; i <= upTo; i++ {
		var l raft.Log
		if err := n.store.GetLog(i, &l); err != nil {
			if !errors.Is(err, raft.ErrLogNotFound) {
				n.logger.Warn("cluster: startup replay stopped", "index", i, "err", err)
			}
			break
		}
		n.fsm.Apply(&l)
		applied++
	}
	return applied
}

// persistAppliedLoop writes the FSM's applied index to the stable store
// whenever it has moved, until the node stops; close writes it once more.
func (n *Node) persistAppliedLoop() {
	t := time.NewTicker(appliedPersistInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n.persistApplied()
		case <-n.ctx.Done():
			return
		}
	}
}

// persistApplied writes the applied index if it changed since the last write.
func (n *Node) persistApplied() {
	idx := n.fsm.AppliedIndex()
	if idx == n.persisted.Load() {
		return
	}
	if err := n.store.SetUint64(appliedKey, idx); err != nil {
		n.logger.Warn("cluster: persisting the applied index", "err", err)
		return
	}
	n.persisted.Store(idx)
}
