package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/resolvx/resolvx/zone"
)

// FuzzDecodeRecord: any body decodes to a request with an in-range TTL or
// to an INVALID_REQUEST error with a clean message; never a panic. A
// decoded request then validates or fails with a coded error.
func FuzzDecodeRecord(f *testing.F) {
	for _, seed := range []string{
		`{"name":"www","type":"A","value":"192.0.2.1","ttl":300}`,
		`{"name":"@","type":"MX","value":"mail","priority":10}`,
		`{"name":"_sip._tcp","type":"SRV","value":"5 5060 sip.example.com.","ttl":0,"priority":1}`,
		`{"name":"www","type":"A","value":"192.0.2.1","ttl":2147483648}`,
		`{"name":"www","type":"A","value":"192.0.2.1","ttl":-1}`,
		`{"name":"w\u0000w","type":"TXT","value":"\"a\" \"b\""}`,
		`{"name":"www","extra":1}`,
		`{"name":"www"} trailing`,
		`[1,2,3]`,
		`{"ttl":1e400}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRecordRequest(strings.NewReader(string(body)))
		if err != nil {
			if code := zone.CodeOf(err); code != CodeInvalidRequest {
				t.Fatalf("decode error with code %q: %v", code, err)
			}
			if msg := clean(err.Error()); strings.ContainsFunc(msg, unicode.IsControl) {
				t.Fatalf("control character in %q", msg)
			}
			return
		}
		if req.TTL != nil && *req.TTL > zone.MaxTTL {
			t.Fatalf("TTL %d decoded", *req.TTL)
		}
		rec, err := buildRecord("example.com.", req)
		if err != nil {
			if code := zone.CodeOf(err); code != CodeValidation {
				t.Fatalf("validation error with code %q: %v", code, err)
			}
			return
		}
		if !strings.HasSuffix(rec.Name, "example.com.") || rec.TTL > zone.MaxTTL {
			t.Fatalf("accepted %+v", rec)
		}
	})
}

// FuzzDecodePolicy: any policy body decodes, or fails with INVALID_REQUEST
// and a clean message; a decoded policy validates or fails with
// VALIDATION_ERROR; never a panic (the decoder walks the JSON by
// reflection to name the offending field).
func FuzzDecodePolicy(f *testing.F) {
	for _, seed := range []string{
		`{"name":"web","zone":"example.com","record":"www","type":"weighted","endpoints":[{"id":"a","address":"192.0.2.1","weight":70},{"id":"b","address":"192.0.2.2","weight":30}]}`,
		`{"name":"f","zone":"example.com","record":"@","type":"failover","endpoints":[{"id":"p","address":"2001:db8::1","priority":1}],"health_check":{"type":"http","path":"/","interval":"10s","headers":{"Host":"x"}}}`,
		`{"name":"g","zone":"example.com","record":"geo","type":"geographic","endpoints":[{"id":"eu","address":"eu.example.net.","region":"EU"}],"fallback":"nodata"}`,
		`{"name":"w","endpoints":[{"id":"a","weight":"ten"}]}`,
		`{"name":"w","endpoints":[{"id":"a","weight":1e400}]}`,
		`{"name":"w","health_check":{"interval":5}}`,
		`{"name":"w","health_check":{"interval":"fast"}}`,
		`{"name":"w","endpoints":[{"id":"a","port":80}]}`,
		`{"name":"w","endpoints":{"id":"a"}}`,
		`{"endpoints":[null,[],{}]}`,
		`[1]`,
		`{"name":"w"} {}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/policies", bytes.NewReader(body))
		p, err := decodePolicy(httptest.NewRecorder(), r)
		if err != nil {
			if code := zone.CodeOf(err); code != CodeInvalidRequest {
				t.Fatalf("decode error with code %q: %v", code, err)
			}
			if strings.ContainsFunc(clean(err.Error()), unicode.IsControl) {
				t.Fatalf("control character in %q", err)
			}
			return
		}
		if _, err := normalizePolicy(p); err != nil && zone.CodeOf(err) != CodeValidation {
			t.Fatalf("validation error with code %q: %v", zone.CodeOf(err), err)
		}
	})
}
