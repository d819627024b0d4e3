package dnsserver

import (
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	"github.com/resolvx/resolvx/gtm"
)

// Explain answers name (qtype) for a client at client, with the client
// subnet ecs in an EDNS Client Subnet option when ecs is valid (masked to
// its prefix), and says why the reply is what it is: the policy that
// answered (the first one met, at the name or along its CNAME chain), each
// of its endpoints with the committed verdict and whether it was chosen,
// the decision, where the client was placed and the ECS scope, the rcode
// and the answer section. The query is the one a resolver sends over TCP
// with EDNS and message ID 0, answered by Answer's own code path, so the
// explanation is exactly what such a query gets (weighted choices depend
// on the message ID: another ID may pick another endpoint).
func Explain(d Data, name string, qtype uint16, client netip.Addr, ecs netip.Prefix) gtm.Explanation {
	name = dns.Fqdn(name)
	x := gtm.Explanation{Name: name, Type: dns.Type(qtype).String(), Answer: []string{}}
	if client.IsValid() {
		client = client.Unmap()
		x.Client = client.String()
	}
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	req.Id = 0
	req.RecursionDesired = false
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: maxUDPPayload}}
	if ecs.IsValid() {
		ecs = ecs.Masked()
		a := ecs.Addr()
		s := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 2, SourceNetmask: uint8(ecs.Bits()), Address: a.AsSlice()}
		if a.Is4() {
			s.Family = 1
		}
		opt.Option = []dns.EDNS0{s}
		x.ECS = ecs.String()
	}
	req.Extra = []dns.RR{opt}

	var tr trace
	m := answer(d, req, Query{Client: client, TCP: true}, &tr)
	x.Location, x.Scope = tr.loc, tr.scope
	if m == nil {
		return x
	}
	x.Rcode = dns.RcodeToString[m.Rcode]
	for _, rr := range m.Answer {
		x.Answer = append(x.Answer, rr.String())
	}
	if b := tr.bound; b != nil {
		p := b.Policy
		p.Endpoints = slices.Clone(p.Endpoints) // the table's own stay untouched
		x.Policy = &p
		chosen := make([]string, 0, len(tr.decision.Endpoints))
		for _, e := range tr.decision.Endpoints {
			chosen = append(chosen, e.ID)
		}
		for _, e := range p.Endpoints {
			x.Endpoints = append(x.Endpoints, gtm.ExplainedEndpoint{
				Endpoint:  e,
				Verdict:   b.Verdicts.Of(e.ID),
				LatencyMS: b.Verdicts.LatencyMS[e.ID],
				Chosen:    slices.Contains(chosen, e.ID),
			})
		}
		if p.Type == gtm.Latency {
			x.Preferred = b.Verdicts.Preferred
		}
		x.Decision = &gtm.ExplainedDecision{
			Chosen:   chosen,
			NoData:   tr.decision.NoData,
			Fallback: tr.decision.Fallback,
			Region:   tr.decision.Region,
			Reason:   tr.decision.Reason,
		}
	}
	return x
}
