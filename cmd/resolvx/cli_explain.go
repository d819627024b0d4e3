package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/resolvx/resolvx/api"
	"github.com/resolvx/resolvx/gtm"
)

func (c *cli) explainCmd() *cobra.Command {
	var q api.ExplainQuery
	cmd := &cobra.Command{
		Use:   "explain NAME",
		Short: "Explain why a query gets its answer: the policy, the client's region, each endpoint's verdict, the choice",
		Long: `Explain why a query gets its answer from the node behind --api: the policy
bound at the name (if any), where the client is placed (by --ecs when given,
else by --client), each endpoint's committed verdict, weight, priority and
region, the endpoint chosen and why, then the answer itself.

Without --client the client is the address the API sees this command come
from.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q.Name = args[0]
			e, err := c.client().Explain(cmd.Context(), q)
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(e)
			}
			return printExplanation(c.stdout, e)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Type, "type", "A", "query type")
	f.StringVar(&q.Client, "client", "", "the querying client's address (default: this machine, as the API sees it)")
	f.StringVar(&q.ECS, "ecs", "", "EDNS Client Subnet the query carries, such as 198.51.100.0/24")
	return cmd
}

// printExplanation shows an explanation for people: the query, the
// client's location, the policy, its endpoints, the choice and the answer.
func printExplanation(w io.Writer, e gtm.Explanation) error {
	from := e.Client
	if e.ECS != "" {
		from += ", client subnet " + e.ECS
	}
	fmt.Fprintf(w, "query     %s %s from %s\n", e.Name, e.Type, from)
	loc := "unknown location"
	if e.Location.Country != "" || e.Location.Continent != "" {
		loc = "country " + orUnknown(e.Location.Country) + ", continent " + orUnknown(e.Location.Continent)
	}
	if e.ECS != "" {
		loc += fmt.Sprintf(" (by the client subnet; ECS scope /%d)", e.Scope)
	} else {
		loc += " (by the source address)"
	}
	fmt.Fprintf(w, "client    %s\n", loc)
	if e.Policy == nil {
		fmt.Fprintln(w, "policy    none: the name answers from its ordinary records")
	} else {
		p := e.Policy
		fallback := p.Fallback
		if fallback == "" {
			fallback = "all"
		}
		fmt.Fprintf(w, "policy    %s (%s), TTL %d, fallback %s\n", p.Name, p.Type, p.TTL, fallback)
		if e.Preferred != "" {
			fmt.Fprintf(w, "preferred %s (committed latency verdict)\n", e.Preferred)
		}
		fmt.Fprintln(w)
		rows := make([][]string, 0, len(e.Endpoints))
		for _, ep := range e.Endpoints {
			lat := "-"
			if ep.LatencyMS > 0 {
				lat = strconv.FormatFloat(ep.LatencyMS, 'f', 1, 64) + "ms"
			}
			chosen := ""
			if ep.Chosen {
				chosen = "<-"
			}
			rows = append(rows, []string{ep.ID, ep.Address, ep.Verdict.String(), strconv.Itoa(ep.Weight), strconv.Itoa(ep.Priority),
				dash(ep.Region), yesNo(ep.Disabled), lat, chosen})
		}
		if err := table(w, []string{"ENDPOINT", "ADDRESS", "VERDICT", "WEIGHT", "PRIORITY", "REGION", "DISABLED", "LATENCY", "CHOSEN"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if d := e.Decision; d != nil {
		choice := strings.Join(d.Chosen, ", ")
		if len(d.Chosen) == 0 {
			choice = "no endpoint"
		}
		var notes []string
		if d.Region != "" {
			notes = append(notes, "region "+d.Region)
		}
		if d.Fallback {
			notes = append(notes, "fallback: no endpoint was usable")
		}
		if d.NoData {
			notes = append(notes, "NODATA")
		}
		extra := ""
		if len(notes) > 0 {
			extra = " [" + strings.Join(notes, "; ") + "]"
		}
		fmt.Fprintf(w, "choice    %s: %s%s\n", choice, d.Reason, extra)
	}
	fmt.Fprintf(w, "answer    %s", e.Rcode)
	if len(e.Answer) == 0 {
		fmt.Fprintln(w, ", no records")
		return nil
	}
	fmt.Fprintln(w)
	for _, rr := range e.Answer {
		fmt.Fprintf(w, "          %s\n", strings.ReplaceAll(rr, "\t", " "))
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
