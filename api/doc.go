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
// method), VALIDATION_ERROR 422, NO_QUORUM 503, INTERNAL_ERROR 500,
// NOT_IMPLEMENTED 501 (a route this node's configuration does not serve).
// One function, errorReply, maps every error to its status and code, reading
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
//
// GTM policies (policies.go, health.go, explain.go) are served when
// Config.PolicyState (reads) and Config.Policies (writes, fsm.Writer) are
// set; without them those routes answer 501 NOT_IMPLEMENTED:
//
//	GET    /policies                            list, sorted by name
//	POST   /policies                            create (409 when the name exists: PUT replaces)
//	GET    /policies/{name}                     one policy
//	PUT    /policies/{name}                     create or replace (body name empty or equal)
//	DELETE /policies/{name}
//	PATCH  /policies/{name}/endpoints/{id}      {"weight","priority","disabled"}, any subset; replies the policy
//	GET    /policies/{name}/health              committed verdicts beside every node's observations
//	GET    /health                              the same for every policy, with the reporting nodes
//	GET    /explain?name=&type=&client=&ecs=    gtm.Explanation (Config.Explainer; 501 without)
//
// Each request reads one PolicySnapshot (PolicyReader.PolicyState), so a
// reply never mixes two applied states. A policy body that does not decode
// is refused naming the field by its full path ("endpoints[1].weight");
// gtm.Validate and the FSM refuse the rest (422, 409 for a name that
// already answers the type from records or another policy, 404 for a
// missing zone). Health shows each endpoint's committed verdict; its
// last_check, latency_ms, consecutive_failures and last_error come from
// this node's own observation, else the freshest node's
// (Config.HealthReports; without it, or when nodes cannot be reached, the
// reply says so in "error"). Explain reads stale by default: it explains
// this node's own DNS answer.
package api
