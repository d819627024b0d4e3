package health

import (
	"context"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"

	"github.com/resolvx/resolvx/gtm"
)

// DefaultConcurrency bounds the probes a Scheduler runs at once when its
// config does not.
const DefaultConcurrency = 16

// Job is one endpoint of one policy checked by one health check.
type Job struct {
	Policy string
	Target Target
	Check  gtm.HealthCheck
}

func (j Job) key() string { return j.Policy + "\x00" + j.Target.EndpointID }

func (j Job) equal(k Job) bool { return reflect.DeepEqual(j, k) }

// ProbeFunc runs one check; (*Prober).Probe is one.
type ProbeFunc func(ctx context.Context, t Target, hc gtm.HealthCheck) Observation

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	Probe ProbeFunc
	// Report receives every observation with its job's policy name. It is
	// called from the probing goroutines, possibly concurrently, and
	// should return quickly; it must not call the Scheduler. Observations of probes cut short by Update
	// or Stop are not reported.
	Report func(policy string, o Observation)
	// Concurrency bounds the probes running at once; DefaultConcurrency
	// when zero or negative.
	Concurrency int
}

// Scheduler runs each job's check at the check's interval, start to start (gtm's default
// when unset), with up to 10% jitter and a random first delay within one
// interval so that checks spread out. Each job has its own goroutine,
// stopped when the job is removed or the Scheduler stops.
type Scheduler struct {
	cfg    SchedulerConfig
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*running
}

type running struct {
	job    Job
	cancel context.CancelFunc
	done   chan struct{}
}

// NewScheduler returns a Scheduler with no jobs. It stops when ctx ends or
// Stop is called.
func NewScheduler(ctx context.Context, cfg SchedulerConfig) *Scheduler {
	n := cfg.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Scheduler{cfg: cfg, sem: make(chan struct{}, n), ctx: ctx, cancel: cancel, jobs: map[string]*running{}}
}

// Update replaces the set of jobs. Jobs that are unchanged keep their
// schedule; new or changed ones start; the others stop, and Update returns
// once they have. A job is identified by policy and endpoint ID; when two
// jobs share both, the last wins. After Stop, Update does nothing.
func (s *Scheduler) Update(jobs []Job) {
	want := make(map[string]Job, len(jobs))
	for _, j := range jobs {
		want[j.key()] = j
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	var stopped []*running
	for k, r := range s.jobs {
		if j, ok := want[k]; !ok || !j.equal(r.job) {
			r.cancel()
			stopped = append(stopped, r)
			delete(s.jobs, k)
		}
	}
	for _, r := range stopped {
		<-r.done
	}
	for k, j := range want {
		if _, ok := s.jobs[k]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(s.ctx)
		r := &running{job: j, cancel: cancel, done: make(chan struct{})}
		s.jobs[k] = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(r.done)
			s.run(ctx, j)
		}()
	}
}

// Jobs returns how many jobs are scheduled.
func (s *Scheduler) Jobs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.jobs)
}

// Stop stops every job and returns once all their goroutines have ended.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.cancel()
	for k, r := range s.jobs {
		r.cancel()
		delete(s.jobs, k)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// run probes j until ctx ends.
func (s *Scheduler) run(ctx context.Context, j Job) {
	interval := time.Duration(j.Check.Interval)
	if interval <= 0 {
		interval = gtm.DefaultInterval
	}
	timer := time.NewTimer(rand.N(interval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		started := time.Now()
		o := s.cfg.Probe(ctx, j.Target, j.Check)
		<-s.sem
		if ctx.Err() != nil {
			return
		}
		s.cfg.Report(j.Policy, o)
		// The interval runs from start to start: a probe that waits out
		// its timeout does not stretch the time to detect a failure.
		timer.Reset(max(jitter(interval)-time.Since(started), 0))
	}
}

// jitter returns d give or take up to 10%.
func jitter(d time.Duration) time.Duration {
	spread := d / 10
	if spread <= 0 {
		return d
	}
	return d - spread + rand.N(2*spread+1)
}
