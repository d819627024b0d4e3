package api

import (
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
