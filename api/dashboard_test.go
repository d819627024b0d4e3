package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHealthzMetricsDashboard(t *testing.T) {
	ta := newTestAPI(t)
	if resp, body := get(t, ta.srv.URL+"/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, ta.srv.URL+"/metrics"); resp.StatusCode != 404 || !strings.Contains(body, `"code":"NOT_FOUND"`) {
		t.Fatalf("metrics without a handler: %d %s", resp.StatusCode, body)
	}
	metrics := httptest.NewServer(New(Config{State: ta.fsm, Cluster: ta.cluster,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "raft_state 1\n") })}))
	defer metrics.Close()
	if resp, body := get(t, metrics.URL+"/metrics"); resp.StatusCode != 200 || body != "raft_state 1\n" {
		t.Fatalf("metrics: %d %q", resp.StatusCode, body)
	}

	resp, page := get(t, ta.srv.URL+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("dashboard: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{`get("cluster")`, `get("status")`, `get("zones")`, `get("health")`, "setInterval(refresh, 2000)", "read_only", "is_leader"} {
		if !strings.Contains(page, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	// No external assets, and nothing from the API is parsed as HTML.
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).MatchString(page) || strings.Contains(page, "innerHTML") {
		t.Error("the dashboard loads external assets or writes HTML from data")
	}
	if resp, _ := get(t, ta.srv.URL+"/index.html"); resp.StatusCode != 404 {
		t.Fatalf("/index.html: %d", resp.StatusCode)
	}
}
