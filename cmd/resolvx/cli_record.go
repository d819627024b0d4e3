package main

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/resolvx/resolvx/api"
)

func (c *cli) recordCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "record", Short: "Create, list and delete records"}
	var ttl uint32
	var priority uint16
	create := &cobra.Command{
		Use:   "create ZONE NAME TYPE VALUE",
		Short: "Create a record (NAME relative to the zone, @ for the apex, or fully qualified)",
		Args:  cobra.ExactArgs(4),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.RecordRequest{Name: args[1], Type: args[2], Value: args[3]}
			if cmd.Flags().Changed("ttl") {
				req.TTL = &ttl
			}
			if cmd.Flags().Changed("priority") {
				req.Priority = &priority
			}
			rec, index, err := c.client().CreateRecord(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(rec)
			}
			c.done("created record "+rec.ID+": "+rec.Name+" "+strconv.FormatUint(uint64(rec.TTL), 10)+" "+rec.Type+" "+recordValue(rec.Priority, rec.Type, rec.Value), index)
			return nil
		},
	}
	create.Flags().Uint32Var(&ttl, "ttl", 3600, "TTL in seconds")
	create.Flags().Uint16Var(&priority, "priority", 0, "MX preference or SRV priority")

	var typ, name string
	list := &cobra.Command{
		Use: "list ZONE", Short: "List a zone's records", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			recs, err := c.client().Records(cmd.Context(), args[0], typ, name)
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(recs)
			}
			rows := make([][]string, 0, len(recs))
			for _, r := range recs {
				rows = append(rows, []string{r.ID, r.Name, strconv.FormatUint(uint64(r.TTL), 10), r.Type, recordValue(r.Priority, r.Type, r.Value)})
			}
			return table(c.stdout, []string{"ID", "NAME", "TTL", "TYPE", "VALUE"}, rows)
		},
	}
	list.Flags().StringVar(&typ, "type", "", "only records of this type")
	list.Flags().StringVar(&name, "name", "", "only records of this owner name")

	del := &cobra.Command{
		Use: "delete ZONE ID", Short: "Delete a record by id (see record list)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			index, err := c.client().DeleteRecord(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			c.done("deleted record "+args[1], index)
			return nil
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

// recordValue shows the value as a zone file would: MX and SRV with their
// priority first.
func recordValue(priority uint16, typ, value string) string {
	if typ == "MX" || typ == "SRV" {
		return strconv.FormatUint(uint64(priority), 10) + " " + value
	}
	return value
}
