package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/zone"
)

// Client calls the resolvx API. API failures come back as *Error.
type Client struct {
	base        string // without a trailing slash
	hc          *http.Client
	consistency cluster.Consistency // "" : the server's default
}

// NewClient returns a client of the API at baseURL ("http://127.0.0.1:8080").
// hc nil uses http.DefaultClient; bound calls with their ctx.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

// WithConsistency returns a copy of c whose reads ask for level.
func (c *Client) WithConsistency(level cluster.Consistency) *Client {
	cc := *c
	cc.consistency = level
	return &cc
}

// Zones lists every zone (without SOA settings).
func (c *Client) Zones(ctx context.Context) ([]ZoneInfo, error) {
	var out []ZoneInfo
	_, err := c.do(ctx, http.MethodGet, "/zones", c.readQuery(nil), nil, &out)
	return out, err
}

// Zone returns one zone with its SOA settings.
func (c *Client) Zone(ctx context.Context, name string) (ZoneInfo, error) {
	var out ZoneInfo
	_, err := c.do(ctx, http.MethodGet, "/zones/"+url.PathEscape(name), c.readQuery(nil), nil, &out)
	return out, err
}

// CreateZone creates an empty zone and returns it with the Raft index.
func (c *Client) CreateZone(ctx context.Context, name string) (ZoneInfo, uint64, error) {
	var out ZoneInfo
	index, err := c.do(ctx, http.MethodPost, "/zones", nil, jsonBody(createZoneRequest{Name: name}), &out)
	return out, index, err
}

// DeleteZone deletes a zone with its records.
func (c *Client) DeleteZone(ctx context.Context, name string) (uint64, error) {
	return c.do(ctx, http.MethodDelete, "/zones/"+url.PathEscape(name), nil, nil, nil)
}

// ExportZone returns the zone as an RFC 1035 master file.
func (c *Client) ExportZone(ctx context.Context, name string) (string, error) {
	var text string
	_, err := c.do(ctx, http.MethodGet, "/zones/"+url.PathEscape(name)+"/export", c.readQuery(nil), nil, &text)
	return text, err
}

// ImportZone replaces the zone's records (and SOA settings, when the file
// has a SOA) with an RFC 1035 master file, as one change. It returns the
// number of records the zone holds now.
func (c *Client) ImportZone(ctx context.Context, name string, text io.Reader) (int, uint64, error) {
	var out ImportResult
	index, err := c.do(ctx, http.MethodPost, "/zones/"+url.PathEscape(name)+"/import", nil,
		&body{r: text, contentType: "text/plain; charset=utf-8"}, &out)
	return out.Records, index, err
}

// Records lists a zone's records; typ and name ("www", "@" or a FQDN)
// filter when not empty.
func (c *Client) Records(ctx context.Context, zoneName, typ, name string) ([]zone.Record, error) {
	q := url.Values{}
	if typ != "" {
		q.Set("type", typ)
	}
	if name != "" {
		q.Set("name", name)
	}
	var out []zone.Record
	_, err := c.do(ctx, http.MethodGet, "/zones/"+url.PathEscape(zoneName)+"/records", c.readQuery(q), nil, &out)
	return out, err
}

// Record returns one record by ID.
func (c *Client) Record(ctx context.Context, zoneName, id string) (zone.Record, error) {
	var out zone.Record
	_, err := c.do(ctx, http.MethodGet, recordPath(zoneName, id), c.readQuery(nil), nil, &out)
	return out, err
}

// CreateRecord adds a record and returns it as stored, with its new ID.
func (c *Client) CreateRecord(ctx context.Context, zoneName string, r RecordRequest) (zone.Record, uint64, error) {
	var out zone.Record
	index, err := c.do(ctx, http.MethodPost, "/zones/"+url.PathEscape(zoneName)+"/records", nil, jsonBody(r), &out)
	return out, index, err
}

// UpdateRecord replaces the record id with r, keeping the ID.
func (c *Client) UpdateRecord(ctx context.Context, zoneName, id string, r RecordRequest) (zone.Record, uint64, error) {
	var out zone.Record
	index, err := c.do(ctx, http.MethodPut, recordPath(zoneName, id), nil, jsonBody(r), &out)
	return out, index, err
}

// DeleteRecord removes the record id.
func (c *Client) DeleteRecord(ctx context.Context, zoneName, id string) (uint64, error) {
	return c.do(ctx, http.MethodDelete, recordPath(zoneName, id), nil, nil, nil)
}

// ClusterStatus returns the cluster as the node behind the API sees it.
func (c *Client) ClusterStatus(ctx context.Context) (cluster.Status, error) {
	var out cluster.Status
	_, err := c.do(ctx, http.MethodGet, "/cluster", nil, nil, &out)
	return out, err
}

// ClusterNode returns the node behind the API.
func (c *Client) ClusterNode(ctx context.Context) (cluster.NodeStatus, error) {
	var out cluster.NodeStatus
	_, err := c.do(ctx, http.MethodGet, "/cluster/node", nil, nil, &out)
	return out, err
}

// Leave takes the node behind the API out of the cluster; it then shuts
// down.
func (c *Client) Leave(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodPost, "/cluster/leave", nil, nil, nil)
	return err
}

// RemoveNode removes the member id from the cluster.
func (c *Client) RemoveNode(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/cluster/nodes/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// Status returns the node behind the API at a glance.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	_, err := c.do(ctx, http.MethodGet, "/status", c.readQuery(nil), nil, &out)
	return out, err
}

func recordPath(zoneName, id string) string {
	return "/zones/" + url.PathEscape(zoneName) + "/records/" + url.PathEscape(id)
}

// readQuery adds the client's read level to q.
func (c *Client) readQuery(q url.Values) url.Values {
	if c.consistency == "" {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("consistency", string(c.consistency))
	return q
}

// body is a request body with its content type.
type body struct {
	r           io.Reader
	contentType string
	err         error
}

func jsonBody(v any) *body {
	b, err := json.Marshal(v)
	return &body{r: bytes.NewReader(b), contentType: "application/json", err: err}
}

// replyEnvelope is the envelope as the client reads it.
type replyEnvelope struct {
	Data  json.RawMessage `json:"data"`
	Error *Error          `json:"error"`
	Index uint64          `json:"index"`
}

// maxReply bounds a JSON reply the client reads (a zone with very many
// records lists large).
const maxReply = 1 << 30

// do sends one request to /api/v1+path and decodes the reply's data into
// out: a *string takes a text/plain reply as it is. It returns the write's
// Raft index (0 for reads).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in *body, out any) (uint64, error) {
	if b, err := url.Parse(c.base); err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return 0, fmt.Errorf("the API address %q is not a URL like http://127.0.0.1:8080; set --api or RESOLVX_API", c.base)
	}
	u := c.base + "/api/v1" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if in != nil {
		if in.err != nil {
			return 0, fmt.Errorf("encoding the request: %w", in.err)
		}
		rd = in.r
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("building the request to %s: %w", c.base, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", in.contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, c.transportError(ctx, err)
	}
	defer resp.Body.Close()

	if text, ok := out.(*string); ok && resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		var b strings.Builder
		if _, err := io.Copy(&b, resp.Body); err != nil {
			return 0, fmt.Errorf("reading the reply from %s: %w", c.base, err)
		}
		*text = b.String()
		return 0, nil
	}
	var env replyEnvelope
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxReply))
	if err := dec.Decode(&env); err != nil || (env.Error == nil && env.Data == nil) {
		return 0, fmt.Errorf("unexpected reply from the resolvx API at %s: HTTP %s (not a resolvx API reply)", c.base, resp.Status)
	}
	if env.Error != nil {
		env.Error.HTTPStatus = resp.StatusCode
		return 0, env.Error
	}
	if resp.StatusCode >= 300 {
		return 0, fmt.Errorf("unexpected reply from the resolvx API at %s: HTTP %s", c.base, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return 0, fmt.Errorf("decoding the reply from %s %s: %w", method, path, err)
		}
	}
	index := env.Index
	if index == 0 {
		index, _ = strconv.ParseUint(resp.Header.Get(IndexHeader), 10, 64)
	}
	return index, nil
}

// transportError explains a request that got no reply.
func (c *Client) transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("resolvx API at %s: %w", c.base, ctxErr)
	}
	return &unreachableError{base: c.base, reason: reason(err), err: err}
}

// unreachableError is a request that could not reach the API.
type unreachableError struct {
	base   string
	reason string
	err    error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the resolvx API at %s: %s; is the server running? set --api or RESOLVX_API", e.base, e.reason)
}

func (e *unreachableError) Unwrap() error { return e.err }

// reason is the root cause of a transport error in a few words
// ("connection refused", "no such host").
func reason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
