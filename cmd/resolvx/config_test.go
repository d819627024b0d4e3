package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/resolvx/resolvx/geo"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "resolvx.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Invariant: later sources win — file < environment < flags — and keys a
// source does not set keep the earlier value.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, `
cluster:
  node_id: from-file
  join: [10.0.0.1:7946]
  raft:
    election_timeout: 300ms
dns:
  listen: 127.0.0.1:2053
storage:
  path: `+dir+`
`)
	env := map[string]string{"RESOLVX_NODE_ID": "from-env", "RESOLVX_JOIN": "a:1, b:2"}
	cmd := newServerCmd(os.Stderr)
	if err := cmd.Flags().Parse([]string{"--node-id", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	if err := cfg.loadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := cfg.loadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster.NodeID != "from-env" || strings.Join(cfg.Cluster.Join, ",") != "a:1,b:2" {
		t.Fatalf("env did not override the file: %+v", cfg.Cluster)
	}
	if cfg.DNS.Listen != "127.0.0.1:2053" || time.Duration(cfg.Cluster.Raft.ElectionTimeout) != 300*time.Millisecond {
		t.Fatalf("file values lost: %+v", cfg)
	}
	if cfg.API.Listen != "127.0.0.1:8080" || time.Duration(cfg.Cluster.Raft.HeartbeatTimeout) != 500*time.Millisecond {
		t.Fatalf("defaults lost: %+v", cfg)
	}
	t.Setenv("RESOLVX_NODE_ID", "from-env")
	got, err := loadConfig(cmd, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cluster.NodeID != "from-flag" {
		t.Fatalf("flag did not win: %q", got.Cluster.NodeID)
	}
}

// Invariant: every bad setting is a startup error that names its key.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ file, want string }{
		{"cluster:\n  nodeid: x\n", "nodeid"},
		{"dns:\n  listen: nonsense\n", "dns.listen"},
		{"api:\n  listen: 127.0.0.1:99999\n", "api.listen"},
		{"cluster:\n  join: [\"no-port\"]\n", "cluster.join"},
		{"cluster:\n  raft:\n    heartbeat_timeout: soon\n", "not a duration"},
		{"cluster:\n  raft:\n    leader_lease_timeout: 2s\n", "cluster.raft.leader_lease_timeout"},
		{"log:\n  level: loud\n", "log.level"},
		{"storage:\n  path: /proc/resolvx-cannot-write\n", "storage.path"},
	} {
		text := tc.file
		if !strings.Contains(text, "storage:") {
			text += "storage:\n  path: " + dir + "\n"
		}
		cmd := newServerCmd(os.Stderr)
		_, err := loadConfig(cmd, writeFile(t, text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: want an error naming %q, got %v", tc.file, tc.want, err)
		}
	}
}

func TestEmptyConfigFileIsAccepted(t *testing.T) {
	cfg := defaultConfig()
	if err := cfg.loadFile(writeFile(t, "")); err != nil {
		t.Fatal(err)
	}
}

// Invariant: every shipped example configuration loads and validates (with
// its storage path pointed at a temporary directory).
func TestExampleConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../deploy/examples/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("want the five example configs, got %v %v", files, err)
	}
	for _, f := range files {
		cfg := defaultConfig()
		if err := cfg.loadFile(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cfg.Storage.Path = t.TempDir()
		if err := cfg.validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if db, err := geo.Open(cfg.GTM.GeoIPDatabase, cfg.GTM.GeoCIDRs); err != nil {
			t.Errorf("%s: gtm: %v", f, err)
		} else {
			db.Close()
		}
		if !cfg.Cluster.VIP.Enabled || len(cfg.Cluster.Join) != 4 || cfg.Cluster.Bootstrap {
			t.Errorf("%s: want the VIP on, four join addresses and no bootstrap: %+v", f, cfg.Cluster)
		}
	}
}

// Invariant: health checks may not be pointed at resolvx itself, and the
// probe concurrency is bounded.
func TestGTMConfigRefusesSelf(t *testing.T) {
	for _, tc := range []struct {
		resolver string
		conc     int
		want     string
	}{
		{"127.0.0.1:1053", 16, "resolvx itself"}, // dns.listen
		{"10.0.0.53:1053", 16, "resolvx itself"}, // the VIP
		{"not-an-address", 16, "gtm.health_resolver"},
		{"192.0.2.53:53", 0, "gtm.probe_concurrency"},
		{"192.0.2.53:53", 16, ""},
	} {
		cfg := defaultConfig()
		cfg.Storage.Path = t.TempDir()
		cfg.Cluster.VIP.Address = "10.0.0.53/24"
		cfg.GTM.HealthResolver, cfg.GTM.ProbeConcurrency = tc.resolver, tc.conc
		err := cfg.validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("resolver %s concurrency %d: %v, want %q", tc.resolver, tc.conc, err, tc.want)
		}
	}
}
