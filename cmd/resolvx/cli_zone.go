package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
)

func (c *cli) zoneCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "zone", Short: "List, create, delete, export and import zones; set their transfer settings"}
	cmd.AddCommand(
		c.zoneTransferCmd(),
		&cobra.Command{
			Use: "list", Short: "List zones", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				zones, err := c.client().Zones(cmd.Context())
				if err != nil {
					return err
				}
				if c.json {
					return c.printJSON(zones)
				}
				rows := make([][]string, 0, len(zones))
				for _, z := range zones {
					rows = append(rows, []string{z.Name, strconv.FormatUint(uint64(z.Serial), 10), strconv.Itoa(z.Records)})
				}
				return table(c.stdout, []string{"ZONE", "SERIAL", "RECORDS"}, rows)
			},
		},
		&cobra.Command{
			Use: "create NAME", Short: "Create an empty zone (its SOA is managed by resolvx)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				z, index, err := c.client().CreateZone(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if c.json {
					return c.printJSON(z)
				}
				c.done("created zone "+z.Name, index)
				return nil
			},
		},
		&cobra.Command{
			Use: "delete NAME", Short: "Delete a zone with all its records", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				index, err := c.client().DeleteZone(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				c.done("deleted zone "+args[0], index)
				return nil
			},
		},
		&cobra.Command{
			Use: "export NAME", Short: "Print the zone as an RFC 1035 master file", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				text, err := c.client().ExportZone(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(c.stdout, text)
				return err
			},
		},
		&cobra.Command{
			Use:   "import NAME FILE",
			Short: "Replace the zone's records with an RFC 1035 master file (- for stdin), as one atomic change",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				in := os.Stdin
				if args[1] != "-" {
					f, err := os.Open(args[1])
					if err != nil {
						return err
					}
					defer f.Close()
					in = f
				}
				n, index, err := c.client().ImportZone(cmd.Context(), args[0], in)
				if err != nil {
					return err
				}
				c.done(fmt.Sprintf("imported %d records into %s", n, args[0]), index)
				return nil
			},
		},
	)
	return cmd
}
