package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/resolvx/resolvx/api"
)

// client returns an API client for --api.
func (c *cli) client() *api.Client {
	return api.NewClient(strings.TrimRight(c.api, "/"), &http.Client{Timeout: 5 * time.Minute})
}

// printJSON writes v as indented JSON (the API's object for --json).
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// done prints the confirmation of a write with the Raft index it was
// applied at.
func (c *cli) done(what string, index uint64) {
	fmt.Fprintf(c.stdout, "%s (raft index %d)\n", what, index)
}
