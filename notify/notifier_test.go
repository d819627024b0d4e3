package notify

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/resolvx/resolvx/internal/testwait"
	"github.com/resolvx/resolvx/zone"
)

const secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"

type source struct{ v atomic.Pointer[zone.View] }

func (s *source) View() *zone.View { return s.v.Load() }

type leader struct{ b atomic.Bool }

func (l *leader) IsLeader() bool { return l.b.Load() }

// secondary is a fake secondary: it records each NOTIFY (serial, whether
// its TSIG verified) and refuses the first `fail` of them.
type secondary struct {
	mu    sync.Mutex
	got   []uint32
	valid []bool
	fail  int
}

func (s *secondary) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(r)
	if r.Opcode != dns.OpcodeNotify || len(r.Answer) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	s.got = append(s.got, r.Answer[0].(*dns.SOA).Serial)
	ok := r.IsTsig() != nil && w.TsigStatus() == nil
	s.valid = append(s.valid, ok)
	if s.fail > 0 {
		s.fail--
		m.Rcode = dns.RcodeRefused
	} else if ok {
		m.SetTsig(r.IsTsig().Hdr.Name, dns.HmacSHA256, 300, time.Now().Unix())
	}
	_ = w.WriteMsg(m)
}

func (s *secondary) serials() ([]uint32, []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.got...), append([]bool(nil), s.valid...)
}

func startSecondary(t *testing.T, sec *secondary) string {
	t.Helper()
	started := make(chan struct{})
	srv := &dns.Server{Addr: "127.0.0.1:0", Net: "udp", Handler: sec, TsigSecret: map[string]string{"xfr.": secret},
		NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ListenAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return srv.PacketConn.LocalAddr().String()
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, 5*time.Second, what, cond)
}

// Invariant: only the leader notifies; it notifies every zone once when it
// becomes leader and again on every serial change, signed with the zone's
// key, retrying a refused NOTIFY until the secondary answers NOERROR.
func TestNotifier(t *testing.T) {
	sec := &secondary{fail: 2}
	addr := startSecondary(t, sec)
	v, err := zone.Empty().CreateZone("example.com", zone.DefaultSOA("example.com"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = v.PutTSIGKey(zone.TSIGKey{Name: "xfr", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	if v, err = v.SetTransfer("example.com", zone.Transfer{TSIGKey: "xfr", Notify: []string{addr}}); err != nil {
		t.Fatal(err)
	}
	src, lead := &source{}, &leader{}
	src.v.Store(v)
	reg := prometheus.NewRegistry()
	n := New(Config{Interval: 5 * time.Millisecond, Backoff: 10 * time.Millisecond, Timeout: time.Second, Registerer: reg}, src, lead)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	// A follower stays silent: poll for a while, nothing may arrive.
	for range 20 {
		time.Sleep(5 * time.Millisecond) // a follower has nothing to wait for: this is the observation window
	}
	if got, _ := sec.serials(); len(got) != 0 {
		t.Fatalf("a follower sent NOTIFY: %v", got)
	}
	lead.b.Store(true)
	waitFor(t, "the first NOTIFY to succeed after two refusals", func() bool { got, _ := sec.serials(); return len(got) == 3 })
	if v, err = v.Apply("example.com", []zone.Change{{Op: zone.OpAdd, Record: zone.Record{ID: "a", Name: "www.example.com.", Type: "A", TTL: 60, Value: "192.0.2.1"}}}, 7); err != nil {
		t.Fatal(err)
	}
	src.v.Store(v)
	waitFor(t, "the NOTIFY of serial 7", func() bool { got, _ := sec.serials(); return len(got) == 4 })
	got, valid := sec.serials()
	for i, want := range []uint32{1, 1, 1, 7} {
		if got[i] != want || !valid[i] {
			t.Fatalf("NOTIFY %d: serial %d (TSIG valid %v), want %d signed", i, got[i], valid[i], want)
		}
	}
	waitFor(t, "the outcomes counted", func() bool {
		return sends(t, reg, "ok") == 2 && sends(t, reg, "failed") == 2
	})
}

// replication is a fake Replication: every member has applied up to
// upTo.
type replication struct{ upTo atomic.Uint64 }

func (r *replication) AllApplied(_ context.Context, index uint64) bool { return r.upTo.Load() >= index }

// Invariant: with Replication set, a zone's NOTIFY waits until every
// member has applied the change, and goes out after ReplicationWait when
// they never do.
func TestNotifierWaitsForReplication(t *testing.T) {
	sec := &secondary{}
	addr := startSecondary(t, sec)
	v, err := zone.Empty().CreateZone("example.com", zone.DefaultSOA("example.com"), 5)
	if err != nil {
		t.Fatal(err)
	}
	if v, err = v.SetTransfer("example.com", zone.Transfer{Notify: []string{addr}}); err != nil {
		t.Fatal(err)
	}
	src, lead, rep := &source{}, &leader{}, &replication{}
	src.v.Store(v)
	lead.b.Store(true)
	n := New(Config{Interval: 5 * time.Millisecond, Replication: rep, ReplicationWait: 300 * time.Millisecond}, src, lead)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	// Index 5 is not applied everywhere: nothing for a while (well under
	// ReplicationWait), then the members catch up and the NOTIFY goes.
	for range 10 {
		time.Sleep(5 * time.Millisecond) // an observation window, not a wait for state
	}
	if got, _ := sec.serials(); len(got) != 0 {
		t.Fatalf("NOTIFY before the members applied the change: %v", got)
	}
	rep.upTo.Store(5)
	waitFor(t, "the NOTIFY once replicated", func() bool { got, _ := sec.serials(); return len(got) == 1 })

	// A change the members never apply is notified after ReplicationWait.
	if v, err = v.SetSOA("example.com", zone.DefaultSOA("example.com"), 9); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	src.v.Store(v)
	waitFor(t, "the NOTIFY after ReplicationWait", func() bool { got, _ := sec.serials(); return len(got) == 2 })
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("NOTIFY of an unreplicated change after %v, want about ReplicationWait (300 ms)", d)
	}
}

// sends reads resolvx_notify_sends_total{result}.
func sends(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "resolvx_notify_sends_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
