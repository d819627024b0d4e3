package verdict

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// Method is the cluster RPC method that returns a node's own observations.
const Method = "health.observations"

// Member is one voter: its node ID and cluster address.
type Member struct {
	ID      string
	Address string
}

// Caller calls an RPC method on a peer; transport.Call is one.
type Caller func(ctx context.Context, addr, method string, req, resp any) error

// report is the answer of Method: the node's observations and its clock,
// so that the caller can judge their age without trusting clocks to agree.
type report struct {
	Now          time.Time         `json:"now"`
	Observations []gtm.Observation `json:"observations"`
}

// Collector gathers the observations of every voter.
type Collector struct {
	// Node is this node's ID; its observations come from Local, not RPC.
	Node string
	// Local returns this node's own observations (health.Monitor).
	Local func() []gtm.Observation
	// Voters returns the current voters (cluster.Node.Voters, adapted).
	Voters func() ([]Member, error)
	// Call reaches a peer.
	Call Caller
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Handle serves Method: this node's own observations.
func (c *Collector) Handle(context.Context, json.RawMessage) (any, error) {
	return report{Now: c.now(), Observations: c.Local()}, nil
}

func (c *Collector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Collect returns the observations of every voter that answered within
// ctx, each with its age on the observing node's own clock, how many voters
// there are, and one error per voter that did not answer.
func (c *Collector) Collect(ctx context.Context) ([]Aged, int, []error) {
	voters, err := c.Voters()
	if err != nil {
		return nil, 0, []error{fmt.Errorf("voters: %w", err)}
	}
	var (
		mu   sync.Mutex
		out  []Aged
		errs []error
		wg   sync.WaitGroup
	)
	add := func(r report) {
		mu.Lock()
		defer mu.Unlock()
		for _, o := range r.Observations {
			out = append(out, Aged{Observation: o, Age: r.Now.Sub(o.LastCheck)})
		}
	}
	for _, m := range voters {
		if m.ID == c.Node {
			add(report{Now: c.now(), Observations: c.Local()})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r report
			if err := c.Call(ctx, m.Address, Method, struct{}{}, &r); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("node %s: %w", m.ID, err))
				mu.Unlock()
				return
			}
			for i := range r.Observations {
				r.Observations[i].Node = m.ID // a node speaks for itself only
			}
			add(r)
		}()
	}
	wg.Wait()
	return out, len(voters), errs
}

// Aged is an observation with its age on the node that made it.
type Aged struct {
	gtm.Observation
	Age time.Duration
}

// Observations returns every voter's observations (for the API), ignoring
// voters that do not answer within ctx; the error says which did not.
func (c *Collector) Observations(ctx context.Context) ([]gtm.Observation, error) {
	aged, _, errs := c.Collect(ctx)
	out := make([]gtm.Observation, len(aged))
	for i, a := range aged {
		out[i] = a.Observation
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%d node(s) did not report: %v", len(errs), errs)
	}
	return out, nil
}
