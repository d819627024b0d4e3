package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/gtm"
	"github.com/resolvx/resolvx/zone"
)

// CodeNotImplemented is the code of a route this node does not serve
// because the part of resolvx behind it is not configured (501).
const CodeNotImplemented = "NOT_IMPLEMENTED"

// notImplemented returns a NOT_IMPLEMENTED error (501).
func notImplemented(format string, args ...any) error {
	return &requestError{status: http.StatusNotImplemented, code: CodeNotImplemented, msg: fmt.Sprintf(format, args...)}
}

// conflict returns an ALREADY_EXISTS error (409).
func conflict(format string, args ...any) error {
	return &requestError{code: CodeAlreadyExists, msg: fmt.Sprintf(format, args...)}
}

// deletedPolicy is the data of DELETE /policies/{name}'s reply.
type deletedPolicy struct {
	Name string `json:"name"`
}

func (s *server) policyRoutes() {
	m := s.mux
	m.HandleFunc("GET /api/v1/policies", s.listPolicies)
	m.HandleFunc("POST /api/v1/policies", s.createPolicy)
	m.HandleFunc("GET /api/v1/policies/{name}", s.getPolicy)
	m.HandleFunc("PUT /api/v1/policies/{name}", s.putPolicy)
	m.HandleFunc("DELETE /api/v1/policies/{name}", s.deletePolicy)
	m.HandleFunc("PATCH /api/v1/policies/{name}/endpoints/{endpoint}", s.patchEndpoint)
	m.HandleFunc("GET /api/v1/policies/{name}/health", s.policyHealth)
	m.HandleFunc("GET /api/v1/health", s.health)
	m.HandleFunc("GET /api/v1/explain", s.explain)
}

// policiesEnabled replies 501 when this node's API has no policy store
// (writes need the writer too).
func (s *server) policiesEnabled(w http.ResponseWriter, r *http.Request, write bool) bool {
	if s.cfg.PolicyState == nil || (write && s.cfg.Policies == nil) {
		s.fail(w, r, notImplemented("GTM policies are not enabled on this node's API"))
		return false
	}
	return true
}

// readPolicies passes the read barrier (?consistency=, default leader) and
// returns one snapshot of the policies for the whole request. On failure
// it has replied.
func (s *server) readPolicies(w http.ResponseWriter, r *http.Request) (PolicySnapshot, bool) {
	if !s.policiesEnabled(w, r, false) {
		return nil, false
	}
	if _, ok := s.readView(w, r, cluster.Leader); !ok {
		return nil, false
	}
	return s.cfg.PolicyState.PolicyState(), true
}

// policyAt finds the policy named in the path, or replies 404.
func (s *server) policyAt(w http.ResponseWriter, r *http.Request, snap PolicySnapshot) (gtm.Policy, bool) {
	name := r.PathValue("name")
	p, ok := snap.Policy(name)
	if !ok {
		s.fail(w, r, notFound("policy %q not found", name))
	}
	return p, ok
}

func (s *server) listPolicies(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.readPolicies(w, r)
	if !ok {
		return
	}
	out := snap.Policies()
	if out == nil {
		out = []gtm.Policy{}
	}
	slices.SortFunc(out, func(a, b gtm.Policy) int { return strings.Compare(a.Name, b.Name) })
	s.ok(w, out)
}

func (s *server) getPolicy(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.readPolicies(w, r)
	if !ok {
		return
	}
	if p, ok := s.policyAt(w, r, snap); ok {
		s.ok(w, p)
	}
}

// createPolicy creates a policy; one of the same name is a conflict (PUT
// replaces). The FSM decides it in log order, so of two creates of one
// name racing on different nodes exactly one succeeds.
func (s *server) createPolicy(w http.ResponseWriter, r *http.Request) {
	if !s.policiesEnabled(w, r, true) {
		return
	}
	p, err := decodePolicy(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(p.Name) == "" {
		s.fail(w, r, invalid(`field "name": the policy name is required, for example "www-weighted"`))
		return
	}
	if _, exists := s.cfg.PolicyState.PolicyState().Policy(p.Name); exists {
		s.fail(w, r, conflict("policy %q already exists; PUT /api/v1/policies/%s replaces it", p.Name, p.Name))
		return
	}
	s.writePolicy(w, r, p, http.StatusCreated, s.cfg.Policies.CreatePolicy)
}

// putPolicy creates or replaces the policy named in the path. The body's
// name may be left out; when given it must be the path's.
func (s *server) putPolicy(w http.ResponseWriter, r *http.Request) {
	if !s.policiesEnabled(w, r, true) {
		return
	}
	name := r.PathValue("name")
	p, err := decodePolicy(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch p.Name {
	case "":
		p.Name = name
	case name:
	default:
		s.fail(w, r, badRequest(`field "name": %q is not the policy named in the path (%q); leave it out or make them equal`, p.Name, name))
		return
	}
	status := http.StatusOK
	if _, exists := s.cfg.PolicyState.PolicyState().Policy(name); !exists {
		status = http.StatusCreated
	}
	s.writePolicy(w, r, p, status, s.cfg.Policies.PutPolicy)
}

// writePolicy validates p, proposes it and replies with the policy as
// stored.
func (s *server) writePolicy(w http.ResponseWriter, r *http.Request, p gtm.Policy, status int, write func(context.Context, gtm.Policy) (uint64, error)) {
	norm, err := normalizePolicy(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	index, err := write(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, status, s.storedPolicy(norm, index), index)
}

// storedPolicy is the policy named like want as the state holds it once
// index is applied. On a follower that has not applied index yet it is
// want, which is what the FSM stores (normalised the same way).
func (s *server) storedPolicy(want gtm.Policy, index uint64) gtm.Policy {
	if s.cfg.State.AppliedIndex() >= index {
		if p, ok := s.cfg.PolicyState.PolicyState().Policy(want.Name); ok {
			return p
		}
	}
	return want
}

// normalizePolicy validates p as the FSM will (without the zones) and
// returns it as the FSM stores it.
func normalizePolicy(p gtm.Policy) (gtm.Policy, error) {
	norm, err := gtm.Validate(p)
	if err != nil {
		return p, err
	}
	if apex, err := zone.CanonicalName(norm.Zone); err == nil {
		norm.Zone = apex
	} else {
		return p, fmt.Errorf("%w: policy %s: field \"zone\": %s", zone.ErrInvalid, p.Name, strings.TrimPrefix(err.Error(), "invalid: "))
	}
	return norm, nil
}

func (s *server) deletePolicy(w http.ResponseWriter, r *http.Request) {
	if !s.policiesEnabled(w, r, true) {
		return
	}
	name := r.PathValue("name")
	index, err := s.cfg.Policies.DeletePolicy(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusOK, deletedPolicy{Name: name}, index)
}

// patchEndpoint changes some fields of one endpoint and replies with the
// whole policy.
func (s *server) patchEndpoint(w http.ResponseWriter, r *http.Request) {
	if !s.policiesEnabled(w, r, true) {
		return
	}
	name, id := r.PathValue("name"), r.PathValue("endpoint")
	var patch gtm.EndpointPatch
	if err := decodeBody(w, r, &patch); err != nil {
		s.fail(w, r, err)
		return
	}
	before, ok := s.cfg.PolicyState.PolicyState().Policy(name)
	if !ok {
		s.fail(w, r, notFound("policy %q not found", name))
		return
	}
	want, err := before.PatchEndpoint(id, patch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	index, err := s.cfg.Policies.PatchEndpoint(r.Context(), name, id, patch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.written(w, http.StatusOK, s.storedPolicy(want, index), index)
}

// decodePolicy reads a policy body strictly. When it does not decode, the
// error names the field at fault by its full path ("endpoints[1].weight")
// and says what it must be.
func decodePolicy(w http.ResponseWriter, r *http.Request) (gtm.Policy, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return gtm.Policy{}, err
		}
		return gtm.Policy{}, badRequest("cannot read the request body: %v", err)
	}
	var p gtm.Policy
	if err := decodeStrict(bytes.NewReader(raw), &p); err != nil {
		if located := locateJSONError(raw, reflect.TypeFor[gtm.Policy]()); located != nil {
			return gtm.Policy{}, located
		}
		return gtm.Policy{}, err
	}
	return p, nil
}

// locateJSONError finds the first value of raw (one JSON object) that does
// not decode into t, and returns an INVALID_REQUEST error naming its path;
// nil when it finds none (raw is not JSON, say: decodeStrict's error then
// says it better).
func locateJSONError(raw []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return walkJSON(v, t, "")
}

func walkJSON(v any, t reflect.Type, path string) error {
	if v == nil {
		return nil // null leaves any field as it is
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := path
	if name == "" {
		name = "(the body)"
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			return badRequest("field %q: %s", name, strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil
	}
	want := func() error { return badRequest("field %q: must be %s", name, fieldWant(nil, "", t)) }
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return want()
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			f, ok := structField(t, k)
			if !ok {
				return badRequest("unknown field %q (allowed here: %s)", join(path, k), fieldList(reflect.New(t).Interface()))
			}
			if err := walkJSON(obj[k], f.Type, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return want()
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if err := walkJSON(obj[k], t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return want()
		}
		for i, x := range arr {
			if err := walkJSON(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return want()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return want()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return want()
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			return want()
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return want()
		}
		if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			return want()
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return want()
		}
	}
	return nil
}

// structField finds the field of t that the JSON key k decodes into, the
// way encoding/json matches them (exactly, else ignoring case).
func structField(t reflect.Type, k string) (reflect.StructField, bool) {
	var folded reflect.StructField
	found := false
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == k {
			return f, true
		}
		if !found && strings.EqualFold(name, k) {
			folded, found = f, true
		}
	}
	return folded, found
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
