package fsm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// snapshotFormat names the snapshot stream; snapshotVersion is its version.
const (
	snapshotFormat  = "resolvx-state"
	snapshotVersion = 1
)

// The snapshot is a stream of JSON values: one header, then one zoneEntry
// per zone, then one gtm.Policy per policy. Streaming keeps memory bounded
// by the largest zone rather than the whole state.
//
// VIPRelease was added to version 1 without a version bump: it is optional
// (a snapshot without it restores as "no release", which only makes a new
// leader wait out the VIP lease) and older builds ignore it. TSIGKeys and a
// zone's Transfer were added the same way: absent, they restore as none;
// so were the committed health Verdicts (absent: every endpoint unknown).
// The IXFR history is not in snapshots: a node restored from one answers
// IXFR for older serials with a full transfer (RFC 1995 §4 allows it).
type snapshotHeader struct {
	Format     string            `json:"format"`
	Version    int               `json:"version"`
	Index      uint64            `json:"index"`
	Zones      int               `json:"zones"`
	Policies   int               `json:"policies"`
	VIPRelease *VIPReleaseRecord `json:"vip_release,omitempty"`
	TSIGKeys   []zone.TSIGKey    `json:"tsig_keys,omitempty"`
	// Verdicts holds the committed verdicts by policy name.
	Verdicts map[string]gtm.Verdicts `json:"verdicts,omitempty"`
}

type zoneEntry struct {
	Name     string         `json:"name"`
	SOA      zone.SOA       `json:"soa"`
	Created  uint64         `json:"created"`
	Index    uint64         `json:"index"`
	Records  []zone.Record  `json:"records"`
	Transfer *zone.Transfer `json:"transfer,omitempty"`
}

type snapshot struct{ state *State }

// Persist writes the state to the sink.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriterSize(sink, 1<<20)
	if err := writeSnapshot(w, s.state); err != nil {
		sink.Cancel()
		return err
	}
	if err := w.Flush(); err != nil {
		sink.Cancel()
		return fmt.Errorf("fsm: snapshot: %w", err)
	}
	return sink.Close()
}

// Release is a no-op: the state is immutable and garbage collected.
func (s *snapshot) Release() {}

func writeSnapshot(w io.Writer, st *State) error {
	enc := json.NewEncoder(w)
	zones := st.Zones.Zones()
	policies := st.Policies()
	h := snapshotHeader{Format: snapshotFormat, Version: snapshotVersion, Index: st.Index, Zones: len(zones), Policies: len(policies)}
	if rel, ok := st.LastVIPRelease(); ok {
		h.VIPRelease = &rel
	}
	h.TSIGKeys = st.Zones.TSIGKeys()
	for _, p := range policies {
		if v := st.Verdicts(p.Name); len(v.Health) > 0 || v.Preferred != "" || len(v.LatencyMS) > 0 {
			if h.Verdicts == nil {
				h.Verdicts = map[string]gtm.Verdicts{}
			}
			h.Verdicts[p.Name] = v
		}
	}
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("fsm: snapshot header: %w", err)
	}
	for _, z := range zones {
		e := zoneEntry{Name: z.Name(), SOA: z.SOAFields(), Created: z.CreatedIndex(), Index: z.Index(), Records: z.Records()}
		if t := z.Transfer(); len(t.Allow) > 0 || t.TSIGKey != "" || len(t.Notify) > 0 {
			e.Transfer = &t
		}
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("fsm: snapshot zone %s: %w", z.Name(), err)
		}
	}
	for _, p := range policies {
		if err := enc.Encode(p); err != nil {
			return fmt.Errorf("fsm: snapshot policy %s: %w", p.Name, err)
		}
	}
	return nil
}

// readSnapshot rebuilds a State from a snapshot stream, validating all of it
// before anything is used: a corrupt snapshot is an error, never half a state.
func readSnapshot(r io.Reader) (*State, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if h.Format != snapshotFormat || h.Version < 1 || h.Version > snapshotVersion {
		return nil, fmt.Errorf("not a %s snapshot of version 1..%d (format %q version %d)", snapshotFormat, snapshotVersion, h.Format, h.Version)
	}
	if h.Zones < 0 || h.Policies < 0 {
		return nil, fmt.Errorf("header counts are negative")
	}
	st := emptyState()
	st.Index = h.Index
	if r := h.VIPRelease; r != nil {
		if r.NodeID == "" || r.Term == 0 || r.Index > h.Index {
			return nil, fmt.Errorf("invalid vip_release %+v", *r)
		}
		st.vipRelease = *r
	}
	for _, k := range h.TSIGKeys {
		if _, dup := st.Zones.TSIGKey(k.Name); dup {
			return nil, fmt.Errorf("TSIG key %s appears twice", k.Name)
		}
		v, err := st.Zones.PutTSIGKey(k)
		if err != nil {
			return nil, fmt.Errorf("TSIG key %s: %w", k.Name, err)
		}
		st.Zones = v
	}
	for i := 0; i < h.Zones; i++ {
		var e zoneEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("zone %d of %d: %w", i+1, h.Zones, err)
		}
		z, err := zone.BuildZone(e.Name, e.SOA, e.Created, e.Index, e.Records)
		if err != nil {
			return nil, fmt.Errorf("zone %d of %d: %w", i+1, h.Zones, err)
		}
		if st.Zones.Zone(z.Name()) != nil {
			return nil, fmt.Errorf("zone %s appears twice", z.Name())
		}
		st.Zones = st.Zones.PutZone(z)
		if e.Transfer != nil {
			if st.Zones, err = st.Zones.SetTransfer(z.Name(), *e.Transfer); err != nil {
				return nil, fmt.Errorf("zone %s: transfer: %w", z.Name(), err)
			}
		}
	}
	for i := 0; i < h.Policies; i++ {
		var p gtm.Policy
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("policy %d of %d: %w", i+1, h.Policies, err)
		}
		if _, dup := st.policies.Get(p.Name); dup {
			return nil, fmt.Errorf("policy %s appears twice", p.Name)
		}
		ns, err := st.withPolicy(p)
		if err != nil {
			return nil, fmt.Errorf("policy %d of %d: %w", i+1, h.Policies, err)
		}
		st = ns
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after %d zones and %d policies", h.Zones, h.Policies)
	}
	for name, v := range h.Verdicts {
		ns, err := st.withVerdicts(SetVerdicts{Policy: name, Verdicts: v})
		if err != nil {
			return nil, fmt.Errorf("verdicts: %w", err)
		}
		st = ns
	}
	return st, nil
}
