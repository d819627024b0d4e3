package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/resolvx/resolvx/zone"
)

// do sends a raw request and returns the status, the decoded envelope and
// the raw reply.
func (ta *testAPI) do(t testing.TB, method, path, body string) (int, replyEnvelope, string) {
	t.Helper()
	req, err := http.NewRequest(method, ta.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ta.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env replyEnvelope
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("%s %s: reply is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return resp.StatusCode, env, string(raw)
}

// seeded returns an API with zone example.com holding www A 192.0.2.1 and
// mail A 192.0.2.25, and the ID of the www record.
func seeded(t *testing.T) (*testAPI, string) {
	ta := newTestAPI(t)
	ctx := context.Background()
	mustWrite[ZoneInfo](t)(ta.client.CreateZone(ctx, "example.com"))
	www := mustWrite[zone.Record](t)(ta.client.CreateRecord(ctx, "example.com", RecordRequest{Name: "www", Type: "A", Value: "192.0.2.1"})).v
	mustWrite[zone.Record](t)(ta.client.CreateRecord(ctx, "example.com", RecordRequest{Name: "mail", Type: "A", Value: "192.0.2.25"}))
	return ta, www.ID
}

// Every bad input gets the right status, code and a clear message, and
// changes nothing.
func TestBadInput(t *testing.T) {
	ta, wwwID := seeded(t)
	const recs = "/api/v1/zones/example.com/records"
	rec := func(name, typ, value string) string {
		b, _ := json.Marshal(map[string]string{"name": name, "type": typ, "value": value})
		return string(b)
	}
	long63 := strings.Repeat("a", 63)
	cases := []struct {
		what         string
		method, path string
		body         string
		status       int
		code         string
		msg          string // a part of the message
	}{
		// The request's shape: 400.
		{"malformed JSON", "POST", recs, `{"name":"www",`, 400, CodeInvalidRequest, "malformed JSON"},
		{"syntax error", "POST", recs, `{"name" "www"}`, 400, CodeInvalidRequest, "malformed JSON at byte"},
		{"empty body", "POST", recs, ``, 400, CodeInvalidRequest, "body is empty"},
		{"not an object", "POST", recs, `["www","A"]`, 400, CodeInvalidRequest, "must be a JSON object"},
		{"unknown field", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","weight":5}`, 400, CodeInvalidRequest, `unknown field "weight"`},
		{"trailing data", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9"} {}`, 400, CodeInvalidRequest, "data after the JSON object"},
		{"trailing garbage", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9"}x`, 400, CodeInvalidRequest, "data after the JSON object"},
		{"ttl as a string", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","ttl":"300"}`, 400, CodeInvalidRequest, `field "ttl": must be a number 0..2147483647`},
		{"ttl fractional", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","ttl":1.5}`, 400, CodeInvalidRequest, `field "ttl": must be a number 0..2147483647`},
		{"ttl -1", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","ttl":-1}`, 400, CodeInvalidRequest, `field "ttl": must be a number 0..2147483647`},
		{"ttl 2147483648", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","ttl":2147483648}`, 400, CodeInvalidRequest, `field "ttl": 2147483648 is out of range`},
		{"ttl 4294967296", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","ttl":4294967296}`, 400, CodeInvalidRequest, `field "ttl": must be a number 0..2147483647`},
		{"ttl 4294967295", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","ttl":4294967295}`, 400, CodeInvalidRequest, `field "ttl": 4294967295 is out of range`},
		{"ttl beyond int64", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","ttl":99999999999999999999}`, 400, CodeInvalidRequest, `field "ttl": must be a number 0..2147483647`},
		{"priority 65536", "POST", recs, `{"name":"@","type":"MX","value":"mail","priority":65536}`, 400, CodeInvalidRequest, `field "priority": must be a number 0..65535`},
		{"name as a number", "POST", recs, `{"name":5,"type":"A","value":"192.0.2.9"}`, 400, CodeInvalidRequest, `field "name": must be a string`},
		{"zone body unknown field", "POST", "/api/v1/zones", `{"zone":"example.org"}`, 400, CodeInvalidRequest, `unknown field "zone" (allowed: name)`},
		{"body over 1 MiB", "POST", recs, `{"name":"www","type":"TXT","value":"` + strings.Repeat("x", 1<<20) + `"}`, 413, CodeInvalidRequest, "larger than the 1 MiB limit"},
		{"bad consistency", "GET", recs + "?consistency=eventual", ``, 400, CodeInvalidRequest, `consistency "eventual" is not one of stale, leader, linearizable`},
		{"bad type filter", "GET", recs + "?type=BOGUS", ``, 400, CodeInvalidRequest, `type "BOGUS" is not a record type`},
		{"bad name filter", "GET", recs + "?name=a..b", ``, 400, CodeInvalidRequest, "empty label"},

		// The content: 422.
		{"missing name", "POST", recs, `{"type":"A","value":"192.0.2.9"}`, 422, CodeValidation, `the record name is required (use "@" for the zone apex)`},
		{"missing type", "POST", recs, `{"name":"www","value":"192.0.2.9"}`, 422, CodeValidation, "the record type is required"},
		{"empty label", "POST", recs, rec("a..www", "A", "192.0.2.9"), 422, CodeValidation, "empty label"},
		{"label of 64", "POST", recs, rec(long63+"a", "A", "192.0.2.9"), 422, CodeValidation, "the limit is 63"},
		{"name of 254", "POST", recs, rec(strings.Repeat(long63+".", 3)+strings.Repeat("b", 50), "A", "192.0.2.9"), 422, CodeValidation, "the limit is 253"},
		{"control character in name", "POST", recs, rec("w\x07w\nw", "A", "192.0.2.9"), 422, CodeValidation, "not allowed"},
		{"control character in value", "POST", recs, rec("www", "TXT", "a\x01b"), 422, CodeValidation, "control character"},
		{"A not an address", "POST", recs, rec("bad", "A", "not-an-ip"), 422, CodeValidation, "A record value"},
		{"AAAA with IPv4", "POST", recs, rec("bad", "AAAA", "192.0.2.1"), 422, CodeValidation, "AAAA record value"},
		{"empty value", "POST", recs, rec("bad", "A", ""), 422, CodeValidation, "value is empty"},
		{"unsupported type", "POST", recs, rec("bad", "WKS", "x"), 422, CodeValidation, "not supported"},
		{"SOA by hand", "POST", recs, rec("@", "SOA", "ns1 hostmaster 1 2 3 4 5"), 422, CodeValidation, "SOA record is managed by resolvx"},
		{"priority on A", "POST", recs, `{"name":"www","type":"A","value":"192.0.2.9","priority":3}`, 422, CodeValidation, "priority applies only to MX and SRV"},
		{"outside the zone", "POST", recs, rec("www.example.org.", "A", "192.0.2.9"), 422, CodeValidation, "outside zone example.com."},
		{"CNAME at the apex", "POST", recs, rec("@", "CNAME", "www.example.net."), 422, CodeValidation, "zone apex"},
		{"CNAME beside data", "POST", recs, rec("www", "CNAME", "www.example.net."), 422, CodeValidation, "has other records"},
		{"data beside a CNAME is checked too", "PUT", recs + "/" + wwwID, rec("mail", "CNAME", "x.example.net."), 422, CodeValidation, "has other records"},
		{"duplicate", "POST", recs, rec("www", "A", "192.0.2.1"), 409, CodeAlreadyExists, "already in the zone"},
		{"zone name empty", "POST", "/api/v1/zones", `{"name":""}`, 422, CodeValidation, "the zone name is required"},
		{"zone name bad", "POST", "/api/v1/zones", `{"name":"bad..name"}`, 422, CodeValidation, "empty label"},
		{"zone exists", "POST", "/api/v1/zones", `{"name":"EXAMPLE.com."}`, 409, CodeAlreadyExists, "example.com."},

		// Imports: all or nothing.
		{"import $INCLUDE", "POST", "/api/v1/zones/example.com/import", "www 60 IN A 192.0.2.3\n$INCLUDE /etc/passwd\n", 422, CodeValidation, "$INCLUDE is not allowed"},
		{"import $GENERATE", "POST", "/api/v1/zones/example.com/import", "$GENERATE 1-9 h$ A 192.0.2.$\n", 422, CodeValidation, "$GENERATE is not supported"},
		{"import a bad record", "POST", "/api/v1/zones/example.com/import", "ok1 IN A 192.0.2.3\nok2 IN A 192.0.2.4\nbad IN A 300.1.1.1\n", 422, CodeValidation, "line 3"},
		{"import CNAME beside data", "POST", "/api/v1/zones/example.com/import", "www IN A 192.0.2.3\nwww IN CNAME other\n", 422, CodeValidation, "www.example.com."},
		{"import outside the zone", "POST", "/api/v1/zones/example.com/import", "www.example.org. IN A 192.0.2.3\n", 422, CodeValidation, "outside zone"},
		{"import into no zone", "POST", "/api/v1/zones/example.net/import", "www IN A 192.0.2.3\n", 404, CodeNotFound, "example.net"},

		// What is not there: 404; a wrong method: 405.
		{"no such zone", "GET", "/api/v1/zones/example.net", ``, 404, CodeNotFound, `zone "example.net" not found`},
		{"no such zone for a record", "POST", "/api/v1/zones/example.net/records", rec("www", "A", "192.0.2.9"), 404, CodeNotFound, "example.net"},
		{"no such record", "GET", recs + "/0123456789abcdef", ``, 404, CodeNotFound, `record "0123456789abcdef" not found in zone example.com.`},
		{"update no such record", "PUT", recs + "/0123456789abcdef", rec("www", "A", "192.0.2.9"), 404, CodeNotFound, "0123456789abcdef"},
		{"delete no such record", "DELETE", recs + "/0123456789abcdef", ``, 404, CodeNotFound, "0123456789abcdef"},
		{"delete no such zone", "DELETE", "/api/v1/zones/example.net", ``, 404, CodeNotFound, "example.net"},
		{"control character in path", "GET", "/api/v1/zones/exa%07mple.com%0A", ``, 404, CodeNotFound, `zone "exa\ample.com\n" not found`},
		{"unknown route", "GET", "/api/v1/nothing", ``, 404, CodeNotFound, "no such endpoint: GET /api/v1/nothing"},
		{"unknown version", "GET", "/api/v2/zones", ``, 404, CodeNotFound, "no such endpoint"},
		{"wrong method", "PATCH", "/api/v1/zones", ``, 405, CodeInvalidRequest, "method PATCH is not allowed on /api/v1/zones (allowed: GET, HEAD, POST)"},
		{"wrong method on a record", "POST", recs + "/" + wwwID, `{}`, 405, CodeInvalidRequest, "allowed: DELETE, GET, HEAD, PUT"},
	}
	before := zone.ExportText(ta.fsm.View().Zone("example.com"))
	applied := ta.fsm.AppliedIndex()
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			status, env, raw := ta.do(t, tc.method, tc.path, tc.body)
			if status != tc.status || env.Error == nil || env.Error.Code != tc.code || !strings.Contains(env.Error.Message, tc.msg) {
				t.Fatalf("%s %s: got %d %s\nwant %d %s with %q", tc.method, tc.path, status, raw, tc.status, tc.code, tc.msg)
			}
			if string(env.Data) != "null" || env.Index != 0 {
				t.Fatalf("a failure carries data or an index: %s", raw)
			}
			for _, r := range env.Error.Message {
				if unicode.IsControl(r) {
					t.Fatalf("the message has a control character: %q", env.Error.Message)
				}
			}
			if got := zone.ExportText(ta.fsm.View().Zone("example.com")); got != before || ta.fsm.AppliedIndex() != applied {
				t.Fatalf("a refused request changed the state:\n%s", got)
			}
		})
	}
}

// An import body over 256 MiB is refused from its Content-Length, before
// it is read.
func TestImportTooLarge(t *testing.T) {
	ta, _ := seeded(t)
	req := httptest.NewRequest("POST", "/api/v1/zones/example.com/import", strings.NewReader("www IN A 192.0.2.1\n"))
	req.ContentLength = maxImportBody + 1
	rec := httptest.NewRecorder()
	ta.handler.ServeHTTP(rec, req)
	var env replyEnvelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 413 || env.Error == nil || env.Error.Code != CodeInvalidRequest || !strings.Contains(env.Error.Message, "256 MiB") {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}
