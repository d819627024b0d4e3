// Command resolvx is the whole product in one binary: `resolvx server` runs a
// node (Raft member, authoritative DNS listener, REST API and dashboard), and
// every other subcommand is a CLI client of the REST API.
//
// Files: main.go (the command tree), config.go (defaults, YAML, RESOLVX_*
// variables, flags), server.go (wiring the packages into a node),
// logging.go, and one file per CLI noun (cli_zone.go, cli_record.go,
// cli_cluster.go, cli_tsig.go with `zone transfer`) with output.go for
// tables and --json. server.go also runs the NOTIFY sender (package
// notify), which acts only while this node leads.
package main
