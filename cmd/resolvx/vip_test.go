package main

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/resolvx/resolvx/cluster"
	"github.com/resolvx/resolvx/vip"
)

// Invariant: the VIP is off by default with the documented defaults;
// --vip enables it with its address, --vip-interface names the interface,
// the environment does the same, and the file's keys reach the manager's
// configuration (announce: false → no announcements).
func TestVIPConfigSources(t *testing.T) {
	d := defaultConfig().Cluster.VIP
	if d.Enabled || d.GratuitousARPCount != 3 || time.Duration(d.Lease) != time.Second || !d.Announce {
		t.Fatalf("defaults: %+v", d)
	}
	dir := t.TempDir()

	cmd := newServerCmd(os.Stderr)
	if err := cmd.Flags().Parse([]string{"--vip", "10.213.0.100/24", "--vip-interface", "br0", "--data-dir", dir}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd, "")
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Cluster.VIP; !v.Enabled || v.Address != "10.213.0.100/24" || v.Interface != "br0" {
		t.Fatalf("flags: %+v", v)
	}

	t.Setenv("RESOLVX_VIP", "fd00:213::100/64")
	t.Setenv("RESOLVX_VIP_INTERFACE", "eth1")
	cfg, err = loadConfig(newServerCmd(os.Stderr), writeFile(t, "storage:\n  path: "+dir+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Cluster.VIP; !v.Enabled || v.Address != "fd00:213::100/64" || v.Interface != "eth1" {
		t.Fatalf("environment: %+v", v)
	}
	os.Unsetenv("RESOLVX_VIP")
	os.Unsetenv("RESOLVX_VIP_INTERFACE")

	cfg, err = loadConfig(newServerCmd(os.Stderr), writeFile(t, `
cluster:
  vip:
    enabled: true
    address: 10.213.0.100/32
    interface: eth0
    gratuitous_arp_count: 5
    lease: 2s
    announce: false
storage:
  path: `+dir+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	vc := cfg.Cluster.VIP.vipConfig(slog.New(slog.DiscardHandler))
	if vc.Address.String() != "10.213.0.100/32" || vc.Interface != "eth0" || vc.GratuitousARPCount != 5 || vc.Lease != 2*time.Second || !vc.NoAnnounce {
		t.Fatalf("manager config: %+v", vc)
	}
}

// Invariant: every bad VIP setting is a startup error naming its key.
func TestVIPConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ vip, want string }{
		{"enabled: true\n    interface: eth0", "cluster.vip.address"},
		{"enabled: true\n    address: 10.0.0.300/24\n    interface: eth0", "cluster.vip.address"},
		{"enabled: true\n    address: 10.0.0.100\n    interface: eth0", "cluster.vip.address"},
		{"enabled: true\n    address: 127.0.0.5/8\n    interface: eth0", "cluster.vip.address"},
		{"enabled: true\n    address: 10.0.0.100/24", "cluster.vip.interface"},
		{"enabled: true\n    address: 10.0.0.100/24\n    interface: a-very-long-interface-name", "cluster.vip.interface"},
		{"enabled: true\n    address: 10.0.0.100/24\n    interface: eth0\n    lease: 500ms", "cluster.vip.lease"},
		{"enabled: true\n    address: 10.0.0.100/24\n    interface: eth0\n    gratuitous_arp_count: 0", "cluster.vip.gratuitous_arp_count"},
		{"enabled: true\n    address: 10.0.0.100/24\n    interface: eth0\n    lease: soon", "not a duration"},
	} {
		text := "cluster:\n  vip:\n    " + tc.vip + "\nstorage:\n  path: " + dir + "\n"
		_, err := loadConfig(newServerCmd(os.Stderr), writeFile(t, text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: want an error naming %q, got %v", tc.vip, tc.want, err)
		}
	}
	cmd := newServerCmd(os.Stderr)
	if err := cmd.Flags().Parse([]string{"--vip", "nonsense", "--vip-interface", "eth0", "--data-dir", dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(cmd, ""); err == nil || !strings.Contains(err.Error(), "cluster.vip.address") {
		t.Errorf("--vip nonsense: %v", err)
	}
}

// Invariant: the cluster's gate waits the manager's whole expiry bound (the
// lease in whole seconds, the kernel's lateness, the decision age), and a
// disabled VIP leaves the cluster's VIP fields unset.
func TestVIPWiringConfiguresTheGate(t *testing.T) {
	off, err := newVIPWiring(context.Background(), VIPConfig{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var cc cluster.Config
	off.configure(&cc)
	if cc.VIPLease != 0 || cc.BeforeTransfer != nil || cc.VIPHeld != nil {
		t.Fatalf("disabled VIP configured the gate: %+v", cc)
	}
	on := &vipWiring{on: true, cfg: VIPConfig{Address: "10.213.0.100/24", Interface: "eth0", Lease: Duration(1500 * time.Millisecond), GratuitousARPCount: 3}.vipConfig(slog.New(slog.DiscardHandler))}
	on.configure(&cc)
	if want := 2*time.Second + vip.ExpirySlack + vip.MaxDecisionAge; cc.VIPLease != want {
		t.Fatalf("VIPLease %s, want %s", cc.VIPLease, want)
	}
	if cc.VIPAddress != "10.213.0.100/24" || cc.VIPHeld() || cc.BeforeTransfer(context.Background()) != nil {
		t.Fatalf("hooks before the manager exists: %+v", cc)
	}
}
