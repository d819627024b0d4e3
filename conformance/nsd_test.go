package conformance

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nsdSecondary describes the NSD the test runs as a secondary of resolvx.
type nsdSecondary struct {
	zones   []string // apexes
	primary string   // resolvx DNS address NSD transfers from
	keyName string
	secret  string // base64, hmac-sha256
	port    int    // NSD's port (the zones' NOTIFY target), picked by the caller
}

// startNSD runs NSD (Debian package nsd) in the foreground with its own
// configuration and directories under a temporary directory, as secondary
// for s.zones: it requests transfers from s.primary with the TSIG key and
// accepts NOTIFY from 127.0.0.1 signed with it. Rate limiting is off
// (Debian's default limits a source to 200 qps). It returns NSD's address
// and its log file; NSD is stopped by PID when the test ends.
func startNSD(t *testing.T, s nsdSecondary) (addr, logFile string) {
	t.Helper()
	nsd, err := exec.LookPath("nsd")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nsd"); statErr != nil {
			t.Fatal("nsd not found: the secondary test needs it; install Debian package nsd (apt-get install nsd)")
		}
		nsd = "/usr/sbin/nsd"
	}
	addr, logFile, err = tryStartNSD(t, nsd, s)
	if err != nil {
		t.Fatal(err)
	}
	return addr, logFile
}

func tryStartNSD(t *testing.T, nsd string, s nsdSecondary) (string, string, error) {
	dir := t.TempDir()
	port := s.port
	host, pport, _ := net.SplitHostPort(s.primary)
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
    ip-address: 127.0.0.1@%d
    port: %d
    username: ""
    chroot: ""
    zonesdir: %q
    database: ""
    zonelistfile: %q
    xfrdfile: %q
    xfrdir: %q
    pidfile: %q
    logfile: %q
    verbosity: 2
    rrl-ratelimit: 0
    xfrd-reload-timeout: 0
    server-count: 1
    hide-version: yes
    refuse-any: no
    minimal-responses: yes
remote-control:
    control-enable: no
key:
    name: %q
    algorithm: hmac-sha256
    secret: %q
`, port, port, dir, filepath.Join(dir, "zone.list"), filepath.Join(dir, "xfrd.state"), dir,
		filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "nsd.log"), s.keyName, s.secret)
	for _, z := range s.zones {
		fmt.Fprintf(&conf, `zone:
    name: %q
    zonefile: %q
    request-xfr: %s@%s %s
    allow-notify: 127.0.0.1 %s
`, z, strings.TrimSuffix(z, ".")+".zone", host, pport, s.keyName, s.keyName)
	}
	confFile := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o600); err != nil {
		return "", "", err
	}
	d, err := startDaemon(nsd, "-d", "-c", confFile)
	if err != nil {
		return "", "", err
	}
	out, done, stop := d.log, d.done, d.stop
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// NSD is up when its UDP port answers; a zone it has not transferred
	// yet is answered SERVFAIL, which is enough here.
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
			return "", "", fmt.Errorf("nsd exited:\n%s\n%s", out.String(), b)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", "", fmt.Errorf("nsd does not listen on %s after 10 s:\n%s", addr, out.String())
		}
		select {
		case <-done:
		case <-time.After(20 * time.Millisecond): // bounded poll of the listener
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
			t.Logf("nsd log:\n%s\n%s", out.String(), tail(string(b), 8192))
		}
	})
	return addr, filepath.Join(dir, "nsd.log"), nil
}
