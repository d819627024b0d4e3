package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

const testSecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"

// Invariant: TSIG keys and transfer settings round-trip through the API;
// a secret is never returned; bad input (bad base64, unknown algorithm,
// bad CIDR, bad notify target, unknown key, a key in use) is a 4xx and
// applies nothing.
func TestTSIGKeysAndTransferSettings(t *testing.T) {
	ta := newTestAPI(t)
	ctx := context.Background()
	c := ta.client
	if _, _, err := c.CreateZone(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	is4xx := func(what string, err error) {
		t.Helper()
		var ae *Error
		if !errors.As(err, &ae) || ae.HTTPStatus < 400 || ae.HTTPStatus > 499 {
			t.Fatalf("%s: err = %v, want a 4xx", what, err)
		}
	}
	before := ta.fsm.AppliedIndex()
	_, _, err := c.CreateTSIGKey(ctx, TSIGKeyRequest{Name: "xfr", Secret: "not base64!"})
	is4xx("bad base64", err)
	_, _, err = c.CreateTSIGKey(ctx, TSIGKeyRequest{Name: "xfr", Algorithm: "hmac-md5", Secret: testSecret})
	is4xx("unknown algorithm", err)
	_, _, err = c.SetTransfer(ctx, "example.com", TransferSettings{TSIGKey: "xfr"})
	is4xx("unknown key", err)
	_, _, err = c.SetTransfer(ctx, "example.com", TransferSettings{Allow: []string{"127.0.0.1/33"}})
	is4xx("bad CIDR", err)
	_, _, err = c.SetTransfer(ctx, "example.com", TransferSettings{Notify: []string{"secondary.example:53"}})
	is4xx("bad notify target", err)
	if ta.fsm.AppliedIndex() != before {
		t.Fatal("a refused request was applied")
	}

	k, _, err := c.CreateTSIGKey(ctx, TSIGKeyRequest{Name: "xfr", Secret: testSecret})
	if err != nil || k.Name != "xfr." || k.Algorithm != "hmac-sha256" {
		t.Fatalf("create key: %+v, %v", k, err)
	}
	resp, err := ta.srv.Client().Get(ta.srv.URL + "/api/v1/tsig-keys")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), testSecret) || !strings.Contains(string(body), `"xfr."`) {
		t.Fatalf("GET /tsig-keys: %d %s", resp.StatusCode, body)
	}
	got, _, err := c.SetTransfer(ctx, "example.com", TransferSettings{Allow: []string{"127.0.0.1"}, TSIGKey: "xfr", Notify: []string{"127.0.0.1:5300"}})
	if err != nil || got.TSIGKey != "xfr." || got.Allow[0] != "127.0.0.1/32" {
		t.Fatalf("set transfer: %+v, %v", got, err)
	}
	if got, err = c.Transfer(ctx, "example.com"); err != nil || got.Notify[0] != "127.0.0.1:5300" {
		t.Fatalf("get transfer: %+v, %v", got, err)
	}
	_, err = c.DeleteTSIGKey(ctx, "xfr")
	is4xx("deleting a key in use", err)
	if _, _, err = c.SetTransfer(ctx, "example.com", TransferSettings{}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.DeleteTSIGKey(ctx, "xfr"); err != nil {
		t.Fatal(err)
	}
	if keys, err := c.TSIGKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("keys after delete: %v, %v", keys, err)
	}
}
