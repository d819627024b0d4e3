package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/resolvx/resolvx/gtm"
)

// ListPolicies lists every GTM policy, sorted by name.
func (c *Client) ListPolicies(ctx context.Context) ([]gtm.Policy, error) {
	var out []gtm.Policy
	_, err := c.do(ctx, http.MethodGet, "/policies", c.readQuery(nil), nil, &out)
	return out, err
}

// GetPolicy returns one policy.
func (c *Client) GetPolicy(ctx context.Context, name string) (gtm.Policy, error) {
	var out gtm.Policy
	_, err := c.do(ctx, http.MethodGet, policyPath(name), c.readQuery(nil), nil, &out)
	return out, err
}

// CreatePolicy creates a policy (ALREADY_EXISTS when one has its name) and
// returns it as stored, with its defaults filled in.
func (c *Client) CreatePolicy(ctx context.Context, p gtm.Policy) (gtm.Policy, uint64, error) {
	var out gtm.Policy
	index, err := c.do(ctx, http.MethodPost, "/policies", nil, jsonBody(p), &out)
	return out, index, err
}

// PutPolicy creates or replaces the policy p.Name.
func (c *Client) PutPolicy(ctx context.Context, p gtm.Policy) (gtm.Policy, uint64, error) {
	var out gtm.Policy
	index, err := c.do(ctx, http.MethodPut, policyPath(p.Name), nil, jsonBody(p), &out)
	return out, index, err
}

// DeletePolicy removes a policy and its verdicts.
func (c *Client) DeletePolicy(ctx context.Context, name string) (uint64, error) {
	return c.do(ctx, http.MethodDelete, policyPath(name), nil, nil, nil)
}

// PatchEndpoint changes some fields of one endpoint (a weight, a priority,
// disabled to drain it) and returns the whole policy.
func (c *Client) PatchEndpoint(ctx context.Context, policy, endpoint string, patch gtm.EndpointPatch) (gtm.Policy, uint64, error) {
	var out gtm.Policy
	index, err := c.do(ctx, http.MethodPatch, policyPath(policy)+"/endpoints/"+url.PathEscape(endpoint), nil, jsonBody(patch), &out)
	return out, index, err
}

// PolicyHealth returns the committed verdicts of a policy's endpoints with
// every node's observations.
func (c *Client) PolicyHealth(ctx context.Context, name string) (PolicyHealth, error) {
	var out PolicyHealth
	_, err := c.do(ctx, http.MethodGet, policyPath(name)+"/health", c.readQuery(nil), nil, &out)
	return out, err
}

// Health returns the health of every policy.
func (c *Client) Health(ctx context.Context) (HealthReport, error) {
	var out HealthReport
	_, err := c.do(ctx, http.MethodGet, "/health", c.readQuery(nil), nil, &out)
	return out, err
}

// ExplainQuery is a query to explain. Type "" is A; Client "" is the
// address the API sees the request come from; ECS "" sends no client
// subnet.
type ExplainQuery struct {
	Name   string
	Type   string
	Client string
	ECS    string
}

// Explain says why the query gets its answer from the node behind the API.
func (c *Client) Explain(ctx context.Context, eq ExplainQuery) (gtm.Explanation, error) {
	q := url.Values{}
	q.Set("name", eq.Name)
	for k, v := range map[string]string{"type": eq.Type, "client": eq.Client, "ecs": eq.ECS} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out gtm.Explanation
	_, err := c.do(ctx, http.MethodGet, "/explain", c.readQuery(q), nil, &out)
	return out, err
}

func policyPath(name string) string { return "/policies/" + url.PathEscape(name) }
