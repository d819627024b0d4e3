package cluster

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/transport"
)

// The VIP gate: when may this node hold the VIP?
//
// MayHoldVIP is true only when all of these hold:
//
//  1. this node is the leader, and not handing leadership over, and has not
//     recorded a VIP release in this term;
//  2. it has applied every entry of earlier terms (a barrier in this term,
//     shared with the read path: readyTerm);
//  3. every earlier holder's address must be gone (below), once per term;
//  4. a quorum confirmed its leadership just now (raft.VerifyLeader, one per
//     call, within vipVerifyTimeout). raft also counts a heartbeat reply
//     that was in flight when the verify began, so an answer may predate
//     the verify by up to one heartbeat round trip (well under a
//     millisecond on a LAN); vip.ExpirySlack (250 ms) covers that.
//
// Why 4 bounds a holder: the VIP manager refreshes only within
// vip.MaxDecisionAge of calling MayHoldVIP, and the address then lives at
// most its kernel lifetime plus the kernel's lateness. So a holder H's
// address is gone at the latest Config.VIPLease (vip.Config.ExpiryBound)
// after the start of H's last successful MayHoldVIP, which is before H's
// last VerifyLeader started, which is before every member of that verify's
// quorum Q_H received the heartbeat it answered.
//
// Why 3 is safe, for the leader N of term T. Two bounds, each an upper
// bound on the start of every earlier holder's last VerifyLeader; N takes
// the earlier one and claims once VIPLease (+ vipClockMargin) has passed:
//
//   - Quorum contact: N asks every member for "the last time you received
//     anything from a leader of a term below T, or led yourself" (contactLog,
//     recorded in the transport before Raft acknowledges anything, and the
//     start of the process for whatever an earlier incarnation
//     acknowledged). A member answers only once its own term is at least T:
//     from then on Raft rejects earlier terms, so its answer is final. Any
//     set of members that answered, large enough to meet every possible
//     quorum (all members minus a voter quorum, plus one), meets Q_H; so the
//     largest answer within the best such set bounds H's last verify. When
//     the old leader just crashed this is about the crash time, whatever the
//     election took.
//   - Election: every voter that elected N answered H (if it did) before it
//     voted for N — after voting it rejects H's term — and one of them is in
//     Q_H; so H's last verify started before N became leader.
//
// The exception (DESIGN "The VIP lease" 6): a leader that stops gracefully
// removes its VIP, records vip.release in its term T-1, and never holds the
// VIP in T-1 again; it records one only after its own wait in T-1 was over,
// so no earlier holder can be left either. Terms go up by one per election,
// so when the last release is from term T-1 exactly, nobody held the VIP
// after it, and N claims at once.
//
// Assumptions: clocks run at the same rate (durations only, no sync); every
// node uses the same VIPLease; membership changes one server at a time (raft
// does), so quorums of consecutive configurations meet.

// Timings of the VIP gate.
const (
	// vipVerifyTimeout bounds the quorum check of one MayHoldVIP call: well
	// below the leader lease (250 ms by default) and below
	// vip.MaxDecisionAge (100 ms), so a slow answer is refused rather than
	// acted upon late.
	vipVerifyTimeout = 80 * time.Millisecond
	// vipBarrierWait bounds the once-per-term barrier in MayHoldVIP.
	vipBarrierWait = time.Second
	// vipContactTimeout bounds asking the members for their contact bound.
	vipContactTimeout = 200 * time.Millisecond
	// vipClockMargin covers clock rate differences and scheduling.
	vipClockMargin = 25 * time.Millisecond
	// vipReleaseWait bounds recording vip.release before a transfer.
	vipReleaseWait = time.Second
)

// methodVIPContact {term} → {known, age_ns}: the member's contact bound
// for a leader of term (see contactLog.boundFor).
const methodVIPContact = "vip_contact"

type vipContactRequest struct {
	Term uint64 `json:"term"`
}

type vipContactResponse struct {
	Known bool  `json:"known"`
	AgeNS int64 `json:"age_ns"`
}

// vipGate is the gate's state on a Node.
type vipGate struct {
	suspended    atomic.Bool   // a leadership transfer is under way
	releasedTerm atomic.Uint64 // this node recorded a release in this term

	mu      sync.Mutex
	term    uint64    // the term the fields below belong to
	clear   bool      // every earlier holder's address is gone
	readyAt time.Time // when it will be, as far as known
	quorum  bool      // readyAt comes from a quorum of contact bounds
	logged  bool      // the wait was logged
}

// MayHoldVIP reports whether this node may install or refresh the VIP now
// (see the comment at the top of this file). It implements vip.Gate.
func (n *Node) MayHoldVIP(ctx context.Context) bool {
	if n.cfg.VIPLease <= 0 || n.vip.suspended.Load() || n.raft.State() != raft.Leader {
		return false
	}
	term := n.raft.CurrentTerm()
	if n.vip.releasedTerm.Load() == term {
		return false
	}
	since := n.contacts.leaderSinceFor(term, time.Now())
	bctx, cancel := context.WithTimeout(ctx, vipBarrierWait)
	err := n.leaderReady(bctx)
	cancel()
	if err != nil {
		return false
	}
	if !n.previousHolderGone(ctx, term, since) {
		return false
	}
	if err := n.waitFuture(ctx, n.raft.VerifyLeader(), vipVerifyTimeout); err != nil {
		n.logger.Debug("cluster: VIP: leadership not confirmed by a quorum", "err", err)
		return false
	}
	return n.raft.CurrentTerm() == term && !n.vip.suspended.Load()
}

// previousHolderGone reports whether every earlier holder's VIP must be
// gone, for this node leading in term since since.
func (n *Node) previousHolderGone(ctx context.Context, term uint64, since time.Time) bool {
	g := &n.vip
	g.mu.Lock()
	if g.term != term {
		g.term, g.clear, g.readyAt, g.quorum, g.logged = term, false, time.Time{}, false, false
	}
	clear, quorum := g.clear, g.quorum
	g.mu.Unlock()
	if clear {
		return true
	}

	if rel, ok := n.fsm.State().LastVIPRelease(); ok && rel.Term+1 == term {
		n.logger.Info("cluster: VIP: the previous leader released the VIP; claiming it at once", "released_by", rel.NodeID, "release_term", rel.Term, "term", term)
		return n.markVIPClear(term)
	}

	bound := since // the election bound
	fromQuorum := false
	if !quorum {
		if b, ok := n.quorumContactBound(ctx, term); ok && b.Before(since) {
			bound, fromQuorum = b, true
		}
	}
	readyAt := bound.Add(n.cfg.VIPLease + vipClockMargin)

	g.mu.Lock()
	if g.term != term {
		g.mu.Unlock()
		return false
	}
	if g.readyAt.IsZero() || readyAt.Before(g.readyAt) {
		g.readyAt, g.quorum = readyAt, g.quorum || fromQuorum
	}
	readyAt = g.readyAt
	logWait := !g.logged
	g.logged = true
	g.mu.Unlock()

	if !time.Now().Before(readyAt) {
		n.logger.Info("cluster: VIP: every earlier holder's lease has run out; claiming the VIP", "term", term)
		return n.markVIPClear(term)
	}
	if logWait {
		n.logger.Info("cluster: VIP: waiting for any earlier holder's lease to run out", "term", term, "wait", time.Until(readyAt).Round(time.Millisecond), "from_quorum_contacts", fromQuorum)
	}
	return false
}

func (n *Node) markVIPClear(term uint64) bool {
	g := &n.vip
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.term != term {
		return false
	}
	g.clear = true
	return true
}

// vipClearIn reports whether this node's wait for earlier holders ended in
// term.
func (n *Node) vipClearIn(term uint64) bool {
	g := &n.vip
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.term == term && g.clear
}

// quorumContactBound asks every other member for its contact bound for a
// leader of term and returns the earliest time that bounds a set of members
// meeting every possible verify quorum, or false when too few answered.
func (n *Node) quorumContactBound(ctx context.Context, term uint64) (time.Time, bool) {
	servers, err := n.configuration()
	if err != nil {
		return time.Time{}, false
	}
	voters := 0
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	need := meetsEveryQuorum(len(servers), voters)

	ctx, cancel := context.WithTimeout(ctx, vipContactTimeout)
	defer cancel()
	answers := make(chan time.Time, len(servers))
	asked := 0
	for _, s := range servers {
		if string(s.ID) == n.id {
			continue
		}
		asked++
		go func() {
			var resp vipContactResponse
			if err := transport.Call(ctx, string(s.Address), methodVIPContact, vipContactRequest{Term: term}, &resp); err != nil || !resp.Known || resp.AgeNS < 0 {
				answers <- time.Time{}
				return
			}
			// The member's bound was at most age before it answered, and
			// it answered before now.
			answers <- time.Now().Add(-time.Duration(resp.AgeNS))
		}()
	}
	// Any need members that answered bound every quorum: stop at the
	// first need (a member cut off would hold the rest up to the timeout).
	bounds := []time.Time{n.contacts.lastBefore(term)}
	for ; asked > 0 && len(bounds) < need; asked-- {
		if b := <-answers; !b.IsZero() {
			bounds = append(bounds, b)
		}
	}
	return quorumBound(bounds, need)
}

// meetsEveryQuorum is how many members a set needs so that it meets every
// possible VerifyLeader quorum: voters/2+1 acknowledgements from any of the
// members (raft counts nonvoters' too), so a set meets all of them when it
// leaves out fewer than that many members.
func meetsEveryQuorum(members, voters int) int {
	return members - (voters/2 + 1) + 1
}

// quorumBound is the earliest time that bounds some need of the given
// member bounds (the need-th smallest), or false when there are fewer.
func quorumBound(bounds []time.Time, need int) (time.Time, bool) {
	if need < 1 || len(bounds) < need {
		return time.Time{}, false
	}
	bounds = slices.Clone(bounds)
	slices.SortFunc(bounds, func(a, b time.Time) int { return a.Compare(b) })
	return bounds[need-1], true
}

// handleVIPContact answers a leader's question for this node's contact
// bound. It answers only once this node's term is at least the leader's
// (read first: from then on Raft rejects earlier terms, so the answer is
// final) and it no longer leads.
func (n *Node) handleVIPContact(_ context.Context, raw json.RawMessage) (any, error) {
	var req vipContactRequest
	if err := decode(raw, &req); err != nil {
		return nil, err
	}
	if n.raft.CurrentTerm() < req.Term || n.raft.State() == raft.Leader {
		return vipContactResponse{}, nil
	}
	b, ok := n.contacts.boundFor(req.Term)
	if !ok {
		return vipContactResponse{}, nil
	}
	return vipContactResponse{Known: true, AgeNS: int64(time.Since(b))}, nil
}
