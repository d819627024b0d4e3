package main

import "testing"

// Invariant: a name server that is this node's own DNS listener (its
// address, or any local address when it listens on all) or the VIP is
// recognised as resolvx itself, so health checks never resolve through it.
func TestSelfDNS(t *testing.T) {
	cfg := defaultConfig()
	cfg.DNS.Listen = "0.0.0.0:53"
	cfg.Cluster.VIP.Address = "10.0.0.53/24"
	self := selfDNS(cfg)
	for _, tc := range []struct {
		server string
		want   bool
	}{
		{"127.0.0.1:53", true},
		{"127.0.0.53:53", true},   // loopback, listening on every address
		{"10.0.0.53:53", true},    // the VIP
		{"10.0.0.53:5353", false}, // the VIP, but not resolvx's port
		{"192.0.2.1:53", false},   // another host
		{"127.0.0.1:5353", false},
	} {
		if got := self(tc.server); got != tc.want {
			t.Errorf("%s: self %v, want %v", tc.server, got, tc.want)
		}
	}
	cfg.DNS.Listen = "127.0.0.1:1053"
	cfg.Cluster.VIP.Address = ""
	self = selfDNS(cfg)
	if !self("127.0.0.1:1053") || self("127.0.0.1:53") || self("192.0.2.1:1053") {
		t.Error("a loopback listener on 1053 recognised wrongly")
	}
}
