package vip

import "context"

// Gate decides whether this node may hold the VIP. The cluster package's
// Node implements it.
type Gate interface {
	// MayHoldVIP reports whether this node may install or refresh the VIP
	// now. The Manager refreshes only within MaxDecisionAge of calling it.
	MayHoldVIP(ctx context.Context) bool
	// LeaderEvents delivers true when this node becomes leader and false
	// when it stops; events may be dropped, so the Manager also polls.
	LeaderEvents() <-chan bool
}
