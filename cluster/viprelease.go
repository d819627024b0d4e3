package cluster

import (
	"context"
	"fmt"

	"github.com/resolvx/resolvx/fsm"
)

// releaseVIPForTransfer runs right before this leader hands leadership
// over: the gate refuses the VIP from now on (until endVIPTransfer), the
// VIP is removed (Config.BeforeTransfer), and — when this node's wait for
// earlier holders was over in this term — vip.release is recorded, so the
// next leader claims at once (vipgate.go). After recording it this node
// never holds the VIP again in this term. An error means the VIP may still
// be up: the caller must not transfer.
func (n *Node) releaseVIPForTransfer(ctx context.Context) error {
	if n.cfg.VIPLease <= 0 {
		return nil
	}
	n.vip.suspended.Store(true)
	if n.cfg.BeforeTransfer != nil {
		if err := n.cfg.BeforeTransfer(ctx); err != nil {
			n.vip.suspended.Store(false)
			return fmt.Errorf("removing the VIP before the transfer: %w", err)
		}
	}
	term := n.raft.CurrentTerm()
	if !n.vipClearIn(term) {
		n.logger.Info("cluster: VIP: not recording a release (this leader's own wait was not over); the next leader waits out the lease", "term", term)
		return nil
	}
	cmd, err := fsm.Encode(fsm.OpVIPRelease, fsm.VIPRelease{NodeID: n.id, Term: term})
	if err != nil {
		return nil // only a longer wait for the next leader
	}
	n.vip.releasedTerm.Store(term)
	rctx, cancel := context.WithTimeout(ctx, vipReleaseWait)
	defer cancel()
	idx, err := n.applyLocal(rctx, cmd)
	if err != nil {
		n.logger.Warn("cluster: VIP: recording the release failed; the next leader waits out the lease", "err", err)
		return nil
	}
	n.logger.Info("cluster: VIP: released and recorded", "term", term, "index", idx)
	return nil
}

// endVIPTransfer lets the gate decide again once a transfer is over (it
// failed, or this node follows now).
func (n *Node) endVIPTransfer() { n.vip.suspended.Store(false) }
