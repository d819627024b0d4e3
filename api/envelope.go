package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// Body limits.
const (
	maxJSONBody   = 1 << 20   // any JSON request body
	maxImportBody = 256 << 20 // an RFC 1035 zone file
)

// IndexHeader carries the Raft index of a write's reply.
const IndexHeader = "X-Resolvx-Index"

// envelope is every reply of the API.
type envelope struct {
	Data  any     `json:"data"`
	Error *Error  `json:"error"`
	Index *uint64 `json:"index,omitempty"` // writes only
}

// writeEnvelope writes env with status. An encoding failure cannot be
// reported to the client any more (the status is out): it is logged.
func (s *server) writeEnvelope(w http.ResponseWriter, status int, env envelope) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if env.Index != nil {
		h.Set(IndexHeader, strconv.FormatUint(*env.Index, 10))
	}
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(env); err != nil {
		s.logger.Debug("writing a reply", "err", err)
	}
}

// ok replies to a read.
func (s *server) ok(w http.ResponseWriter, data any) {
	s.writeEnvelope(w, http.StatusOK, envelope{Data: data})
}

// written replies to a write applied at index.
func (s *server) written(w http.ResponseWriter, status int, data any, index uint64) {
	s.writeEnvelope(w, status, envelope{Data: data, Index: &index})
}

// fail replies with err, mapped by errorReply.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, e := errorReply(err, s.logger, r)
	s.writeEnvelope(w, status, envelope{Error: e})
}

// decodeBody decodes a JSON request body of at most maxJSONBody bytes into
// dst, strictly (see decodeStrict).
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	return decodeStrict(http.MaxBytesReader(w, r.Body, maxJSONBody), dst)
}

// decodeStrict decodes exactly one JSON object into dst: unknown fields,
// values of the wrong type and data after the object are errors, with
// messages that name the field and say what it must be.
func decodeStrict(rd io.Reader, dst any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, dst)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("the request body has data after the JSON object")
	}
	return nil
}

// jsonError turns a decoding error into an INVALID_REQUEST error (or keeps
// a *http.MaxBytesError, which becomes 413).
func jsonError(err error, dst any) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: the body ends inside the JSON value")
	case errors.As(err, &se):
		return badRequest("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		if te.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		return badRequest("field %q: must be %s", te.Field, fieldWant(dst, te.Field, te.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s (allowed: %s)", strings.TrimPrefix(err.Error(), "json: unknown field "), fieldList(dst))
	}
	return badRequest("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// fieldWant describes what a field must hold. A field can override the
// description of its Go type with a `want:"…"` struct tag.
func fieldWant(dst any, field string, t reflect.Type) string {
	if f, ok := jsonField(dst, field); ok {
		if want := f.Tag.Get("want"); want != "" {
			return want
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Uint8:
		return "a number 0..255"
	case reflect.Uint16:
		return "a number 0..65535"
	case reflect.Uint32:
		return "a number 0..4294967295"
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64:
		return "a whole number"
	case reflect.Slice:
		return "a JSON array"
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	}
	return "a " + t.String()
}

// jsonField finds the struct field of dst with the JSON name field.
func jsonField(dst any, field string) (reflect.StructField, bool) {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == field {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldList names the JSON fields dst accepts, for unknown-field messages.
func fieldList(dst any) string {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return "none"
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}
