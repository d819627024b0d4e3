package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/zone"
)

// TransferWriter proposes TSIG key and zone-transfer changes. fsm.Writer
// satisfies it.
type TransferWriter interface {
	PutTSIGKey(ctx context.Context, k zone.TSIGKey) (uint64, error)
	DeleteTSIGKey(ctx context.Context, name string) (uint64, error)
	SetTransfer(ctx context.Context, zoneName string, t zone.Transfer) (uint64, error)
}

// TSIGKeyInfo is a TSIG key as the API shows it: never the secret.
type TSIGKeyInfo struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
}

// TSIGKeyRequest is the body of POST /tsig-keys.
type TSIGKeyRequest struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm,omitempty"` // hmac-sha256 (default) or hmac-sha512
	Secret    string `json:"secret"`              // base64
}

// TransferSettings is the body and reply of /zones/{zone}/transfer.
type TransferSettings struct {
	Allow   []string `json:"allow"`    // CIDR prefixes allowed to transfer
	TSIGKey string   `json:"tsig_key"` // "" or the key transfers must be signed with
	Notify  []string `json:"notify"`   // "ip:port" secondaries to NOTIFY
}

func keyInfo(k zone.TSIGKey) TSIGKeyInfo {
	return TSIGKeyInfo{Name: k.Name, Algorithm: k.AlgorithmName()}
}

func (s *server) transferRoutes() {
	if s.cfg.Transfers == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /api/v1/tsig-keys", s.listTSIGKeys)
	m.HandleFunc("POST /api/v1/tsig-keys", s.createTSIGKey)
	m.HandleFunc("DELETE /api/v1/tsig-keys/{name}", s.deleteTSIGKey)
	m.HandleFunc("GET /api/v1/zones/{zone}/transfer", s.getTransfer)
	m.HandleFunc("PUT /api/v1/zones/{zone}/transfer", s.putTransfer)
}

func (s *server) listTSIGKeys(w http.ResponseWriter, r *http.Request) {
	v, ok := s.readView(w, r, cluster.Leader)
	if !ok {
		return
	}
	keys := v.TSIGKeys()
	out := make([]TSIGKeyInfo, len(keys))
	for i, k := range keys {
		out[i] = keyInfo(k)
	}
	s.ok(w, out)
}

func (s *server) createTSIGKey(w http.ResponseWriter, r *http.Request) {
	var req TSIGKeyRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := zone.ValidateTSIGKey(zone.TSIGKey{Name: req.Name, Algorithm: req.Algorithm, Secret: req.Secret})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	index, err := s.cfg.Transfers.PutTSIGKey(r.Context(), k)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusCreated, keyInfo(k), index)
}

func (s *server) deleteTSIGKey(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	index, err := s.cfg.Transfers.DeleteTSIGKey(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusOK, TSIGKeyInfo{Name: name}, index)
}

func (s *server) getTransfer(w http.ResponseWriter, r *http.Request) {
	v, ok := s.readView(w, r, cluster.Leader)
	if !ok {
		return
	}
	if z, ok := s.zoneAt(w, r, v); ok {
		s.ok(w, transferSettings(z.Transfer()))
	}
}

func transferSettings(t zone.Transfer) TransferSettings {
	out := TransferSettings{Allow: t.Allow, TSIGKey: t.TSIGKey, Notify: t.Notify}
	if out.Allow == nil {
		out.Allow = []string{}
	}
	if out.Notify == nil {
		out.Notify = []string{}
	}
	return out
}

func (s *server) putTransfer(w http.ResponseWriter, r *http.Request) {
	var req TransferSettings
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	z, ok := s.zoneAt(w, r, s.cfg.State.View())
	if !ok {
		return
	}
	t := zone.Transfer{Allow: req.Allow, TSIGKey: req.TSIGKey, Notify: req.Notify}
	index, err := s.cfg.Transfers.SetTransfer(r.Context(), z.Name(), t)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if nz := s.cfg.State.View().Zone(z.Name()); nz != nil {
		t = nz.Transfer()
	}
	s.written(w, http.StatusOK, transferSettings(t), index)
}

// TSIGKeys lists the TSIG keys (names and algorithms; never secrets).
func (c *Client) TSIGKeys(ctx context.Context) ([]TSIGKeyInfo, error) {
	var out []TSIGKeyInfo
	_, err := c.do(ctx, http.MethodGet, "/tsig-keys", c.readQuery(nil), nil, &out)
	return out, err
}

// CreateTSIGKey creates or replaces a TSIG key.
func (c *Client) CreateTSIGKey(ctx context.Context, k TSIGKeyRequest) (TSIGKeyInfo, uint64, error) {
	var out TSIGKeyInfo
	index, err := c.do(ctx, http.MethodPost, "/tsig-keys", nil, jsonBody(k), &out)
	return out, index, err
}

// DeleteTSIGKey deletes a TSIG key that no zone uses.
func (c *Client) DeleteTSIGKey(ctx context.Context, name string) (uint64, error) {
	return c.do(ctx, http.MethodDelete, "/tsig-keys/"+url.PathEscape(name), nil, nil, nil)
}

// Transfer returns a zone's transfer settings.
func (c *Client) Transfer(ctx context.Context, zoneName string) (TransferSettings, error) {
	var out TransferSettings
	_, err := c.do(ctx, http.MethodGet, "/zones/"+url.PathEscape(zoneName)+"/transfer", c.readQuery(nil), nil, &out)
	return out, err
}

// SetTransfer replaces a zone's transfer settings.
func (c *Client) SetTransfer(ctx context.Context, zoneName string, t TransferSettings) (TransferSettings, uint64, error) {
	var out TransferSettings
	index, err := c.do(ctx, http.MethodPut, "/zones/"+url.PathEscape(zoneName)+"/transfer", nil, jsonBody(t), &out)
	return out, index, err
}
