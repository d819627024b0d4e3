package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

func (c *cli) clusterCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Show the cluster, leave it, remove a dead node"}
	cmd.AddCommand(
		&cobra.Command{
			Use: "status", Short: "Show the leader, the VIP and every node", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				s, err := c.client().ClusterStatus(cmd.Context())
				if err != nil {
					return err
				}
				if c.json {
					return c.printJSON(s)
				}
				leader := s.Leader
				if leader == "" {
					leader = "none"
				} else if s.LeaderAddress != "" {
					leader += " (" + s.LeaderAddress + ")"
				}
				vip := s.VIP
				if vip == "" {
					vip = "-"
				}
				fmt.Fprintf(c.stdout, "node:      %s\nleader:    %s\nvip:       %s\nread-only: %t\napplied:   %d (commit %d, term %d)\n\n",
					s.NodeID, leader, vip, s.ReadOnly, s.AppliedIndex, s.CommitIndex, s.Term)
				rows := make([][]string, 0, len(s.Nodes))
				for _, n := range s.Nodes {
					contact := n.LastContact
					if contact == "" {
						contact = "-"
					}
					rows = append(rows, []string{n.ID, n.Address, n.Suffrage, n.Status, contact, strconv.FormatUint(n.AppliedIndex, 10)})
				}
				return table(c.stdout, []string{"ID", "ADDRESS", "ROLE", "STATE", "LAST CONTACT", "APPLIED"}, rows)
			},
		},
		&cobra.Command{
			Use: "leave", Short: "Remove the node behind --api from the cluster (a leader hands over first); the node then stops", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := c.client().Leave(cmd.Context()); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, "left the cluster; the node is stopping")
				return nil
			},
		},
		&cobra.Command{
			Use: "remove ID", Short: "Remove a (dead) node from the cluster configuration", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := c.client().RemoveNode(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, "removed", args[0])
				return nil
			},
		},
	)
	return cmd
}
