package fsm

import (
	"encoding/json"
	"fmt"

	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// Version is the command encoding this build writes. Apply accepts every
// version up to it; a newer entry (from a newer build) is rejected, not
// guessed at.
const Version = 1

// Op names a command.
type Op string

// The commands.
const (
	OpCreateZone     Op = "zone.create"
	OpDeleteZone     Op = "zone.delete"
	OpSetSOA         Op = "zone.set_soa"
	OpChangeRecords  Op = "records.change"
	OpReplaceRecords Op = "records.replace"
	OpPutPolicy      Op = "policy.put"
	OpDeletePolicy   Op = "policy.delete"
	OpVIPRelease     Op = "vip.release"
	OpPutTSIGKey     Op = "tsig.put"
	OpDeleteTSIGKey  Op = "tsig.delete"
	OpSetTransfer    Op = "zone.set_transfer"
	OpSetVerdicts    Op = "health.set_verdicts"
	OpPatchEndpoint  Op = "policy.patch_endpoint"
)

// Command is the envelope of every Raft log entry the FSM understands.
type Command struct {
	V    int             `json:"v"`
	Op   Op              `json:"op"`
	Data json.RawMessage `json:"data"`
}

// CreateZone creates an empty zone.
type CreateZone struct {
	Name string   `json:"name"`
	SOA  zone.SOA `json:"soa"`
}

// DeleteZone removes a zone and its records and policies.
type DeleteZone struct {
	Name string `json:"name"`
}

// SetSOA changes a zone's SOA settings.
type SetSOA struct {
	Zone string   `json:"zone"`
	SOA  zone.SOA `json:"soa"`
}

// ChangeRecords applies an atomic change set to one zone.
type ChangeRecords struct {
	Zone    string        `json:"zone"`
	Changes []zone.Change `json:"changes"`
}

// ReplaceRecords replaces every record of a zone (a zone import). SOA, when
// set, replaces the zone's SOA settings in the same step.
type ReplaceRecords struct {
	Zone    string        `json:"zone"`
	Records []zone.Record `json:"records"`
	SOA     *zone.SOA     `json:"soa,omitempty"`
}

// PutPolicy creates or replaces a GTM policy; with Create set, a policy of
// the same name already there rejects it (ALREADY_EXISTS), so two creates
// racing on different nodes cannot both succeed.
type PutPolicy struct {
	Policy gtm.Policy `json:"policy"`
	Create bool       `json:"create,omitempty"`
}

// DeletePolicy removes a GTM policy.
type DeletePolicy struct {
	Name string `json:"name"`
}

// SetVerdicts commits the health verdicts of one policy, as the leader
// decided them from the nodes' observations. Addresses holds the address
// of each endpoint the verdicts were decided for: if the policy changed
// since, the command is rejected whole.
type SetVerdicts struct {
	Policy    string            `json:"policy"`
	Verdicts  gtm.Verdicts      `json:"verdicts"`
	Addresses map[string]string `json:"addresses,omitempty"`
}

// PatchEndpoint changes some fields of one endpoint of a policy (a new
// weight, or draining it) without rewriting the rest.
type PatchEndpoint struct {
	Policy   string            `json:"policy"`
	Endpoint string            `json:"endpoint"`
	Patch    gtm.EndpointPatch `json:"patch"`
}

// VIPRelease records that the leader NodeID, in Term, removed the VIP and
// will not hold it again in that term (a graceful stop or leave): a leader
// of the next term may claim the VIP at once instead of waiting out the
// lease. Only the leader of Term proposes it, locally (never forwarded), so
// Term must equal the term of the log entry that carries it.
type VIPRelease struct {
	NodeID string `json:"node_id"`
	Term   uint64 `json:"term"`
}

// PutTSIGKey creates or replaces a TSIG key. The secret is in the log (and
// snapshots) so every node can verify transfers; it is never logged.
type PutTSIGKey struct {
	Key zone.TSIGKey `json:"key"`
}

// DeleteTSIGKey removes a TSIG key no zone uses.
type DeleteTSIGKey struct {
	Name string `json:"name"`
}

// SetTransfer replaces a zone's zone-transfer settings (ACL, TSIG key,
// NOTIFY targets).
type SetTransfer struct {
	Zone     string        `json:"zone"`
	Transfer zone.Transfer `json:"transfer"`
}

// Encode builds the log entry for op with payload data.
func Encode(op Op, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("fsm: encode %s: %w", op, err)
	}
	return json.Marshal(Command{V: Version, Op: op, Data: raw})
}

// Decode reads a log entry's envelope.
func Decode(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: undecodable command: %v", ErrBadCommand, err)
	}
	if c.V < 1 || c.V > Version {
		return c, fmt.Errorf("%w: command version %d is not supported by this build (supports 1..%d)", ErrBadCommand, c.V, Version)
	}
	return c, nil
}
