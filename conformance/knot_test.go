package conformance

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// knotZone is one zone to load into knotd: its apex, its master-file text
// and the SOA serial knotd must report once the zone is loaded.
type knotZone struct {
	name   string
	text   string
	serial uint32
}

// lockedBuffer collects knotd's log for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startKnot runs knotd (Debian package knot) on a free 127.0.0.1 port with
// its own configuration, run directory and storage under t.TempDir(),
// serving zones, and returns its "127.0.0.1:port" once every zone answers
// its SOA with the expected serial. knotd is stopped by PID when the test
// ends, whatever the outcome. A missing knotd fails the test: the suite
// never skips.
func startKnot(t *testing.T, zones []knotZone) string {
	t.Helper()
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/knotd", "/usr/local/sbin/knotd"} {
			if _, statErr := os.Stat(p); statErr == nil {
				knotd, err = p, nil
				break
			}
		}
	}
	if err != nil {
		t.Fatal("knotd not found: the Knot differential suite needs it; install Debian package knot (apt-get install knot knot-dnsutils)")
	}
	// A port picked by binding :0 can be taken again before knotd binds
	// it; try a few.
	for range 3 {
		var addr string
		var exited bool
		if addr, exited, err = tryStartKnot(t, knotd, zones); err == nil {
			return addr
		}
		if !exited {
			break // knotd runs but does not serve a zone: a zone problem
		}
		// It stopped (or could not bind): the port was taken; another.
	}
	t.Fatalf("knotd did not start: %v", err)
	return ""
}

// tryStartKnot starts knotd once; exited reports that it stopped by
// itself (for instance because the port was taken meanwhile).
func tryStartKnot(t *testing.T, knotd string, zones []knotZone) (addr string, exited bool, err error) {
	dir := t.TempDir()
	for _, d := range []string{"zones", "run", "db"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return "", false, err
		}
	}
	port, err := freePort()
	if err != nil {
		return "", false, err
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
    rundir: %q
    listen: 127.0.0.1@%d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    udp-max-payload: 1232
    tcp-idle-timeout: 30
log:
  - target: stderr
    any: notice
database:
    storage: %q
template:
  - id: default
    storage: %q
    file: "%%s.zone"
    semantic-checks: off
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
`, filepath.Join(dir, "run"), port, filepath.Join(dir, "db"), filepath.Join(dir, "zones"))
	for _, z := range zones {
		file := filepath.Join(dir, "zones", strings.TrimSuffix(z.name, ".")+".zone")
		if err := os.WriteFile(file, []byte(z.text), 0o600); err != nil {
			return "", false, err
		}
		fmt.Fprintf(&conf, "  - domain: %s\n", z.name)
	}
	confFile := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o600); err != nil {
		return "", false, err
	}

	d, err := startDaemon(knotd, "-c", confFile)
	if err != nil {
		return "", false, err
	}
	log, done, stop := d.log, d.done, d.stop
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitForKnot(addr, zones, done, log); err != nil {
		select {
		case <-done:
			exited = true
		default:
			exited = err == errPortTaken // as good as exited: try another port
		}
		stop()
		return "", exited, fmt.Errorf("%w\nknotd log:\n%s", err, log.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("knotd log:\n%s", log.String())
		}
	})
	return addr, false, nil
}

// errPortTaken is waitForKnot's error when knotd could not bind its port
// (taken between freePort and knotd's start).
const errPortTaken = knotError("knotd could not bind its port")

type knotError string

func (e knotError) Error() string { return string(e) }

// waitForKnot polls every zone's SOA until knotd serves the expected
// serial, knotd exits, or 20 s pass. A zone knotd fails to load is seen
// in its log at once.
func waitForKnot(addr string, zones []knotZone, exited <-chan struct{}, log *lockedBuffer) error {
	deadline := time.Now().Add(20 * time.Second)
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	for _, z := range zones {
		for {
			select {
			case <-exited:
				return fmt.Errorf("knotd exited")
			default:
			}
			m := new(dns.Msg)
			m.SetQuestion(z.name, dns.TypeSOA)
			r, _, err := c.Exchange(m, addr)
			if err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) == 1 {
				if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == z.serial {
					break
				}
			}
			if l := log.String(); strings.Contains(l, "failed to load zone") {
				return fmt.Errorf("knotd could not load zone %s", z.name)
			} else if strings.Contains(l, "cannot bind") || strings.Contains(l, "failed to bind") {
				return errPortTaken
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("zone %s not served with serial %d within 20 s (last: %v %v)", z.name, z.serial, r, err)
			}
			// Poll again after a short pause (a bounded wait for the
			// zone load, not a sleep standing in for a state check).
			select {
			case <-exited:
				return fmt.Errorf("knotd exited")
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// freePort returns a loopback port free for both UDP and TCP right now.
func freePort() (int, error) {
	for range 10 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		pc.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free loopback port")
}
