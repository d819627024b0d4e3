package fsm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/zone"
)

// FSM implements raft.FSM over State.
type FSM struct {
	state  atomic.Pointer[State]
	logger *slog.Logger

	// applyMu serialises Apply and Restore: raft calls them from one
	// goroutine, but the cluster also replays committed entries from the
	// local log at startup (so a restarted node serves its last state before
	// it reaches anyone), and both may deliver the same index.
	applyMu sync.Mutex

	mu      sync.Mutex
	applied chan struct{} // closed and replaced after every apply
}

// New returns an FSM holding the empty state.
func New(logger *slog.Logger) *FSM {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &FSM{logger: logger, applied: make(chan struct{})}
	f.state.Store(emptyState())
	return f
}

// State returns the current applied state. Never nil.
func (f *FSM) State() *State { return f.state.Load() }

// View returns the current zones for the DNS server.
func (f *FSM) View() *zone.View { return f.state.Load().Zones }

// AppliedIndex returns the index of the last applied log entry.
func (f *FSM) AppliedIndex() uint64 { return f.state.Load().Index }

// WaitApplied returns once the FSM has applied index, or when ctx ends.
func (f *FSM) WaitApplied(ctx context.Context, index uint64) error {
	for {
		f.mu.Lock()
		ch := f.applied
		f.mu.Unlock()
		if f.AppliedIndex() >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for index %d (applied %d): %w", index, f.AppliedIndex(), ctx.Err())
		}
	}
}

// publish makes s the current state and wakes the waiters.
func (f *FSM) publish(s *State) {
	f.state.Store(s)
	f.mu.Lock()
	close(f.applied)
	f.applied = make(chan struct{})
	f.mu.Unlock()
}

// Apply applies one log entry. It returns nil, or the error that rejected the
// command (deterministically: every node rejects it alike). An entry at or
// below the applied index was applied already (by the startup replay) and is
// skipped: committed entries never change, so skipping is exact.
func (f *FSM) Apply(l *raft.Log) any {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	cur := f.state.Load()
	if l.Index <= cur.Index {
		return nil
	}
	if l.Type != raft.LogCommand {
		f.publish(withIndex(cur, l.Index))
		return nil
	}
	next, err := apply(cur, l.Data, l.Index, l.Term)
	if err != nil {
		f.logger.Debug("command rejected", "index", l.Index, "err", err)
		f.publish(withIndex(cur, l.Index))
		return err
	}
	f.publish(next)
	return nil
}

func withIndex(s *State, index uint64) *State {
	c := *s
	c.Index = index
	return &c
}

// apply computes the state after command b at index, in the log entry's
// term (0 when unknown: the Writer's dry run). It is a pure function.
func apply(s *State, b []byte, index, term uint64) (*State, error) {
	cmd, err := Decode(b)
	if err != nil {
		return nil, err
	}
	next := *s
	next.Index = index
	// gtmNext is the whole next state of commands that change policies or
	// verdicts (they recompile the answer table).
	var gtmNext *State
	switch cmd.Op {
	case OpCreateZone:
		var c CreateZone
		if err = decodeData(cmd, &c); err == nil {
			next.Zones, err = s.Zones.CreateZone(c.Name, c.SOA, index)
		}
	case OpDeleteZone:
		var c DeleteZone
		if err = decodeData(cmd, &c); err == nil {
			var v *zone.View
			if v, err = s.Zones.DeleteZone(c.Name); err == nil {
				name, _ := zone.CanonicalName(c.Name)
				gtmNext = s.withoutZonePolicies(name)
				gtmNext.Zones = v
			}
		}
	case OpSetSOA:
		var c SetSOA
		if err = decodeData(cmd, &c); err == nil {
			next.Zones, err = s.Zones.SetSOA(c.Zone, c.SOA, index)
		}
	case OpChangeRecords:
		var c ChangeRecords
		if err = decodeData(cmd, &c); err == nil {
			if next.Zones, err = s.Zones.Apply(c.Zone, c.Changes, index); err == nil {
				err = s.policyConflicts(next.Zones, c.Zone)
			}
		}
	case OpReplaceRecords:
		var c ReplaceRecords
		if err = decodeData(cmd, &c); err == nil {
			if next.Zones, err = replaceRecords(s.Zones, c, index); err == nil {
				err = s.policyConflicts(next.Zones, c.Zone)
			}
		}
	case OpPutPolicy:
		var c PutPolicy
		if err = decodeData(cmd, &c); err == nil {
			if _, exists := s.policies.Get(c.Policy.Name); exists && c.Create {
				err = fmt.Errorf("%w: policy %s already exists; PUT /api/v1/policies/%s replaces it", zone.ErrExists, c.Policy.Name, c.Policy.Name)
			} else {
				gtmNext, err = s.withPolicy(c.Policy)
			}
		}
	case OpDeletePolicy:
		var c DeletePolicy
		if err = decodeData(cmd, &c); err == nil {
			gtmNext, err = s.withoutPolicy(c.Name)
		}
	case OpPatchEndpoint:
		var c PatchEndpoint
		if err = decodeData(cmd, &c); err == nil {
			gtmNext, err = s.withEndpointPatch(c)
		}
	case OpSetVerdicts:
		var c SetVerdicts
		if err = decodeData(cmd, &c); err == nil {
			gtmNext, err = s.withVerdicts(c)
		}
	case OpVIPRelease:
		var c VIPRelease
		if err = decodeData(cmd, &c); err == nil {
			next.vipRelease, err = vipRelease(c, index, term)
		}
	case OpPutTSIGKey:
		var c PutTSIGKey
		if err = decodeData(cmd, &c); err == nil {
			next.Zones, err = s.Zones.PutTSIGKey(c.Key)
		}
	case OpDeleteTSIGKey:
		var c DeleteTSIGKey
		if err = decodeData(cmd, &c); err == nil {
			next.Zones, err = s.Zones.DeleteTSIGKey(c.Name)
		}
	case OpSetTransfer:
		var c SetTransfer
		if err = decodeData(cmd, &c); err == nil {
			next.Zones, err = s.Zones.SetTransfer(c.Zone, c.Transfer)
		}
	default:
		err = fmt.Errorf("%w: unknown command %q", ErrBadCommand, cmd.Op)
	}
	if err != nil {
		return nil, err
	}
	if gtmNext != nil {
		gtmNext.Index = index
		return gtmNext, nil
	}
	return &next, nil
}

// vipRelease validates a release against the entry that carries it.
func vipRelease(c VIPRelease, index, term uint64) (VIPReleaseRecord, error) {
	switch {
	case c.NodeID == "" || c.Term == 0:
		return VIPReleaseRecord{}, fmt.Errorf("%w: vip.release needs a node id and a term", ErrBadCommand)
	case term != 0 && c.Term != term:
		return VIPReleaseRecord{}, fmt.Errorf("%w: vip.release for term %d carried by an entry of term %d", ErrBadCommand, c.Term, term)
	}
	return VIPReleaseRecord{NodeID: c.NodeID, Term: c.Term, Index: index}, nil
}

func replaceRecords(v *zone.View, c ReplaceRecords, index uint64) (*zone.View, error) {
	if c.SOA == nil {
		return v.Replace(c.Zone, c.Records, index)
	}
	withSOA, err := v.SetSOA(c.Zone, *c.SOA, index)
	if err != nil {
		return nil, err
	}
	return withSOA.Replace(c.Zone, c.Records, index)
}

func decodeData(cmd Command, dst any) error {
	if err := json.Unmarshal(cmd.Data, dst); err != nil {
		return fmt.Errorf("%w: command %s: %v", ErrBadCommand, cmd.Op, err)
	}
	return nil
}

// Snapshot captures the current state; persisting it runs concurrently with
// later applies, which is safe because State is immutable.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	return &snapshot{state: f.state.Load()}, nil
}

// Restore replaces the state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	s, err := readSnapshot(rc)
	if err != nil {
		return fmt.Errorf("fsm: restore: %w", err)
	}
	f.publish(s)
	return nil
}

var _ raft.FSM = (*FSM)(nil)
