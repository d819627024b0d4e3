// Package e2e runs whole resolvx binaries on loopback: the CLI, the REST
// API, DNS answers, and three-node clusters with crashes and restarts.
//
// The tests use the binary named by RESOLVX_BIN (make test sets it to
// bin/resolvx) or build one into a temporary directory. Every process a test
// starts is killed by its PID when the test ends, also when it fails, and its
// log is printed on failure.
package e2e
