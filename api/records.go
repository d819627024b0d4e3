package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/zone"
)

// DefaultTTL is the TTL of a record created without one.
const DefaultTTL = 3600

// RecordRequest is the body of POST /zones/{zone}/records and of PUT
// /zones/{zone}/records/{id} (a full replacement).
type RecordRequest struct {
	// Name is the owner: relative to the zone ("www"), "@" for the apex, or
	// fully qualified with a trailing dot ("www.example.com.").
	Name  string `json:"name"`
	Type  string `json:"type"`  // any case: "A", "mx"
	Value string `json:"value"` // presentation format, without the priority
	// TTL in seconds, 0..2147483647; nil means DefaultTTL.
	TTL *uint32 `json:"ttl,omitempty" want:"a number 0..2147483647"`
	// Priority is the MX preference or the SRV priority; nil means 0.
	Priority *uint16 `json:"priority,omitempty"`
}

// deletedRecord is the data of DELETE /zones/{zone}/records/{id}'s reply.
type deletedRecord struct {
	ID string `json:"id"`
}

// decodeRecordRequest reads a record request strictly: the JSON must be one
// object of the known fields with values of the right types, and the TTL
// must be in range (a negative TTL or one over 4294967295 already fails to
// decode into uint32; the range check catches 2147483648..4294967295).
// Anything else is an INVALID_REQUEST error.
func decodeRecordRequest(rd io.Reader) (RecordRequest, error) {
	var req RecordRequest
	if err := decodeStrict(rd, &req); err != nil {
		return RecordRequest{}, err
	}
	if req.TTL != nil && *req.TTL > zone.MaxTTL {
		return RecordRequest{}, badRequest(`field "ttl": %d is out of range; must be a number 0..%d`, *req.TTL, zone.MaxTTL)
	}
	return req, nil
}

// buildRecord validates req as a record of the zone apex and returns it in
// canonical form, without an ID. Failures are VALIDATION_ERROR.
func buildRecord(apex string, req RecordRequest) (zone.Record, error) {
	if strings.TrimSpace(req.Name) == "" {
		return zone.Record{}, invalid(`field "name": the record name is required (use "@" for the zone apex)`)
	}
	if strings.TrimSpace(req.Type) == "" {
		return zone.Record{}, invalid(`field "type": the record type is required (one of %s)`, strings.Join(zone.SupportedTypes(), ", "))
	}
	ttl, priority := uint32(DefaultTTL), uint16(0)
	if req.TTL != nil {
		ttl = *req.TTL // NewRecord range-checks it too
	}
	if req.Priority != nil {
		priority = *req.Priority
	}
	return zone.NewRecord(apex, req.Name, req.Type, req.Value, ttl, priority)
}

// newRecordID returns a random record ID: 16 hex characters.
func newRecordID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("drawing a record ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// recordBody decodes the record of a create or update for the zone named in
// the path, which must exist in the local state. On failure it has replied.
func (s *server) recordBody(w http.ResponseWriter, r *http.Request) (zone.Record, string, bool) {
	z, ok := s.zoneAt(w, r, s.cfg.State.View())
	if !ok {
		return zone.Record{}, "", false
	}
	req, err := decodeRecordRequest(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		s.fail(w, r, err)
		return zone.Record{}, "", false
	}
	rec, err := buildRecord(z.Name(), req)
	if err != nil {
		s.fail(w, r, err)
		return zone.Record{}, "", false
	}
	return rec, z.Name(), true
}

func (s *server) listRecords(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typ := strings.ToUpper(strings.TrimSpace(q.Get("type")))
	if typ != "" && !slices.Contains(zone.SupportedTypes(), typ) {
		s.fail(w, r, badRequest("type %q is not a record type (one of %s)", q.Get("type"), strings.Join(zone.SupportedTypes(), ", ")))
		return
	}
	v, ok := s.readView(w, r, cluster.Leader)
	if !ok {
		return
	}
	z, ok := s.zoneAt(w, r, v)
	if !ok {
		return
	}
	owner := ""
	if name := strings.TrimSpace(q.Get("name")); name != "" {
		var err error
		if owner, err = ownerOf(z.Name(), name); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	out := []zone.Record{}
	for _, rec := range z.Records() {
		if (typ == "" || rec.Type == typ) && (owner == "" || rec.Name == owner) {
			out = append(out, rec)
		}
	}
	s.ok(w, out)
}

// ownerOf reads a ?name= filter: relative to apex, "@", or fully qualified.
func ownerOf(apex, name string) (string, error) {
	full := name
	switch {
	case name == "@":
		full = apex
	case strings.HasSuffix(name, "."):
	case apex == ".":
		full = name + "."
	default:
		full = name + "." + apex
	}
	owner, err := zone.CanonicalName(full)
	if err != nil {
		return "", badRequest("query parameter name: %s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	return owner, nil
}

func (s *server) getRecord(w http.ResponseWriter, r *http.Request) {
	v, ok := s.readView(w, r, cluster.Leader)
	if !ok {
		return
	}
	z, ok := s.zoneAt(w, r, v)
	if !ok {
		return
	}
	id := r.PathValue("id")
	rec, found := z.Record(id)
	if !found {
		s.fail(w, r, notFound("record %q not found in zone %s", id, z.Name()))
		return
	}
	s.ok(w, rec)
}

func (s *server) createRecord(w http.ResponseWriter, r *http.Request) {
	rec, apex, ok := s.recordBody(w, r)
	if !ok {
		return
	}
	id, err := newRecordID()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec.ID = id
	index, err := s.cfg.Writer.ChangeRecords(r.Context(), apex, []zone.Change{{Op: zone.OpAdd, Record: rec}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusCreated, rec, index)
}

func (s *server) updateRecord(w http.ResponseWriter, r *http.Request) {
	rec, apex, ok := s.recordBody(w, r)
	if !ok {
		return
	}
	rec.ID = r.PathValue("id")
	index, err := s.cfg.Writer.ChangeRecords(r.Context(), apex, []zone.Change{{Op: zone.OpUpdate, Record: rec}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusOK, rec, index)
}

func (s *server) deleteRecord(w http.ResponseWriter, r *http.Request) {
	z, ok := s.zoneAt(w, r, s.cfg.State.View())
	if !ok {
		return
	}
	id := r.PathValue("id")
	index, err := s.cfg.Writer.ChangeRecords(r.Context(), z.Name(), []zone.Change{{Op: zone.OpDelete, ID: id}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusOK, deletedRecord{ID: id}, index)
}
