// Package conformance proves that resolvx answers as a reference
// authoritative server does: the differential test against Knot DNS, a real
// NSD secondary following a resolvx cluster, and the zone-file round trip
// of issue 4. It has no code of its own; everything is in its tests.
//
// # The Knot differential test (TestKnotDifferential)
//
// The zone files in testdata/ (the file name is the apex) hold the hard
// cases: apex records; delegations with in-bailiwick, sibling and
// out-of-bailiwick name servers, with and without DS, a delegation whose
// NS are glue under another cut, a served child zone (DS from the parent);
// empty non-terminals; wildcards (at the apex, below an ENT, wildcard
// CNAMEs in and out of the zone and in a loop, a wildcard below a zone
// cut); CNAME chains inside the zone, to another served zone and out,
// dangling, into a cut, to an ENT, loops and a self-loop; MX, SRV, NS,
// SVCB and HTTPS targets found exactly, through a wildcard, as a CNAME,
// below a cut; long TXT (255-octet strings, RRsets too large for UDP);
// every record type resolvx supports; owner names that differ only in
// case; an RRset whose TTLs differ; RFC 2317 owner names with '/'.
//
// Each file is loaded into knotd (Debian package knot, 3.2), started by
// the test on a free 127.0.0.1 port with its own configuration, run
// directory and storage, and stopped by PID when the test ends; and
// imported into resolvx as the API imports zone files
// (zone.ParseZoneFile, View.Replace at the file's SOA serial as Raft
// index, so both serve the same serial), served by a real
// dnsserver.Server on 127.0.0.1. A seeded corpus (6,000 generated queries
// plus the odd requests of oddQueries) goes to both over UDP and TCP:
// existing names, ENTs, wildcard matches, names at and below cuts,
// missing names, names outside every zone; the types present at the name
// and every other type, absent ones included; random case; no EDNS or
// EDNS with several payload sizes (below 512 too), the DO bit, unknown
// options; RD and CD set at random. The replies are compared field by
// field: header flags and rcode, question (exactly, case included), OPT,
// and the answer, authority and additional sections as RRsets with TTLs
// (RRs inside an RRset as a multiset, RFC 2181 §5; RRsets of the answer in
// order, of the other sections as a multiset).
//
// The differences the RFCs permit are listed in one place, the table
// allowances() in allowed_test.go, each with the RFC text; every other
// difference fails the test. A second knotd serves the zones as resolvx
// exports them: its replies must equal the first knotd's, so an export is
// a master file another server reads to the same data. knotd missing is a
// failure ("install Debian package knot"), never a skip.
//
//	GOTOOLCHAIN=local go test -tags hashicorpmetrics -run TestKnotDifferential -v ./conformance/
//
// prints the counts: queries compared, identical, allowed differences by
// kind, unexplained differences. RESOLVX_CONFORMANCE_SEED (a number or
// "random") and RESOLVX_CONFORMANCE_QUERIES change the corpus.
//
// # The real secondary (TestNSDSecondary)
//
// Three `resolvx server` processes on loopback (the binary from
// RESOLVX_BIN, as make test builds it) form a cluster; every test zone is
// imported through a follower's API, with a TSIG key (hmac-sha256) and
// transfer settings: allow 127.0.0.1/32, the key, NOTIFY to NSD. NSD
// (Debian package nsd 4.6; its own configuration and directories in a
// temporary directory, rate limiting off, minimal-responses, stopped by
// PID) is a secondary of a follower: it transfers every zone with the key;
// a record added through the API is answered by NSD within 2 s of the
// write (typically 20–100 ms: NOTIFY from the leader, then IXFR), and its
// deletion likewise. NSD must never fail to apply an IXFR. Then the whole
// differential corpus goes to NSD (in the reference's seat) and to the
// resolvx node; the same allowances() table explains every difference —
// its "NSD only" entries apply only here. A transfer without the key, or
// with the key from 127.0.0.2, is refused by every node. nsd missing is a
// failure ("install Debian package nsd").
//
//	make build && RESOLVX_BIN=$PWD/bin/resolvx GOTOOLCHAIN=local go test -tags hashicorpmetrics -run TestNSDSecondary -v ./conformance/
//
// # Zone files
//
// TestZoneFileRoundTrip: every test zone exported (zone.ExportText) and
// imported again gives the same SOA settings and records, the same text on
// a second export, and the same answers to the whole corpus.
// TestImportIsAtomic and BenchmarkImport100k: a zone file imports through
// fsm.Writer as one log entry, all or nothing; the benchmark reports the
// time of a 100,000-record file (parse, build, propose and apply):
//
//	GOTOOLCHAIN=local go test -tags hashicorpmetrics -run '^$' -bench Import100k -benchtime 1x ./conformance/
//
// $INCLUDE and $GENERATE stay refused by zone.ParseZoneFile: an imported
// file must be self-contained, and a $GENERATE range is a way to ask for
// millions of records in one line; expand it before importing.
package conformance
