package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/health"
)

// resolvConf is where the system's name servers are listed.
const resolvConf = "/etc/resolv.conf"

// healthResolver returns the resolver health checks use for host-name
// endpoints: gtm.health_resolver when set (validate refuses resolvx
// itself), else the system's name servers minus those that are this node's
// own DNS listener or the VIP: a check must never resolve through resolvx,
// or an endpoint's health would depend on the answers it decides. With no
// other name server, host-name checks fail and say why.
func healthResolver(cfg Config, logger *slog.Logger) health.Resolver {
	if cfg.GTM.HealthResolver != "" {
		return serversResolver([]string{cfg.GTM.HealthResolver})
	}
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		logger.Warn("gtm: no system name servers; host-name endpoints cannot be checked (set gtm.health_resolver)", "err", err)
		return noResolver{}
	}
	self := selfDNS(cfg)
	var servers []string
	for _, s := range cc.Servers {
		hp := net.JoinHostPort(s, cc.Port)
		if self(hp) {
			logger.Info("gtm: health checks skip a system name server that is resolvx itself", "server", hp)
			continue
		}
		servers = append(servers, hp)
	}
	if len(servers) == 0 {
		logger.Warn("gtm: every system name server is resolvx itself; host-name endpoints cannot be checked (set gtm.health_resolver)")
		return noResolver{}
	}
	return serversResolver(servers)
}

// selfDNS reports whether host:port reaches this node's DNS listener (its
// own address, or any local address when it listens on all of them) or
// the VIP.
func selfDNS(cfg Config) func(hostport string) bool {
	lh, lp, _ := net.SplitHostPort(cfg.DNS.Listen)
	listen, _ := netip.ParseAddr(lh)
	var local []netip.Addr
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				local = append(local, p.Addr())
			}
		}
	}
	vip, _ := cfg.Cluster.VIP.prefix()
	return func(hostport string) bool {
		h, p, err := net.SplitHostPort(hostport)
		if err != nil {
			return false
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return false
		}
		a = a.Unmap()
		if p != lp {
			return false
		}
		if a == listen || (vip.IsValid() && a == vip.Addr()) {
			return true
		}
		if listen.IsUnspecified() {
			for _, l := range local {
				if a == l || a.IsLoopback() {
					return true
				}
			}
		}
		return false
	}
}

// serversResolver resolves through the given name servers in turn.
func serversResolver(servers []string) *net.Resolver {
	var next atomic.Uint32
	d := net.Dialer{Timeout: 5 * time.Second}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		s := servers[int(next.Add(1)-1)%len(servers)]
		return d.DialContext(ctx, network, s)
	}}
}

// noResolver fails every lookup, saying why.
type noResolver struct{}

func (noResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errors.New("no name server other than resolvx itself; set gtm.health_resolver")
}
