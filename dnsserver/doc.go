// Package dnsserver answers DNS queries from Data (a zone.View and the
// compiled GTM policy table of the same applied state): the authoritative
// answer logic (Answer, a pure function), the UDP/TCP listeners around it
// (Server), and Explain, which says why a query gets its answer.
//
// Files: answer.go (Answer and the reply), resolve.go (walking a name
// through a zone, CNAMEs), policy.go (names bound to GTM policies, the
// Locator), ecs.go (EDNS Client Subnet), edns.go (the OPT record),
// additional.go, size.go, owner.go and names.go (names), explain.go,
// server.go, transfer.go and tsig.go (zone transfers), tcplimit.go,
// metrics.go.
//
// # Answer
//
// Answer(data, request, query) returns the reply to one request, or nil when
// nothing must be sent. It does no I/O, reads no clock and shares the zone's
// RRs (and the policy table's) with the reply instead of copying them (an
// RR is copied only when its owner name must change: the query's spelling
// or a wildcard expansion).
// The reply must therefore be treated as read-only. It follows Knot DNS
// where the RFCs leave a choice:
//
//   - AA is set on every answer from our data (positive, NXDOMAIN, NODATA)
//     unless the query name itself is at or below a zone cut (a referral:
//     AA clear, the cut's NS RRset in authority, glue in additional). A DS
//     query at a cut is answered from the parent side; a DS query for the
//     apex of a zone whose parent zone we also serve is answered from the
//     parent.
//   - Negative answers carry the zone's SOA with TTL min(SOA TTL, MINIMUM)
//     in authority (RFC 2308).
//   - CNAMEs are followed inside the same zone only, at most 16 of them;
//     a CNAME already in the answer (or a wildcard CNAME met twice) ends the
//     chain, like Knot's duplicate check. The rcode is the last name's
//     (RFC 6604): NXDOMAIN when the last target does not exist in the zone,
//     NOERROR when the chain leaves the zone, loops or hits the cap. A
//     chain that runs into a zone cut ends in a referral with AA set.
//     QTYPE CNAME or ANY at a CNAME returns the CNAME alone; QTYPE RRSIG
//     or NSEC (the types that may live beside a CNAME, RFC 4035 §2.5) is
//     answered at the CNAME's own name, NODATA, without following it.
//   - Wildcards (RFC 4592) are expanded with owner = the name asked; an
//     empty non-terminal is NODATA, never NXDOMAIN.
//   - Additional section: A and AAAA of NS, MX, SRV, SVCB and HTTPS
//     targets (RFC 9460 §4.1) found in the same zone (also below a cut and
//     through a wildcard), each name once, mandatory glue (NS targets below
//     the cut they serve) first.
//   - ANY (RFC 8482 minimal responses): the answer holds one RRset, the
//     node's RRset with the lowest type number (NS at an apex, with its
//     glue), over UDP and TCP alike: this is what Knot 3.2 answers. No
//     synthesized HINFO: a real RRset is as small and more useful.
//   - The query name keeps the client's spelling in the question and in the
//     answer owner names for it; every other name (CNAME targets, glue,
//     authority) is the zone's canonical lower case.
//   - EDNS (RFC 6891): a request with OPT gets an OPT (version 0, payload
//     1232, DO echoed); version > 0 gets BADVERS; two OPT records, an OPT
//     outside the additional section or with a non-root owner get FORMERR
//     (without OPT). The request's options are ignored but for EDNS Client
//     Subnet (below). A name outside every zone is REFUSED with the
//     Extended DNS Error 20 "Not Authoritative" in the OPT (RFC 8914
//     §4.21), as Knot does.
//   - Size: UDP replies fit in 512 bytes without EDNS, else in the client's
//     payload size (at least 512) capped at 1232; TCP in 65535. When the
//     reply is too large, optional additional RRsets that do not fit are
//     left out (whole RRsets, in order, as many as fit); if the reply does
//     not fit without them, it keeps only the question and OPT and sets TC,
//     as Knot does.
//   - Odd requests: QR=1 → no reply; QDCOUNT ≠ 1 → FORMERR (QDCOUNT > 1
//     rejected by the listener before unpacking: header only); opcode other
//     than QUERY (NOTIFY included, for now) → NOTIMP; class 0 (reserved,
//     and what miekg/dns unpacks from a question cut after its type) →
//     FORMERR; any other class but IN (CHAOS too: no version disclosure)
//     → REFUSED; a name outside every
//     zone → REFUSED with AA clear; QTYPE 0, OPT, TKEY, TSIG → FORMERR;
//     AXFR and IXFR → REFUSED (over TCP the Server's transfer path answers
//     them before Answer is called). A nil Data.Zones (nothing loaded
//     yet) → SERVFAIL. TSIG on a query is not checked: the reply is unsigned.
//
// Checked against Knot DNS 3.2.6 serving the same zone files by the
// differential suite (package conformance: thousands of generated queries
// per run, every test zone). The answers agree except where the RFCs
// permit resolvx to differ; conformance/allowed_test.go lists each such
// difference with the RFC text, in one table: names from the zone stay
// lower case where Knot's case-insensitive compression gives them the
// query's spelling (so, at the UDP size limit, a slightly different set of
// optional additional RRsets fits); CD is copied to the reply (RFC 4035 §3;
// Knot clears it); an additional RRset is sent once (Knot repeats it per
// referring record); NOTIFY and UPDATE get NOTIMP and AXFR/IXFR REFUSED
// (Knot: NOTAUTH or NOTIMP from its ACLs); CHAOS and class ANY get REFUSED
// (Knot reveals its version and answers class ANY as IN); QTYPE OPT, TSIG,
// TKEY and 0 get FORMERR (Knot: NODATA, NOTIMP); an OPT with a non-root
// owner gets FORMERR (Knot ignores it); QDCOUNT 2 gets FORMERR (RFC 9619;
// Knot does not reply); an EDNS payload size of 1 is treated as 512 (Knot:
// FORMERR). Records inside an RRset come in the zone's order (by record
// ID), not Knot's canonical order (RFC 2181 §5: the order is not
// significant).
//
// # GTM policies
//
// A name bound to GTM policies (Data.Policies, a gtm.Table) answers from
// them (policy.go). After the zone lookup of each name of the resolution
// (the query name, then each CNAME target in the zone), unless the name
// is at or below a zone cut, the table is consulted (gtm.Table.Find: a map
// lookup over a lower-cased stack copy of the name, no allocation); only
// policies of the zone being answered from count:
//
//   - A and AAAA queries get the records the A or AAAA policy chooses
//     (gtm.Bound.AppendAnswer: the records were built when the table was
//     compiled, the choice allocates nothing), with the policy's TTL and
//     the client's spelling of the name.
//   - A CNAME policy (host-name endpoints) answers like a CNAME record of
//     the zone: its one chosen CNAME, then the target followed inside the
//     zone (through other policies too) for every type that follows
//     CNAMEs; QTYPE CNAME and ANY get the CNAME alone; RRSIG and NSEC get
//     NODATA.
//   - ANY gets the policies' records (A, else AAAA): one RRset, as minimal
//     ANY answers.
//   - Other types get the zone's records at the name when it has a node
//     there, else NODATA: a policy name exists. A policy's NODATA decision
//     (fallback "nodata", nothing usable) is NODATA with the SOA.
//   - A policy name beats a wildcard. A name with a policy owner below it
//     is an empty non-terminal (NODATA where the zone alone says
//     NXDOMAIN, and no wildcard covers it), and a wildcard does not cover
//     a name below such an empty non-terminal (NXDOMAIN).
//   - Additional A/AAAA for an NS/MX/SRV/SVCB/HTTPS target bound to an
//     address policy are the policy's choice for the same query.
//
// The choice is keyed by gtm.Key(address, qname, message ID), where the
// address is the Client Subnet address when the query carries one with a
// non-zero source prefix, else the source address (Query.Client), so the
// same query gets the same answer on every node. Geographic policies, and
// only they, ask Data.Geo (a Locator) where that address is, once per
// query; a nil Locator, or ECS with source prefix 0, leaves the location
// unknown (the policy's "*" endpoints answer).
//
// # EDNS Client Subnet
//
// The ECS option (RFC 7871) of a version 0 OPT is read by ecs.go. FAMILY
// must be 1 (IPv4) or 2 (IPv6), the SOURCE PREFIX-LENGTH at most 32 or
// 128, and ADDRESS bits beyond the source prefix zero; otherwise, and for
// a second ECS option, the reply is FORMERR with an OPT and no ECS
// (§7.1.2). Family 0 with source prefix 0 (what older dig sends for
// +subnet=0) is taken as the opt-out it means. Every other reply to an
// ECS query echoes the option (family, source prefix and address as sent)
// with SCOPE PREFIX-LENGTH = min(the length of the network the Locator
// found the address in, the source prefix) when a geographic policy chose
// any of the reply, and 0 (valid for every client) otherwise (§7.2.1).
// The OPT's options are sized by hand and attached after the size limit is
// applied: miekg/dns sizes an option by packing it, which allocates.
//
// # Explain
//
// Explain(data, name, type, client, subnet) answers the query a resolver
// at client would send over TCP with EDNS and message ID 0 (with an ECS
// option when subnet is valid) through Answer's own code path, and returns
// the gtm.Explanation: the first policy met, its endpoints with their
// committed verdicts and which were chosen, the decision, the client's
// location and the ECS scope, the rcode and the answer section.
//
// # Server
//
// Server binds UDP and TCP on one address and answers every query with
// Answer over the Data its Source returns at that moment (loaded once per
// query; the FSM publishes its state through an atomic pointer, so no lock
// is taken), with Config.Geo as the Locator. It fixes miekg/dns defaults that lose queries: a 64 KiB UDP read
// buffer, unlimited pipelined queries per TCP connection (RFC 7766), an
// accept function that lets every request reach Answer (which decides
// FORMERR/NOTIMP itself), and panic recovery (SERVFAIL and a log line).
// Requests that cannot be unpacked get FORMERR from miekg/dns when their
// header is readable, and are dropped otherwise (Knot drops them all).
// miekg/dns is lenient in two ways resolvx keeps: bytes after the last
// counted record are ignored, and section counts that promise more records
// than a message holds, when it ends on a record boundary, are taken as
// the records present (Knot answers FORMERR to both). TCP connections are
// limited in number, idle time and write time. badpackets_test.go is the
// catalogue of malformed and odd requests with the reply each gets, and
// Knot's reply beside it.
//
// # Zone transfers
//
// Over TCP, AXFR (RFC 5936) and IXFR (RFC 1995) requests go to the transfer
// path (transfer.go), which any node serves from its own View (Data.Zones;
// policies are not part of a zone and are not transferred). A transfer
// is allowed when the client's address is in the zone's ACL and, when the
// zone names a TSIG key, the request is signed with that key and verifies
// (keyring looks keys up in the View per message; miekg/dns's TsigStatus is
// read only for a request that IsTsig). Otherwise: REFUSED (no settings, an
// unlisted address, no signature) or NOTAUTH (a signature that fails or
// names another key, RFC 8945 §5.2), unsigned. AXFR sends the SOA, every
// RR of the zone in canonical owner order, and the SOA again, cut into
// messages of about 16 KiB, each signed with the request's key (RFC 8945
// §5.3.1). IXFR sends the changes since the client's serial from the zone's
// history (the last zone.HistoryLen changes, whole touched RRsets), the
// SOA alone when the client is current, and the whole zone (AXFR form) for
// a serial the history does not hold.
package dnsserver
