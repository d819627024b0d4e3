// Package api is the REST API of resolvx, its embedded web dashboard, and
// the Go client the CLI uses.
//
// Every endpoint lives under /api/v1 and replies with one envelope:
//
//	{"data": …, "error": null}                          a read
//	{"data": …, "error": null, "index": N}              a write (also header X-Resolvx-Index: N)
//	{"data": null, "error": {"code": …, "message": …}}  a failure
//
// Error codes and their HTTP statuses: NOT_FOUND 404, ALREADY_EXISTS 409,
// INVALID_REQUEST 400 (413 for a body over its limit, 405 for a wrong
// method), VALIDATION_ERROR 422, NO_QUORUM 503, INTERNAL_ERROR 500. One
// function, errorReply, maps every error to its status and code, reading
// the code with zone.CodeOf, so zone, gtm, cluster and remote errors all map
// alike.
//
// The package depends on the rest of resolvx through three small interfaces
// declared here: Writer (fsm.Writer), StateReader (fsm.FSM) and Cluster
// (cluster.Node). Handlers validate the request shape, build zone.Changes
// (record IDs are drawn here, from crypto/rand) and hand them to the Writer;
// reads first pass Cluster.ReadBarrier at the ?consistency= level asked for.
// A fourth, TransferWriter (fsm.Writer), serves the zone-transfer routes
// when set (transfer.go): GET/POST /tsig-keys, DELETE /tsig-keys/{name},
// GET/PUT /zones/{zone}/transfer. TSIG secrets are accepted, never returned.
package api
