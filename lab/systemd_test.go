package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unitPath = "../deploy/systemd/resolvx.service"

// TestSystemdUnit: `systemd-analyze verify` accepts deploy/systemd/
// resolvx.service with no warning at all, and the unit keeps what the
// deployment relies on (non-root user, the three capabilities and no
// others, state directory, restart policy, graceful SIGTERM, address
// families for netlink and ARP).
//
// verify insists that ExecStart's binary exists, so it checks a copy of
// the unit in a temporary directory whose ExecStart names the binary under
// test instead of /usr/local/bin/resolvx; nothing is written outside the
// test's temporary directory.
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze is needed to verify the unit (Debian package systemd): %v", err)
	}
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	const installed = "/usr/local/bin/resolvx"
	for _, want := range []string{
		"ExecStart=" + installed + " server --config /etc/resolvx/resolvx.yaml",
		"User=resolvx",
		"DynamicUser=yes",
		"StateDirectory=resolvx",
		"AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE\n",
		"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE\n",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET\n",
		"Restart=on-failure",
		"KillSignal=SIGTERM",
		"TimeoutStopSec=",
		"NoNewPrivileges=yes",
		"ProtectSystem=strict",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("%s lacks %q", unitPath, strings.TrimSpace(want))
		}
	}
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "resolvx.service")
	if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(unit, installed, binPath)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", copyPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
	}
}
