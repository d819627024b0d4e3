package lab

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// writers write records without pause, one goroutine per node, each
// through its own node, and keep every outcome.
type writers struct {
	mu      sync.Mutex
	seq     int
	results []writeResult
	stop    chan struct{}
	wg      sync.WaitGroup
}

func (l *Lab) startWriters(t *testing.T, nodes []*Node, pause time.Duration) *writers {
	w := &writers{stop: make(chan struct{})}
	for _, n := range nodes {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-w.stop:
					return
				default:
				}
				if n.running() && !n.isStopped() {
					w.write(n)
				}
				select {
				case <-w.stop:
					return
				case <-time.After(pause):
				}
			}
		}()
	}
	t.Cleanup(w.close)
	return w
}

// write makes one uniquely named A record through n and keeps the outcome.
func (w *writers) write(n *Node) writeResult {
	w.mu.Lock()
	w.seq++
	seq := w.seq
	w.mu.Unlock()
	r := n.createRecord(fmt.Sprintf("w%05d", seq), "A", fmt.Sprintf("198.51.%d.%d", seq/250%250, seq%250+1))
	w.mu.Lock()
	w.results = append(w.results, r)
	w.mu.Unlock()
	return r
}

func (w *writers) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

func (w *writers) snapshot() []writeResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]writeResult(nil), w.results...)
}

// ackedWrites returns the acknowledged writes among rs.
func ackedWrites(rs []writeResult) []writeResult {
	var out []writeResult
	for _, r := range rs {
		if r.acked() {
			out = append(out, r)
		}
	}
	return out
}

// summary counts outcomes per node and code for the test log.
func writeSummary(rs []writeResult) string {
	count := map[string]int{}
	for _, r := range rs {
		k := r.node + ":"
		switch {
		case r.acked():
			k += "acked"
		case r.code != "":
			k += r.code
		default:
			k += "no-reply"
		}
		count[k]++
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, count[k]))
	}
	return strings.Join(parts, " ")
}

// checkAcked asserts that every acknowledged write is in every node's
// state (by record id, stale read) and answered by every node's DNS.
func (l *Lab) checkAcked(t *testing.T, acked []writeResult, nodes []*Node) (lost int) {
	t.Helper()
	for _, n := range nodes {
		have, err := n.recordIDs()
		if err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
		missing := 0
		for _, w := range acked {
			if !have[w.id] {
				missing++
				if missing <= 5 {
					t.Errorf("LOST WRITE: %s (id %s, acked by %s at index %d) is not on %s", w.name, w.id, w.node, w.index, n.id)
				}
			}
		}
		if missing > 5 {
			t.Errorf("… %d acknowledged writes missing on %s in all", missing, n.id)
		}
		lost = max(lost, missing)
	}
	// The same over DNS, one socket per node.
	for _, n := range nodes {
		conn, err := listenUDP(l.client)
		if err != nil {
			t.Fatal(err)
		}
		server := &net.UDPAddr{IP: net.ParseIP(n.ip), Port: 53}
		bad := 0
		for _, w := range acked {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(w.name+"."+labZone), dns.TypeA)
			r, err := exchange(conn, server, m, time.Second)
			ok := err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
			if ok {
				a, isA := r.Answer[0].(*dns.A)
				ok = isA && a.A.String() == w.value
			}
			if !ok {
				bad++
				if bad <= 5 {
					t.Errorf("%s does not answer %s A %s (err %v)", n.id, w.name, w.value, err)
				}
			}
		}
		conn.Close()
		lost = max(lost, bad)
	}
	return lost
}

// waitConverged waits until every node has applied the same index, at
// least min, and returns how long that took.
func (l *Lab) waitConverged(t *testing.T, nodes []*Node, min uint64, timeout time.Duration) time.Duration {
	t.Helper()
	return eventually(t, timeout, "every node applied the same index", func() (bool, string) {
		var idx []string
		var first uint64
		same := true
		for i, n := range nodes {
			s, err := n.status()
			if err != nil {
				return false, fmt.Sprintf("%s: %v", n.id, err)
			}
			if i == 0 {
				first = s.AppliedIndex
			}
			same = same && s.AppliedIndex == first && s.AppliedIndex >= min && !s.ReadOnly && s.Leader != ""
			idx = append(idx, fmt.Sprintf("%s=%d(ro=%v,leader=%q)", n.id, s.AppliedIndex, s.ReadOnly, s.Leader))
		}
		return same, strings.Join(idx, " ")
	})
}

func maxIndex(rs []writeResult) uint64 {
	var m uint64
	for _, r := range rs {
		m = max(m, r.index)
	}
	return m
}
