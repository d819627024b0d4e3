package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// cli holds what every client subcommand needs.
type cli struct {
	stdout, stderr io.Writer
	api            string
	json           bool
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	c := &cli{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "resolvx",
		Short:         "Highly available authoritative DNS with a Raft-replicated zone store",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	defaultAPI := "http://127.0.0.1:8080"
	if v := os.Getenv("RESOLVX_API"); v != "" {
		defaultAPI = v
	}
	root.PersistentFlags().StringVar(&c.api, "api", defaultAPI, "URL of a resolvx node's API (env RESOLVX_API)")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print the API's JSON object instead of a table")
	root.AddCommand(
		newServerCmd(stderr),
		c.zoneCmd(),
		c.recordCmd(),
		c.clusterCmd(),
		c.tsigCmd(),
		c.policyCmd(),
		c.explainCmd(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version of this binary",
			Args:  cobra.NoArgs,
			Run:   func(*cobra.Command, []string) { fmt.Fprintln(stdout, "resolvx", version) },
		},
	)
	return root
}
