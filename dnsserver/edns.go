package dnsserver

import "github.com/miekg/dns"

// Payload sizes (RFC 6891, DNS flag day 2020).
const (
	// maxUDPPayload is the largest UDP reply resolvx sends and the payload
	// size it advertises in its OPT record.
	maxUDPPayload = 1232
	// minUDPPayload is the size every DNS client accepts over UDP; an EDNS
	// client advertising less is treated as advertising this.
	minUDPPayload = 512
	// maxTCPPayload is the largest DNS message a TCP length prefix allows.
	maxTCPPayload = 65535
)

// edns is what the request's OPT record asked for.
type edns struct {
	present bool
	version uint8
	do      bool
	size    uint16 // the requester's UDP payload size, as sent
	ecs     clientSubnet
}

// readEDNS finds the request's OPT record. ok is false when the request is
// malformed in its EDNS (RFC 6891 §6.1.1: at most one OPT, in the additional
// section, owned by the root), which calls for FORMERR without OPT. A
// malformed Client Subnet option is marked in e.ecs (FORMERR with OPT).
func readEDNS(req *dns.Msg) (e edns, ok bool) {
	for _, rr := range req.Answer {
		if rr.Header().Rrtype == dns.TypeOPT {
			return e, false
		}
	}
	for _, rr := range req.Ns {
		if rr.Header().Rrtype == dns.TypeOPT {
			return e, false
		}
	}
	for _, rr := range req.Extra {
		h := rr.Header()
		if h.Rrtype != dns.TypeOPT {
			continue
		}
		opt, isOPT := rr.(*dns.OPT)
		if e.present || !isOPT || h.Name != "." {
			return e, false
		}
		e = edns{present: true, version: opt.Version(), do: opt.Do(), size: opt.UDPSize()}
		if e.version == 0 {
			// The options of another version are unknown (BADVERS).
			e.ecs = readECS(opt)
		}
	}
	return e, true
}

// udpLimit is the largest reply the requester accepts over UDP.
func (e edns) udpLimit() int {
	if !e.present {
		return minUDPPayload
	}
	return min(max(int(e.size), minUDPPayload), maxUDPPayload)
}

// setOPT makes opt the OPT record of a reply to a request that had one:
// version 0, our payload size, the DO bit echoed. The extended rcode bits are
// set by dns.Msg.Pack from the reply's Rcode.
func (e edns) setOPT(opt *dns.OPT) {
	*opt = dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: maxUDPPayload}}
	if e.do {
		opt.SetDo()
	}
}
