package cluster

import (
	"sync"
	"time"
)

// contactTermsKept bounds the per-term contact records; older terms fold
// into a single floor (which only makes a bound later, never earlier).
const contactTermsKept = 16

// contactLog remembers, per leader term, when this node last received an
// AppendEntries (heartbeats included) or InstallSnapshot from that term's
// leader, and when it last led itself. The VIP gate builds its bound on it:
// a former VIP holder refreshed its address only after a quorum answered
// its heartbeats, so the time every member of some quorum last heard from
// an earlier term bounds the former holder's last refresh (vipgate.go).
//
// Times are this process's monotonic clock readings. Records are taken
// when a request arrives, before Raft processes (and acknowledges) it.
type contactLog struct {
	mu    sync.Mutex
	start time.Time            // this incarnation started: it acknowledged nothing earlier
	terms map[uint64]time.Time // last request received from each term's leader
	floor time.Time            // the latest of the records dropped from terms

	leading     bool      // as seen by the node's notify loop
	leaderTerm  uint64    // the term leaderSince belongs to
	leaderSince time.Time // when this node was first seen leading in leaderTerm
	leaderEnd   time.Time // when it was last seen to stop leading
}

func newContactLog(now time.Time) *contactLog {
	return &contactLog{start: now, terms: make(map[uint64]time.Time)}
}

// heard records a request from the leader of term, received at at.
func (c *contactLog) heard(term uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.After(c.terms[term]) {
		c.terms[term] = at
	}
	if len(c.terms) <= contactTermsKept {
		return
	}
	lowest := ^uint64(0)
	for t := range c.terms {
		lowest = min(lowest, t)
	}
	if c.terms[lowest].After(c.floor) {
		c.floor = c.terms[lowest]
	}
	delete(c.terms, lowest)
}

// lastBefore is the latest time this node may have acknowledged a leader of
// a term below term: the last request received from one, the floor, and
// at least the start of this incarnation.
func (c *contactLog) lastBefore(term uint64) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastBeforeLocked(term)
}

func (c *contactLog) lastBeforeLocked(term uint64) time.Time {
	last := c.start
	if c.floor.After(last) {
		last = c.floor
	}
	for t, at := range c.terms {
		if t < term && at.After(last) {
			last = at
		}
	}
	return last
}

// boundFor is what this node answers a leader of term that asks for its
// VIP contact bound: lastBefore(term), and the end of its own last
// leadership (a leader counts itself in its quorum). false while this node
// still sees itself leading.
func (c *contactLog) boundFor(term uint64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leading {
		return time.Time{}, false
	}
	b := c.lastBeforeLocked(term)
	if c.leaderEnd.After(b) {
		b = c.leaderEnd
	}
	return b, true
}

// becameLeader records that this node leads (seen at at, in term).
func (c *contactLog) becameLeader(term uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leading = true
	if term != c.leaderTerm {
		c.leaderTerm, c.leaderSince = term, at
	}
}

// steppedDown records that this node stopped leading (seen at at).
func (c *contactLog) steppedDown(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leading = false
	c.leaderEnd = at
}

// leaderSinceFor returns when this node was first seen leading in term;
// if the notify loop has not recorded term yet, now is recorded (later
// than the truth, which only makes bounds later).
func (c *contactLog) leaderSinceFor(term uint64, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leaderTerm != term {
		c.leaderTerm, c.leaderSince = term, now
	}
	return c.leaderSince
}
