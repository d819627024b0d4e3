package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/zone"
)

// ZoneInfo is a zone as the API shows it. Listings leave SOA out.
type ZoneInfo struct {
	Name    string    `json:"name"`    // canonical apex, "example.com."
	Serial  uint32    `json:"serial"`  // SOA serial: the low 32 bits of Index
	Records int       `json:"records"` // number of records, the SOA not counted
	Index   uint64    `json:"index"`   // Raft index of the zone's last change
	SOA     *zone.SOA `json:"soa,omitempty"`
}

// importPrealloc bounds the buffer reserved up front for an import from
// its Content-Length.
const importPrealloc = 32 << 20

// ImportResult is the data of a zone import's reply.
type ImportResult struct {
	Records int `json:"records"` // records the zone holds now
}

// createZoneRequest is the body of POST /zones.
type createZoneRequest struct {
	Name string `json:"name"`
}

// deletedZone is the data of DELETE /zones/{zone}'s reply.
type deletedZone struct {
	Name string `json:"name"`
}

func zoneInfo(z *zone.Zone, withSOA bool) ZoneInfo {
	zi := ZoneInfo{Name: z.Name(), Serial: z.Serial(), Records: z.Len(), Index: z.Index()}
	if withSOA {
		soa := z.SOAFields()
		zi.SOA = &soa
	}
	return zi
}

// zoneAt finds the zone named in the path, or replies 404.
func (s *server) zoneAt(w http.ResponseWriter, r *http.Request, v *zone.View) (*zone.Zone, bool) {
	name := r.PathValue("zone")
	z := v.Zone(name)
	if z == nil {
		s.fail(w, r, notFound("zone %q not found", name))
		return nil, false
	}
	return z, true
}

func (s *server) listZones(w http.ResponseWriter, r *http.Request) {
	v, ok := s.readView(w, r, cluster.Leader)
	if !ok {
		return
	}
	zones := v.Zones()
	out := make([]ZoneInfo, len(zones))
	for i, z := range zones {
		out[i] = zoneInfo(z, false)
	}
	s.ok(w, out)
}

func (s *server) getZone(w http.ResponseWriter, r *http.Request) {
	v, ok := s.readView(w, r, cluster.Leader)
	if !ok {
		return
	}
	if z, ok := s.zoneAt(w, r, v); ok {
		s.ok(w, zoneInfo(z, true))
	}
}

func (s *server) createZone(w http.ResponseWriter, r *http.Request) {
	var req createZoneRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		s.fail(w, r, invalid(`field "name": the zone name is required, for example "example.com"`))
		return
	}
	apex, err := zone.CanonicalName(req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	index, err := s.cfg.Writer.CreateZone(r.Context(), apex)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusCreated, s.createdZone(apex, index), index)
}

// createdZone describes the zone just created at index. On a follower the
// local state may not have applied index yet; the new zone is then exactly
// what the create command holds: empty, with the default SOA.
func (s *server) createdZone(apex string, index uint64) ZoneInfo {
	if z := s.cfg.State.View().Zone(apex); z != nil && z.CreatedIndex() == index {
		return zoneInfo(z, true)
	}
	soa := zone.DefaultSOA(apex)
	return ZoneInfo{Name: apex, Serial: uint32(index), Index: index, SOA: &soa}
}

func (s *server) deleteZone(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("zone")
	apex, err := zone.CanonicalName(name)
	if err != nil {
		s.fail(w, r, notFound("zone %q not found", name))
		return
	}
	index, err := s.cfg.Writer.DeleteZone(r.Context(), apex)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusOK, deletedZone{Name: apex}, index)
}

func (s *server) exportZone(w http.ResponseWriter, r *http.Request) {
	v, ok := s.readView(w, r, cluster.Leader)
	if !ok {
		return
	}
	z, ok := s.zoneAt(w, r, v)
	if !ok {
		return
	}
	text := zone.ExportText(z)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.TrimSuffix(z.Name(), ".")+".zone"))
	_, _ = io.WriteString(w, text)
}

// importZone replaces a zone's records (and its SOA settings, when the file
// has a SOA) with an RFC 1035 file, as one change: all of it or nothing.
func (s *server) importZone(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("zone")
	apex, err := zone.CanonicalName(name)
	if err != nil {
		s.fail(w, r, notFound("zone %q not found", name))
		return
	}
	var text strings.Builder
	if n := r.ContentLength; n > maxImportBody {
		s.fail(w, r, tooLarge(maxImportBody))
		return
	} else if n > 0 {
		text.Grow(int(min(n, importPrealloc))) // a claimed length is not trusted further
	}
	if _, err := io.Copy(&text, http.MaxBytesReader(w, r.Body, maxImportBody)); err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = badRequest("cannot read the request body: %v", err)
		}
		s.fail(w, r, err)
		return
	}
	zf, err := zone.ParseZoneFile(apex, text.String())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	index, err := s.cfg.Writer.ReplaceZone(r.Context(), apex, zf.SOA, zf.Records)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusOK, ImportResult{Records: len(zf.Records)}, index)
}
