package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/resolvx/resolvx/api"
	"github.com/resolvx/resolvx/gtm"
)

// maxPolicyFile bounds a policy file read by policy create.
const maxPolicyFile = 1 << 20

func (c *cli) policyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Create, list and change GTM policies; drain endpoints; show their health"}

	var file string
	var replace bool
	create := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a policy from a JSON or YAML file (- for stdin); --replace replaces one of the same name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("give the policy file with -f FILE (JSON or YAML; - for stdin)")
			}
			p, err := readPolicyFile(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			call := c.client().CreatePolicy
			verb := "created"
			if replace {
				call, verb = c.client().PutPolicy, "stored"
			}
			out, index, err := call(cmd.Context(), p)
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(out)
			}
			c.done(fmt.Sprintf("%s policy %s (%s, %s)", verb, out.Name, out.Type, plural(len(out.Endpoints), "endpoint")), index)
			return nil
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "policy file, JSON or YAML (- for stdin)")
	create.Flags().BoolVar(&replace, "replace", false, "replace the policy if it exists (PUT) instead of failing")

	list := &cobra.Command{
		Use: "list", Short: "List policies", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := c.client().ListPolicies(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(ps)
			}
			rows := make([][]string, 0, len(ps))
			for _, p := range ps {
				rows = append(rows, []string{p.Name, string(p.Type), p.Owner(), strconv.FormatUint(uint64(p.TTL), 10),
					strconv.Itoa(len(p.Endpoints)), checkSummary(p.HealthCheck)})
			}
			return table(c.stdout, []string{"NAME", "TYPE", "OWNER", "TTL", "ENDPOINTS", "CHECK"}, rows)
		},
	}

	get := &cobra.Command{
		Use: "get NAME", Short: "Show a policy with its endpoints", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := c.client().GetPolicy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(p)
			}
			return printPolicy(c.stdout, p)
		},
	}

	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a policy (its name then answers from ordinary records)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			index, err := c.client().DeletePolicy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			c.done("deleted policy "+args[0], index)
			return nil
		},
	}

	setWeight := &cobra.Command{
		Use: "set-weight NAME ENDPOINT WEIGHT", Short: "Change one endpoint's weight", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := strconv.Atoi(args[2])
			if err != nil {
				return fmt.Errorf("weight %q is not a whole number", args[2])
			}
			return c.patch(cmd, args[0], args[1], gtm.EndpointPatch{Weight: &w}, fmt.Sprintf("set the weight of %s/%s to %d", args[0], args[1], w))
		},
	}

	var undo bool
	drain := &cobra.Command{
		Use:   "drain NAME ENDPOINT",
		Short: "Stop answering with an endpoint (disabled), without deleting it; --undo answers with it again",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			disabled := !undo
			what := "drained " + args[0] + "/" + args[1]
			if undo {
				what = "re-enabled " + args[0] + "/" + args[1]
			}
			return c.patch(cmd, args[0], args[1], gtm.EndpointPatch{Disabled: &disabled}, what)
		},
	}
	drain.Flags().BoolVar(&undo, "undo", false, "re-enable the endpoint")

	health := &cobra.Command{
		Use:   "health [NAME]",
		Short: "Show each endpoint's committed verdict and every node's own observation (all policies without NAME)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				rep, err := c.client().Health(cmd.Context())
				if err != nil {
					return err
				}
				if c.json {
					return c.printJSON(rep)
				}
				return printHealthReport(c.stdout, rep)
			}
			ph, err := c.client().PolicyHealth(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(ph)
			}
			return printPolicyHealth(c.stdout, ph)
		},
	}

	cmd.AddCommand(create, list, get, del, setWeight, drain, health)
	return cmd
}

// patch sends an endpoint patch and confirms it.
func (c *cli) patch(cmd *cobra.Command, policy, endpoint string, p gtm.EndpointPatch, what string) error {
	out, index, err := c.client().PatchEndpoint(cmd.Context(), policy, endpoint, p)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(out)
	}
	c.done(what, index)
	return nil
}

// readPolicyFile reads a policy from a JSON or YAML file, or from stdin for
// "-". JSON is read strictly (unknown fields are errors); YAML is turned
// into JSON first and read the same way.
func readPolicyFile(path string, stdin io.Reader) (gtm.Policy, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, maxPolicyFile+1))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return gtm.Policy{}, err
	}
	if len(b) > maxPolicyFile {
		return gtm.Policy{}, fmt.Errorf("%s: a policy file is at most %d bytes", path, maxPolicyFile)
	}
	name := path
	if path == "-" {
		name = "stdin"
	}
	ext := strings.ToLower(filepath.Ext(path))
	isJSON := ext == ".json" || (ext != ".yaml" && ext != ".yml" && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")))
	if !isJSON {
		var doc any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return gtm.Policy{}, fmt.Errorf("%s: %w", name, err)
		}
		if doc == nil {
			return gtm.Policy{}, fmt.Errorf("%s: the file is empty", name)
		}
		if b, err = json.Marshal(doc); err != nil {
			return gtm.Policy{}, fmt.Errorf("%s: YAML that has no JSON form (keys must be strings): %w", name, err)
		}
	}
	var p gtm.Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return gtm.Policy{}, fmt.Errorf("%s: field %q: must be %s, not a %s", name, te.Field, kindWant(te.Type), te.Value)
		}
		return gtm.Policy{}, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	return p, nil
}

// kindWant says what a value of type t is written as.
func kindWant(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// checkSummary is a health check in a few words.
func checkSummary(hc *gtm.HealthCheck) string {
	if hc == nil {
		return "-"
	}
	s := hc.Type
	switch hc.Type {
	case "http", "https":
		s += fmt.Sprintf(" :%d %s %s", hc.Port, hc.Method, hc.Path)
	case "tcp":
		s += fmt.Sprintf(" :%d", hc.Port)
	case "dns":
		s += fmt.Sprintf(" :%d %s %s", hc.Port, hc.Query, hc.RecordType)
	}
	return s + " every " + time.Duration(hc.Interval).String()
}

// printPolicy shows a policy: its settings, then its endpoints.
func printPolicy(w io.Writer, p gtm.Policy) error {
	fallback := p.Fallback
	if fallback == "" {
		fallback = "all"
	}
	fmt.Fprintf(w, "policy    %s (%s)\n", p.Name, p.Type)
	fmt.Fprintf(w, "answers   %s, TTL %d\n", p.Owner(), p.TTL)
	fmt.Fprintf(w, "fallback  %s\n", fallback)
	if p.MaxAnswers > 0 {
		fmt.Fprintf(w, "max       %d answers\n", p.MaxAnswers)
	}
	if p.Type == gtm.Latency && p.LatencyHysteresis > 0 {
		fmt.Fprintf(w, "hysteresis %s\n", time.Duration(p.LatencyHysteresis))
	}
	fmt.Fprintf(w, "check     %s\n", checkSummary(p.HealthCheck))
	if hc := p.HealthCheck; hc != nil {
		fmt.Fprintf(w, "          timeout %s, down after %d failures, up after %d successes\n",
			time.Duration(hc.Timeout), hc.Threshold, hc.HealthyThreshold)
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(p.Endpoints))
	for _, e := range p.Endpoints {
		rows = append(rows, []string{e.ID, e.Address, strconv.Itoa(e.Weight), strconv.Itoa(e.Priority), dash(e.Region), yesNo(e.Disabled)})
	}
	return table(w, []string{"ENDPOINT", "ADDRESS", "WEIGHT", "PRIORITY", "REGION", "DISABLED"}, rows)
}

// printHealthReport shows every policy's health.
func printHealthReport(w io.Writer, rep api.HealthReport) error {
	if len(rep.Nodes) > 0 {
		fmt.Fprintf(w, "nodes reporting: %s\n", strings.Join(rep.Nodes, ", "))
	}
	if rep.Error != "" {
		fmt.Fprintf(w, "note: %s\n", rep.Error)
	}
	if len(rep.Policies) == 0 {
		fmt.Fprintln(w, "no policies")
		return nil
	}
	for _, ph := range rep.Policies {
		fmt.Fprintln(w)
		if err := printPolicyHealth(w, ph); err != nil {
			return err
		}
	}
	return nil
}

// printPolicyHealth shows one policy's endpoints: the committed verdict
// with the observation it is shown beside, then every node's own view.
func printPolicyHealth(w io.Writer, ph api.PolicyHealth) error {
	fmt.Fprintf(w, "policy %s (%s)", ph.Name, ph.Type)
	if ph.Preferred != "" {
		fmt.Fprintf(w, ", preferred endpoint %s", ph.Preferred)
	}
	fmt.Fprintln(w)
	if ph.Error != "" {
		fmt.Fprintf(w, "note: %s\n", ph.Error)
	}
	rows := make([][]string, 0, len(ph.Endpoints))
	var obs [][]string
	for _, e := range ph.Endpoints {
		rows = append(rows, []string{e.ID, e.Address, e.Status.String(), yesNo(e.Disabled), when(e.LastCheck),
			latency(e.LatencyMS, e.LastCheck), strconv.Itoa(e.ConsecutiveFailures), dash(e.ObservedBy), dash(e.LastError)})
		for _, o := range e.Observations {
			obs = append(obs, []string{e.ID, o.Node, o.Status.String(), when(o.LastCheck), latency(o.LatencyMS, o.LastCheck),
				strconv.Itoa(o.ConsecutiveFailures), dash(o.LastError)})
		}
	}
	if err := table(w, []string{"ENDPOINT", "ADDRESS", "VERDICT", "DISABLED", "LAST CHECK", "LATENCY", "FAILURES", "SEEN BY", "LAST ERROR"}, rows); err != nil {
		return err
	}
	if len(obs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nobservations by node:")
	return table(w, []string{"ENDPOINT", "NODE", "STATUS", "LAST CHECK", "LATENCY", "FAILURES", "LAST ERROR"}, obs)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// when shows a check time in UTC, "-" when there was none.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// latency shows a probe latency, "-" when there was no check.
func latency(ms float64, checked *time.Time) string {
	if checked == nil {
		return "-"
	}
	return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
}

// plural writes "1 endpoint", "2 endpoints".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
