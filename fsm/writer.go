package fsm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// Applier proposes a command to the Raft group and returns the index it was
// applied at (cluster.Node implements it, forwarding to the leader).
type Applier interface {
	Apply(ctx context.Context, cmd []byte) (uint64, error)
}

// Writer turns API operations into validated commands. It checks every
// change against the local state before proposing it, so an invalid change
// never enters the log; Apply checks again against the state it meets, so a
// change that raced with another is still applied whole or not at all.
type Writer struct {
	fsm     *FSM
	applier Applier
	// CatchUp, when set, brings the local state up to the leader's applied
	// index (cluster.Node.ReadBarrier at the leader level). A change that
	// fails validation against a lagging local state — a zone created
	// through another node a moment ago — is validated again after it.
	CatchUp func(ctx context.Context) error
}

// NewWriter returns a Writer proposing through applier and validating
// against f's state.
func NewWriter(f *FSM, applier Applier) *Writer {
	return &Writer{fsm: f, applier: applier}
}

// CreateZone creates an empty zone with default SOA settings.
func (w *Writer) CreateZone(ctx context.Context, name string) (uint64, error) {
	apex, err := zone.CanonicalName(name)
	if err != nil {
		return 0, err
	}
	return w.propose(ctx, OpCreateZone, CreateZone{Name: apex, SOA: zone.DefaultSOA(apex)})
}

// DeleteZone deletes a zone with its records and policies.
func (w *Writer) DeleteZone(ctx context.Context, name string) (uint64, error) {
	return w.propose(ctx, OpDeleteZone, DeleteZone{Name: name})
}

// SetSOA changes a zone's SOA settings.
func (w *Writer) SetSOA(ctx context.Context, zoneName string, soa zone.SOA) (uint64, error) {
	return w.propose(ctx, OpSetSOA, SetSOA{Zone: zoneName, SOA: soa})
}

// ChangeRecords applies an atomic change set. Records to add must carry IDs.
func (w *Writer) ChangeRecords(ctx context.Context, zoneName string, changes []zone.Change) (uint64, error) {
	return w.propose(ctx, OpChangeRecords, ChangeRecords{Zone: zoneName, Changes: changes})
}

// ReplaceRecords replaces every record of a zone (an import); records
// without an ID get one.
func (w *Writer) ReplaceRecords(ctx context.Context, zoneName string, recs []zone.Record) (uint64, error) {
	return w.ReplaceZone(ctx, zoneName, nil, recs)
}

// ReplaceZone replaces every record of a zone and, when soa is not nil, its
// SOA settings, as one change.
func (w *Writer) ReplaceZone(ctx context.Context, zoneName string, soa *zone.SOA, recs []zone.Record) (uint64, error) {
	withIDs := make([]zone.Record, len(recs))
	for i, r := range recs {
		if r.ID == "" {
			r.ID = NewID()
		}
		withIDs[i] = r
	}
	return w.propose(ctx, OpReplaceRecords, ReplaceRecords{Zone: zoneName, Records: withIDs, SOA: soa})
}

// PutPolicy creates or replaces a GTM policy.
func (w *Writer) PutPolicy(ctx context.Context, p gtm.Policy) (uint64, error) {
	return w.propose(ctx, OpPutPolicy, PutPolicy{Policy: p})
}

// CreatePolicy creates a GTM policy; one of the same name is an error
// (ALREADY_EXISTS), decided in the log order.
func (w *Writer) CreatePolicy(ctx context.Context, p gtm.Policy) (uint64, error) {
	return w.propose(ctx, OpPutPolicy, PutPolicy{Policy: p, Create: true})
}

// DeletePolicy removes a GTM policy.
func (w *Writer) DeletePolicy(ctx context.Context, name string) (uint64, error) {
	return w.propose(ctx, OpDeletePolicy, DeletePolicy{Name: name})
}

// PatchEndpoint changes some fields of one endpoint of a policy.
func (w *Writer) PatchEndpoint(ctx context.Context, policy, endpoint string, patch gtm.EndpointPatch) (uint64, error) {
	return w.propose(ctx, OpPatchEndpoint, PatchEndpoint{Policy: policy, Endpoint: endpoint, Patch: patch})
}

// SetVerdicts commits the verdicts of one policy, decided for the
// endpoint addresses given (the policy's current ones when nil).
func (w *Writer) SetVerdicts(ctx context.Context, policy string, v gtm.Verdicts, addresses map[string]string) (uint64, error) {
	return w.propose(ctx, OpSetVerdicts, SetVerdicts{Policy: policy, Verdicts: v, Addresses: addresses})
}

// PutTSIGKey creates or replaces a TSIG key.
func (w *Writer) PutTSIGKey(ctx context.Context, k zone.TSIGKey) (uint64, error) {
	return w.propose(ctx, OpPutTSIGKey, PutTSIGKey{Key: k})
}

// DeleteTSIGKey removes a TSIG key that no zone uses.
func (w *Writer) DeleteTSIGKey(ctx context.Context, name string) (uint64, error) {
	return w.propose(ctx, OpDeleteTSIGKey, DeleteTSIGKey{Name: name})
}

// SetTransfer replaces a zone's transfer settings.
func (w *Writer) SetTransfer(ctx context.Context, zoneName string, t zone.Transfer) (uint64, error) {
	return w.propose(ctx, OpSetTransfer, SetTransfer{Zone: zoneName, Transfer: t})
}

// propose validates the command against the local state, then applies it
// through Raft.
func (w *Writer) propose(ctx context.Context, op Op, data any) (uint64, error) {
	b, err := Encode(op, data)
	if err != nil {
		return 0, err
	}
	if err := w.validate(b); err != nil {
		// The local state may lag the leader's: catch up and check again.
		if w.CatchUp == nil || w.CatchUp(ctx) != nil {
			return 0, err
		}
		if err := w.validate(b); err != nil {
			return 0, err
		}
	}
	return w.applier.Apply(ctx, b)
}

// validate dry-runs command b against the local state.
func (w *Writer) validate(b []byte) error {
	cur := w.fsm.State()
	_, err := apply(cur, b, cur.Index+1, 0)
	return err
}

// NewID returns a random record ID: 16 hex characters.
func NewID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b[:])
}
