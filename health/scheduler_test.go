package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// reports counts observations per policy and endpoint.
type reports struct {
	mu sync.Mutex
	n  map[string]int
	ok int
}

func (r *reports) add(policy string, o Observation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[policy+"/"+o.EndpointID]++
	if o.OK {
		r.ok++
	}
}

func (r *reports) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[key]
}

func (r *reports) total() (all, ok int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.n {
		all += n
	}
	return all, r.ok
}

func (r *reports) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n, r.ok = nil, 0
}

func fastCheck(port int) gtm.HealthCheck {
	return gtm.HealthCheck{Type: "http", Port: port, Path: "/", Interval: gtm.Duration(10 * time.Millisecond), Timeout: gtm.Duration(gtm.DefaultTimeout)}
}

func TestSchedulerBoundsConcurrency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // a slow endpoint, so probes overlap
	}))
	defer srv.Close()
	ip, port := splitHostPort(t, srv.Listener.Addr().String())

	const limit = 3
	var cur, peak atomic.Int64
	p := &Prober{}
	probe := func(ctx context.Context, tg Target, hc gtm.HealthCheck) Observation {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			m := peak.Load()
			if n <= m || peak.CompareAndSwap(m, n) {
				break
			}
		}
		return p.Probe(ctx, tg, hc)
	}
	var rep reports
	s := NewScheduler(context.Background(), SchedulerConfig{Probe: probe, Report: rep.add, Concurrency: limit})
	defer s.Stop()
	var jobs []Job
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		jobs = append(jobs, Job{Policy: "web", Target: Target{EndpointID: id, Address: ip}, Check: fastCheck(port)})
	}
	s.Update(jobs)
	waitFor(t, "40 observations", func() bool { n, _ := rep.total(); return n >= 40 })
	s.Stop()
	if got := peak.Load(); got > limit {
		t.Fatalf("%d probes ran at once, limit %d", got, limit)
	}
	if all, ok := rep.total(); ok != all {
		t.Errorf("%d of %d probes failed", all-ok, all)
	}
}

func TestSchedulerSaturates(t *testing.T) {
	const limit = 2
	var inflight atomic.Int64
	probe := func(ctx context.Context, tg Target, _ gtm.HealthCheck) Observation {
		inflight.Add(1)
		defer inflight.Add(-1)
		<-ctx.Done() // hold the slot until the job stops
		return Observation{EndpointID: tg.EndpointID}
	}
	var rep reports
	s := NewScheduler(context.Background(), SchedulerConfig{Probe: probe, Report: rep.add, Concurrency: limit})
	hc := gtm.HealthCheck{Type: "tcp", Interval: gtm.Duration(time.Millisecond)}
	var jobs []Job
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		jobs = append(jobs, Job{Policy: "p", Target: Target{EndpointID: id, Address: "127.0.0.1"}, Check: hc})
	}
	s.Update(jobs)
	waitFor(t, "the limit reached", func() bool { return inflight.Load() == limit })
	s.Stop() // returns only once the blocked probes have given up
	if n := inflight.Load(); n != 0 {
		t.Fatalf("%d probes still running after Stop", n)
	}
	if all, _ := rep.total(); all != 0 {
		t.Fatalf("%d observations of canceled probes reported", all)
	}
}

func TestSchedulerUpdate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ip, port := splitHostPort(t, srv.Listener.Addr().String())
	job := func(policy, id string) Job {
		return Job{Policy: policy, Target: Target{EndpointID: id, Address: ip}, Check: fastCheck(port)}
	}
	var rep reports
	p := &Prober{}
	s := NewScheduler(context.Background(), SchedulerConfig{Probe: p.Probe, Report: rep.add})
	defer s.Stop()

	s.Update([]Job{job("p1", "a"), job("p1", "b")})
	waitFor(t, "a and b probed", func() bool { return rep.count("p1/a") >= 2 && rep.count("p1/b") >= 2 })

	// Remove a, keep b, add c in another policy. Once Update returns a's
	// goroutine has ended, so a is never reported again.
	s.Update([]Job{job("p1", "b"), job("p2", "c")})
	if s.Jobs() != 2 {
		t.Fatalf("%d jobs, want 2", s.Jobs())
	}
	rep.reset()
	waitFor(t, "b and c probed", func() bool { return rep.count("p1/b") >= 3 && rep.count("p2/c") >= 3 })
	if n := rep.count("p1/a"); n != 0 {
		t.Fatalf("removed job reported %d times", n)
	}

	// A changed check restarts the job with the new settings.
	changed := job("p2", "c")
	changed.Check.Path = "/other"
	changed.Check.ExpectedStatus = 200
	s.Update([]Job{changed})
	rep.reset()
	waitFor(t, "changed c probed", func() bool { return rep.count("p2/c") >= 2 })
	if n := rep.count("p1/b"); n != 0 {
		t.Fatalf("removed job reported %d times", n)
	}

	s.Update(nil)
	if s.Jobs() != 0 {
		t.Fatalf("%d jobs after Update(nil)", s.Jobs())
	}
}

func TestSchedulerStopEndsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	var rep reports
	var probes atomic.Int64
	probe := func(_ context.Context, tg Target, _ gtm.HealthCheck) Observation {
		probes.Add(1)
		return Observation{EndpointID: tg.EndpointID, OK: true}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewScheduler(ctx, SchedulerConfig{Probe: probe, Report: rep.add})
	hc := gtm.HealthCheck{Type: "tcp", Interval: gtm.Duration(time.Millisecond)}
	var jobs []Job
	for _, id := range []string{"a", "b", "c", "d"} {
		jobs = append(jobs, Job{Policy: "p", Target: Target{EndpointID: id}, Check: hc})
	}
	s.Update(jobs)
	waitFor(t, "probes", func() bool { return probes.Load() >= 8 })
	s.Stop()
	stopped := probes.Load()
	s.Update(jobs) // does nothing after Stop
	if s.Jobs() != 0 {
		t.Fatalf("%d jobs after Stop", s.Jobs())
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	if n := probes.Load(); n != stopped {
		t.Fatalf("%d probes after Stop", n-stopped)
	}
	s.Stop() // a second Stop is harmless
}

func TestSchedulerStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	probe := func(ctx context.Context, tg Target, _ gtm.HealthCheck) Observation {
		<-ctx.Done()
		return Observation{EndpointID: tg.EndpointID}
	}
	s := NewScheduler(ctx, SchedulerConfig{Probe: probe, Report: func(string, Observation) {}})
	s.Update([]Job{{Policy: "p", Target: Target{EndpointID: "a"}, Check: gtm.HealthCheck{Interval: gtm.Duration(time.Millisecond)}}})
	cancel()
	s.Stop() // waits for the job, which ends with ctx
}

func TestJitter(t *testing.T) {
	for range 1000 {
		if d := jitter(time.Second); d < 900*time.Millisecond || d > 1100*time.Millisecond {
			t.Fatalf("jitter(1s) = %v", d)
		}
	}
	if d := jitter(5); d != 5 {
		t.Fatalf("jitter(5ns) = %v", d)
	}
}
