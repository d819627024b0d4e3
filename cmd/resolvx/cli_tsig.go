package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/resolvx/resolvx/api"
)

// tsigSecretBytes is the size of a generated TSIG secret: the output size
// of HMAC-SHA256 (RFC 8945 §6 recommends at least that).
const tsigSecretBytes = 32

func (c *cli) tsigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tsig", Short: "Create, list and delete TSIG keys for zone transfers"}
	var algorithm, secret string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create (or replace) a TSIG key; without --secret a random one is generated and printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			generated := secret == ""
			if generated {
				b := make([]byte, tsigSecretBytes)
				if _, err := rand.Read(b); err != nil {
					return err
				}
				secret = base64.StdEncoding.EncodeToString(b)
			}
			k, index, err := c.client().CreateTSIGKey(cmd.Context(), api.TSIGKeyRequest{Name: args[0], Algorithm: algorithm, Secret: secret})
			if err != nil {
				return err
			}
			if c.json {
				out := struct {
					api.TSIGKeyInfo
					Secret string `json:"secret,omitempty"`
				}{TSIGKeyInfo: k}
				if generated {
					out.Secret = secret
				}
				return c.printJSON(out)
			}
			c.done(fmt.Sprintf("created TSIG key %s (%s)", k.Name, k.Algorithm), index)
			if generated {
				fmt.Fprintf(c.stdout, "secret: %s\n(shown only now: resolvx never prints it again)\n", secret)
			}
			return nil
		},
	}
	create.Flags().StringVar(&algorithm, "algorithm", "hmac-sha256", "hmac-sha256 or hmac-sha512")
	create.Flags().StringVar(&secret, "secret", "", "the base64 secret (default: 32 random bytes)")
	cmd.AddCommand(
		create,
		&cobra.Command{
			Use: "list", Short: "List TSIG keys (names and algorithms; secrets are never shown)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				keys, err := c.client().TSIGKeys(cmd.Context())
				if err != nil {
					return err
				}
				if c.json {
					return c.printJSON(keys)
				}
				rows := make([][]string, 0, len(keys))
				for _, k := range keys {
					rows = append(rows, []string{k.Name, k.Algorithm})
				}
				return table(c.stdout, []string{"NAME", "ALGORITHM"}, rows)
			},
		},
		&cobra.Command{
			Use: "delete NAME", Short: "Delete a TSIG key that no zone uses", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				index, err := c.client().DeleteTSIGKey(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				c.done("deleted TSIG key "+args[0], index)
				return nil
			},
		},
	)
	return cmd
}

// zoneTransferCmd is `resolvx zone transfer ZONE`: with no flags it shows
// the settings, with any flag it replaces them.
func (c *cli) zoneTransferCmd() *cobra.Command {
	var allow, notify []string
	var key string
	cmd := &cobra.Command{
		Use:   "transfer ZONE",
		Short: "Show or set who may transfer the zone (AXFR/IXFR) and whom to NOTIFY",
		Long: `Show or set a zone's transfer settings. With no flags, print them. Each flag
given replaces that setting (the others stay): a transfer is allowed from an
address in --allow and, with --tsig-key, only when signed with that key;
--notify lists the secondaries ("ip:port") that get a NOTIFY on every
change. An empty value (--allow "", --tsig-key "") clears that setting.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if !fl.Changed("allow") && !fl.Changed("tsig-key") && !fl.Changed("notify") {
				t, err := c.client().Transfer(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return c.printTransfer(t)
			}
			cur, err := c.client().Transfer(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if fl.Changed("allow") {
				cur.Allow = nonEmpty(allow)
			}
			if fl.Changed("tsig-key") {
				cur.TSIGKey = key
			}
			if fl.Changed("notify") {
				cur.Notify = nonEmpty(notify)
			}
			t, index, err := c.client().SetTransfer(cmd.Context(), args[0], cur)
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(t)
			}
			c.done("set the transfer settings of "+args[0], index)
			return c.printTransfer(t)
		},
	}
	cmd.Flags().StringSliceVar(&allow, "allow", nil, "CIDR prefixes allowed to transfer, comma-separated")
	cmd.Flags().StringVar(&key, "tsig-key", "", "TSIG key transfers must be signed with (\"\": none)")
	cmd.Flags().StringSliceVar(&notify, "notify", nil, "secondaries to NOTIFY, ip:port, comma-separated")
	return cmd
}

func (c *cli) printTransfer(t api.TransferSettings) error {
	if c.json {
		return c.printJSON(t)
	}
	return table(c.stdout, []string{"ALLOW", "TSIG KEY", "NOTIFY"},
		[][]string{{dash(strings.Join(t.Allow, ",")), dash(t.TSIGKey), dash(strings.Join(t.Notify, ","))}})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// nonEmpty drops empty items (from --allow "").
func nonEmpty(items []string) []string {
	out := []string{}
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
