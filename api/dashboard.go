package api

import (
	"embed"
	"net/http"
)

// dashboardFS holds the dashboard: one HTML page with its script and style
// inline and no external assets.
//
//go:embed dashboard/index.html
var dashboardFS embed.FS

// dashboardCSP allows the page's inline script and style and requests to
// this origin only.
const dashboardCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	page, err := dashboardFS.ReadFile("dashboard/index.html")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}
