package gtm

// Explanation says why a query gets its answer: what `resolvx explain`
// prints and GET /api/v1/explain returns.
type Explanation struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Client string `json:"client"`        // the source address used
	ECS    string `json:"ecs,omitempty"` // the client subnet sent, if any
	// Location is where the client (the ECS subnet when given, else the
	// source address) was placed, and Scope the ECS scope prefix that an
	// answer would echo.
	Location Location `json:"location"`
	Scope    int      `json:"scope"`
	// Policy is the policy bound at the name for this type; nil when the
	// name answers from ordinary records.
	Policy    *Policy             `json:"policy,omitempty"`
	Endpoints []ExplainedEndpoint `json:"endpoints,omitempty"`
	Preferred string              `json:"preferred,omitempty"` // latency policies
	Decision  *ExplainedDecision  `json:"decision,omitempty"`
	Rcode     string              `json:"rcode"`
	Answer    []string            `json:"answer"` // the reply's answer section, one RR per line
}

// ExplainedEndpoint is one endpoint with its committed verdict.
type ExplainedEndpoint struct {
	Endpoint
	Verdict   Health  `json:"verdict"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	Chosen    bool    `json:"chosen"`
}

// ExplainedDecision is the outcome of Select.
type ExplainedDecision struct {
	Chosen   []string `json:"chosen"` // endpoint IDs
	NoData   bool     `json:"nodata,omitempty"`
	Fallback bool     `json:"fallback,omitempty"`
	Region   string   `json:"region,omitempty"`
	Reason   string   `json:"reason"`
}
