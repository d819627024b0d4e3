package health

import "time"

// Observation is the outcome of one probe of one endpoint.
type Observation struct {
	EndpointID string
	OK         bool
	// Latency is how long the probe took once the target address was
	// known (name resolution excluded); zero when it never got that far.
	Latency time.Duration
	// Error says briefly why the probe failed ("" when OK). It never holds
	// request headers or bodies.
	Error string
	At    time.Time
}
