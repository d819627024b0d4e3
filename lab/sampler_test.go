package lab

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// vipSample is one look at every node namespace.
type vipSample struct {
	at time.Time
	// holders are the nodes (indexes) that had the VIP in both of two
	// back-to-back rounds over all namespaces. Every read of round one
	// happens before every read of round two, so two nodes in this list
	// held the VIP at one same instant (unless one flapped off and on in
	// a few hundred microseconds); a handover between two reads of one
	// round cannot show up here as a false double holder.
	holders []int
	err     error
}

// vipSampler lists the VIP holders of all node namespaces every 50 ms
// through one OS thread parked in each namespace (netlink address dumps,
// no process per sample).
type vipSampler struct {
	lab     *Lab
	workers []*nsWorker
	vip     net.IP

	mu         sync.Mutex
	samples    []vipSample
	violations []vipSample
	stop       chan struct{}
	done       chan struct{}
}

const sampleEvery = 50 * time.Millisecond

func startSampler(t *testing.T, l *Lab) *vipSampler {
	t.Helper()
	s := newSampler(t, l)
	// The invariant of every VIP scenario, checked when the test ends
	// (also when it fails): never two holders at one sampled instant.
	t.Cleanup(func() {
		s.close()
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Logf("VIP sampler: %d samples every %v, %d with two or more holders", len(s.samples), sampleEvery, len(s.violations))
		if len(s.samples) == 0 {
			t.Errorf("VIP sampler took no sample")
		}
		for i, v := range s.violations {
			if i == 10 {
				t.Errorf("… %d more", len(s.violations)-10)
				break
			}
			t.Errorf("INVARIANT BROKEN: at %s the VIP was held by %s at once", v.at.Format("15:04:05.000"), s.names(v.holders))
		}
	})
	return s
}

// newSampler starts a sampler; the caller closes it.
func newSampler(t *testing.T, l *Lab) *vipSampler {
	t.Helper()
	s := &vipSampler{lab: l, vip: net.ParseIP(vipIP).To4(), stop: make(chan struct{}), done: make(chan struct{})}
	for _, n := range l.nodes {
		w, err := newNSWorker(n.ns)
		if err != nil {
			for _, w := range s.workers {
				w.close()
			}
			t.Fatal(err)
		}
		s.workers = append(s.workers, w)
	}
	go s.loop()
	return s
}

func (s *vipSampler) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
		<-s.done
		for _, w := range s.workers {
			w.close()
		}
	}
}

func (s *vipSampler) loop() {
	defer close(s.done)
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		smp := s.sample()
		s.mu.Lock()
		s.samples = append(s.samples, smp)
		if len(smp.holders) > 1 {
			s.violations = append(s.violations, smp)
		}
		s.mu.Unlock()
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
	}
}

// round reads every namespace once and says which held the VIP.
func (s *vipSampler) round() ([]bool, error) {
	held := make([]bool, len(s.workers))
	var firstErr error
	for i, w := range s.workers {
		w.do(func() {
			ips, err := ifaceIPv4(ifName)
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", s.lab.nodes[i].id, err)
				}
				return
			}
			for _, ip := range ips {
				if ip.Equal(s.vip) {
					held[i] = true
				}
			}
		})
	}
	return held, firstErr
}

func (s *vipSampler) sample() vipSample {
	at := time.Now()
	r1, err1 := s.round()
	r2, err2 := s.round()
	smp := vipSample{at: at, err: err1}
	if smp.err == nil {
		smp.err = err2
	}
	for i := range r1 {
		if r1[i] && r2[i] {
			smp.holders = append(smp.holders, i)
		}
	}
	return smp
}

// holders returns the current holders, read now.
func (s *vipSampler) holders() ([]int, error) {
	smp := s.sample()
	return smp.holders, smp.err
}

func (s *vipSampler) names(idx []int) string {
	if len(idx) == 0 {
		return "nobody"
	}
	var out []string
	for _, i := range idx {
		out = append(out, s.lab.nodes[i].id)
	}
	return strings.Join(out, "+")
}

// heldSince returns when n was first seen as the only holder after t0
// (zero if not yet).
func (s *vipSampler) heldSince(n *Node, t0 time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, smp := range s.samples {
		if smp.at.Before(t0) {
			continue
		}
		if len(smp.holders) == 1 && smp.holders[0] == n.idx {
			return smp.at
		}
	}
	return time.Time{}
}

// claimedAt waits until the sampling loop has recorded n as the only
// holder after t0 and returns that sample's time: the claim happened in
// the 50 ms before it.
func (l *Lab) claimedAt(n *Node, t0 time.Time) time.Time {
	l.t.Helper()
	var at time.Time
	eventually(l.t, 10*time.Second, "the sampler records "+n.id+" holding the VIP", func() (bool, string) {
		at = l.sampler.heldSince(n, t0)
		return !at.IsZero(), "not yet"
	})
	return at
}

// lastHeldBy returns the last sample time at which n held the VIP.
func (s *vipSampler) lastHeldBy(n *Node) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.samples) - 1; i >= 0; i-- {
		for _, h := range s.samples[i].holders {
			if h == n.idx {
				return s.samples[i].at
			}
		}
	}
	return time.Time{}
}

// waitVIPOn waits until n, and only n, holds the VIP.
func (l *Lab) waitVIPOn(n *Node, timeout time.Duration) time.Duration {
	l.t.Helper()
	return eventually(l.t, timeout, "the VIP on "+n.id+" only", func() (bool, string) {
		h, err := l.sampler.holders()
		if err != nil {
			return false, err.Error()
		}
		return len(h) == 1 && h[0] == n.idx, "held by " + l.sampler.names(h)
	})
}

// waitVIPOff waits until n does not hold the VIP.
func (l *Lab) waitVIPOff(n *Node, timeout time.Duration) time.Duration {
	l.t.Helper()
	return eventually(l.t, timeout, "the VIP off "+n.id, func() (bool, string) {
		h, err := l.sampler.holders()
		if err != nil {
			return false, err.Error()
		}
		for _, i := range h {
			if i == n.idx {
				return false, "held by " + l.sampler.names(h)
			}
		}
		return true, ""
	})
}
