package cluster

import "context"

// AllApplied reports whether every member of the configuration has applied
// the log up to index, asking each (Status, in parallel, about 300 ms at
// most per member). An unreachable member counts as not applied. The NOTIFY
// sender uses it so that a secondary asking any node gets the change.
func (n *Node) AllApplied(ctx context.Context, index uint64) bool {
	st := n.Status(ctx)
	if len(st.Nodes) == 0 {
		return false
	}
	for _, m := range st.Nodes {
		if m.AppliedIndex < index {
			return false
		}
	}
	return true
}
