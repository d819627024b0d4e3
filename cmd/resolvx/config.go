package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/resolvx/resolvx/health"
	"github.com/resolvx/resolvx/vip"
)

// Config is the server configuration. Sources, later wins: the embedded
// defaults, the YAML file (--config), RESOLVX_* environment variables, flags.
type Config struct {
	Cluster ClusterConfig `yaml:"cluster"`
	DNS     ListenConfig  `yaml:"dns"`
	API     ListenConfig  `yaml:"api"`
	Storage StorageConfig `yaml:"storage"`
	Log     LogConfig     `yaml:"log"`
	GTM     GTMConfig     `yaml:"gtm"`
}

// GTMConfig is the gtm.* section: where clients are, and how health checks
// reach their endpoints.
type GTMConfig struct {
	// GeoIPDatabase is a MaxMind (GeoIP2/GeoLite2 Country or City) database
	// file for geographic policies; "" for none.
	GeoIPDatabase string `yaml:"geoip_database"`
	// GeoCIDRs maps client prefixes to regions (a continent or an ISO 3166
	// country code); they win over the database.
	GeoCIDRs map[string]string `yaml:"geo_cidrs"`
	// HealthResolver is the DNS server (host:port) that health checks use
	// to resolve host-name endpoints; "" uses the system resolver. It must
	// not be resolvx itself.
	HealthResolver string `yaml:"health_resolver"`
	// ProbeConcurrency bounds the probes this node runs at once.
	ProbeConcurrency int `yaml:"probe_concurrency"`
}

// ClusterConfig is the cluster.* section.
type ClusterConfig struct {
	NodeID    string     `yaml:"node_id"`
	Listen    string     `yaml:"listen"`
	Advertise string     `yaml:"advertise"`
	Bootstrap bool       `yaml:"bootstrap"`
	Join      []string   `yaml:"join"`
	Raft      RaftConfig `yaml:"raft"`
	VIP       VIPConfig  `yaml:"vip"`
}

// VIPConfig is the floating service address (cluster.vip.*): held by the
// leader as a lease with a kernel lifetime, announced with gratuitous ARP
// (IPv4) or unsolicited neighbour advertisements (IPv6).
type VIPConfig struct {
	Enabled bool `yaml:"enabled"`
	// Address is the VIP with its prefix length, IPv4 or IPv6.
	Address string `yaml:"address"`
	// Interface carries the VIP (it needs to be on the clients' L2 segment).
	Interface string `yaml:"interface"`
	// GratuitousARPCount announcements on a claim (then one every 5 s).
	GratuitousARPCount int `yaml:"gratuitous_arp_count"`
	// Lease is the address's kernel lifetime, whole seconds, at least 1s.
	Lease Duration `yaml:"lease"`
	// Announce sends the announcements; false turns them off.
	Announce bool `yaml:"announce"`
}

// RaftConfig holds the Raft timings (cluster.raft.*).
type RaftConfig struct {
	HeartbeatTimeout   Duration `yaml:"heartbeat_timeout"`
	ElectionTimeout    Duration `yaml:"election_timeout"`
	LeaderLeaseTimeout Duration `yaml:"leader_lease_timeout"`
	CommitTimeout      Duration `yaml:"commit_timeout"`
	SnapshotThreshold  uint64   `yaml:"snapshot_threshold"`
	SnapshotInterval   Duration `yaml:"snapshot_interval"`
}

// ListenConfig is a section with one listen address.
type ListenConfig struct {
	Listen string `yaml:"listen"`
}

// StorageConfig is the storage.* section.
type StorageConfig struct {
	Path string `yaml:"path"`
}

// LogConfig is the log.* section.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Duration reads "500ms" from YAML and the environment.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (use a value such as \"500ms\")", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// defaultConfig is the embedded configuration: one node on loopback, no
// root needed.
func defaultConfig() Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "resolvx"
	}
	return Config{
		Cluster: ClusterConfig{
			NodeID: host,
			Listen: "127.0.0.1:7946",
			Raft: RaftConfig{
				HeartbeatTimeout:   Duration(500 * time.Millisecond),
				ElectionTimeout:    Duration(500 * time.Millisecond),
				LeaderLeaseTimeout: Duration(250 * time.Millisecond),
				CommitTimeout:      Duration(5 * time.Millisecond),
				SnapshotThreshold:  8192,
				SnapshotInterval:   Duration(60 * time.Second),
			},
			VIP: VIPConfig{
				GratuitousARPCount: vip.DefaultGratuitousARPCount,
				Lease:              Duration(vip.DefaultLease),
				Announce:           true,
			},
		},
		DNS:     ListenConfig{Listen: "127.0.0.1:1053"},
		API:     ListenConfig{Listen: "127.0.0.1:8080"},
		Storage: StorageConfig{Path: "./data"},
		Log:     LogConfig{Level: "info", Format: "text"},
		GTM:     GTMConfig{ProbeConcurrency: health.DefaultConcurrency},
	}
}

// loadFile overlays the YAML file at path onto c. Unknown keys are errors.
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: it is accepted and changes nothing.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// setting is one key that can also be set from the environment and a flag.
type setting struct {
	key  string // YAML key, used in error messages
	env  string
	flag string
	set  func(c *Config, v string) error
}

func str(p func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

// settings lists the keys with an environment variable and a flag.
func settings() []setting {
	return []setting{
		{"cluster.node_id", "RESOLVX_NODE_ID", "node-id", str(func(c *Config) *string { return &c.Cluster.NodeID })},
		{"storage.path", "RESOLVX_DATA_DIR", "data-dir", str(func(c *Config) *string { return &c.Storage.Path })},
		{"dns.listen", "RESOLVX_DNS_LISTEN", "dns-listen", str(func(c *Config) *string { return &c.DNS.Listen })},
		{"api.listen", "RESOLVX_API_LISTEN", "api-listen", str(func(c *Config) *string { return &c.API.Listen })},
		{"cluster.listen", "RESOLVX_CLUSTER_LISTEN", "cluster-listen", str(func(c *Config) *string { return &c.Cluster.Listen })},
		{"cluster.advertise", "RESOLVX_CLUSTER_ADVERTISE", "cluster-advertise", str(func(c *Config) *string { return &c.Cluster.Advertise })},
		{"cluster.bootstrap", "RESOLVX_BOOTSTRAP", "bootstrap", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.Cluster.Bootstrap = b
			return nil
		}},
		{"cluster.join", "RESOLVX_JOIN", "join", func(c *Config, v string) error {
			c.Cluster.Join = splitList(v)
			return nil
		}},
		{"cluster.vip.address", "RESOLVX_VIP", "vip", func(c *Config, v string) error {
			c.Cluster.VIP.Enabled, c.Cluster.VIP.Address = true, v
			return nil
		}},
		{"cluster.vip.interface", "RESOLVX_VIP_INTERFACE", "vip-interface", str(func(c *Config) *string { return &c.Cluster.VIP.Interface })},
		{"log.level", "RESOLVX_LOG_LEVEL", "log-level", str(func(c *Config) *string { return &c.Log.Level })},
		{"log.format", "RESOLVX_LOG_FORMAT", "log-format", str(func(c *Config) *string { return &c.Log.Format })},
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// loadEnv overlays RESOLVX_* variables (lookup is os.LookupEnv in main).
func (c *Config) loadEnv(lookup func(string) (string, bool)) error {
	for _, s := range settings() {
		if v, ok := lookup(s.env); ok && v != "" {
			if err := s.set(c, v); err != nil {
				return fmt.Errorf("%s (from %s): %w", s.key, s.env, err)
			}
		}
	}
	return nil
}

// validate checks the whole configuration; every error names its key.
func (c *Config) validate() error {
	var errs []error
	if c.Cluster.NodeID == "" || strings.ContainsFunc(c.Cluster.NodeID, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs = append(errs, fmt.Errorf("cluster.node_id: %q must be non-empty and printable without spaces", c.Cluster.NodeID))
	}
	for _, a := range []struct{ key, v string }{
		{"dns.listen", c.DNS.Listen}, {"api.listen", c.API.Listen}, {"cluster.listen", c.Cluster.Listen},
	} {
		if err := checkHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.key, err))
		}
	}
	if c.Cluster.Advertise != "" {
		if err := checkHostPort(c.Cluster.Advertise); err != nil {
			errs = append(errs, fmt.Errorf("cluster.advertise: %w", err))
		}
	}
	for _, j := range c.Cluster.Join {
		if err := checkHostPort(j); err != nil {
			errs = append(errs, fmt.Errorf("cluster.join: %w", err))
		}
	}
	r := c.Cluster.Raft
	for _, d := range []struct {
		key string
		v   Duration
		min time.Duration
	}{
		{"cluster.raft.heartbeat_timeout", r.HeartbeatTimeout, 5 * time.Millisecond},
		{"cluster.raft.election_timeout", r.ElectionTimeout, 5 * time.Millisecond},
		{"cluster.raft.leader_lease_timeout", r.LeaderLeaseTimeout, 5 * time.Millisecond},
		{"cluster.raft.commit_timeout", r.CommitTimeout, time.Millisecond},
		{"cluster.raft.snapshot_interval", r.SnapshotInterval, time.Second},
	} {
		if time.Duration(d.v) < d.min {
			errs = append(errs, fmt.Errorf("%s: %v is below the minimum %v", d.key, time.Duration(d.v), d.min))
		}
	}
	if r.LeaderLeaseTimeout > r.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("cluster.raft.leader_lease_timeout: %v must not exceed heartbeat_timeout %v", time.Duration(r.LeaderLeaseTimeout), time.Duration(r.HeartbeatTimeout)))
	}
	if r.SnapshotThreshold == 0 {
		errs = append(errs, errors.New("cluster.raft.snapshot_threshold: must be positive"))
	}
	errs = append(errs, c.Cluster.VIP.validate()...)
	errs = append(errs, c.validateGTM()...)
	if _, err := parseLevel(c.Log.Level); err != nil {
		errs = append(errs, fmt.Errorf("log.level: %w", err))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Log.Format))
	}
	if err := checkWritableDir(c.Storage.Path); err != nil {
		errs = append(errs, fmt.Errorf("storage.path: %w", err))
	}
	return errors.Join(errs...)
}

// validateGTM checks gtm.*. The database and the CIDR map are checked
// when they are opened, at startup, with errors naming the entry.
func (c *Config) validateGTM() []error {
	var errs []error
	if r := c.GTM.HealthResolver; r != "" {
		if err := checkHostPort(r); err != nil {
			errs = append(errs, fmt.Errorf("gtm.health_resolver: %w", err))
		} else if r == c.DNS.Listen || (c.Cluster.VIP.Address != "" && sameHost(r, c.Cluster.VIP.Address)) {
			errs = append(errs, fmt.Errorf("gtm.health_resolver: %s is resolvx itself; health checks must resolve names elsewhere", r))
		}
	}
	if n := c.GTM.ProbeConcurrency; n < 1 || n > 1024 {
		errs = append(errs, fmt.Errorf("gtm.probe_concurrency: %d is not 1..1024", n))
	}
	return errs
}

// sameHost reports whether host:port names the address of prefix.
func sameHost(hostport, prefix string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	a, err1 := netip.ParseAddr(h)
	p, err2 := netip.ParsePrefix(prefix)
	return err1 == nil && err2 == nil && a == p.Addr()
}

// validate checks cluster.vip.*; the address and interface only matter
// when the VIP is enabled.
func (v VIPConfig) validate() []error {
	var errs []error
	if v.Enabled || v.Address != "" {
		if _, err := v.prefix(); err != nil {
			errs = append(errs, fmt.Errorf("cluster.vip.address: %w", err))
		}
	}
	if v.Enabled && v.Interface == "" {
		errs = append(errs, errors.New("cluster.vip.interface: required when the VIP is enabled (the interface on the clients' segment)"))
	}
	if strings.ContainsFunc(v.Interface, func(r rune) bool { return r <= ' ' || r == '/' || r == 0x7f }) || len(v.Interface) > 15 {
		errs = append(errs, fmt.Errorf("cluster.vip.interface: %q is not an interface name", v.Interface))
	}
	if time.Duration(v.Lease) < time.Second {
		errs = append(errs, fmt.Errorf("cluster.vip.lease: %v is below the minimum 1s (the kernel counts address lifetimes in whole seconds)", time.Duration(v.Lease)))
	}
	if v.GratuitousARPCount < 1 || v.GratuitousARPCount > 100 {
		errs = append(errs, fmt.Errorf("cluster.vip.gratuitous_arp_count: %d is not 1..100 (use announce: false to send none)", v.GratuitousARPCount))
	}
	return errs
}

// prefix parses the VIP address: an IPv4 or IPv6 unicast address with its
// prefix length.
func (v VIPConfig) prefix() (netip.Prefix, error) {
	if v.Address == "" {
		return netip.Prefix{}, errors.New("required when the VIP is enabled (an address with its prefix length, such as 10.0.0.100/24)")
	}
	p, err := netip.ParsePrefix(v.Address)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address with a prefix length such as 10.0.0.100/24 or 2001:db8::100/64", v.Address)
	}
	if a := p.Addr(); a.Zone() != "" || a.Is4In6() || !a.IsGlobalUnicast() {
		return netip.Prefix{}, fmt.Errorf("%q is not a unicast IPv4 or IPv6 address usable as a VIP", v.Address)
	}
	return p, nil
}

// vipConfig is the VIP manager's configuration (the VIP must be enabled
// and valid).
func (v VIPConfig) vipConfig(logger *slog.Logger) vip.Config {
	p, _ := v.prefix()
	return vip.Config{
		Address:            p,
		Interface:          v.Interface,
		Lease:              time.Duration(v.Lease),
		GratuitousARPCount: v.GratuitousARPCount,
		NoAnnounce:         !v.Announce,
		Logger:             logger,
	}
}

// checkHostPort requires host:port with a numeric port; the host may be
// empty (all addresses), an IP or a name.
func checkHostPort(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port", v)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q: port %q is not a number 0..65535", v, port)
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == '/' || r == 0x7f }) {
		return fmt.Errorf("%q: host %q is not an address or a name", v, host)
	}
	return nil
}

// checkWritableDir creates dir if needed and proves it can be written.
func checkWritableDir(dir string) error {
	if dir == "" {
		return errors.New("is empty")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the path from *os.PathError (the message names it once).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
