package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/genesisfile"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

// morePrivilegedCmds are the privileged calls beyond gatekeepers and
// clusters: the measurement allow-list, the admin's removal, the validator
// set, the council, chain parameters, upgrades, and any privileged call by
// name.
func morePrivilegedCmds(s *privSender) []*cobra.Command {
	m := &cobra.Command{Use: "measurement", Short: "Allow-list pRuntime measurements, or remove them"}
	m.AddCommand(
		s.cmd("allow <hash>", "Allow workers that run this measurement (0x blake2-256 of the canonical measurement) to register", cobra.ExactArgs(1),
			"  cella admin measurement allow 0x5f1c… --from //Alice --wait",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				h, err := genesisfile.ParseHash32(args[0])
				return registry.AllowMeasurementCall(h), err
			}, nil),
		s.cmd("disallow <hash>", "Remove a measurement from the allow-list (registered workers stay registered)", cobra.ExactArgs(1), "",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				h, err := genesisfile.ParseHash32(args[0])
				return registry.DisallowMeasurementCall(h), err
			}, nil),
	)
	v := &cobra.Command{Use: "validator", Short: "Change the validator set"}
	v.AddCommand(s.cmd("set <ed25519-pubkey> <power>", "Set a validator's voting power (0 removes it)", cobra.ExactArgs(2),
		"  cella admin validator set 0x3b6a27bc… 10 --allow-concentration --from //Alice --wait",
		func(cmd *cobra.Command, args []string) (tx.Call, error) {
			pk, err := genesisfile.ParseHash32(args[0])
			if err != nil {
				return tx.Call{}, fmt.Errorf("validator key: %w", err)
			}
			power, err := strconv.ParseUint(args[1], 10, 63)
			if err != nil {
				return tx.Call{}, fmt.Errorf("power %q: %w", args[1], err)
			}
			allow, _ := cmd.Flags().GetBool("allow-concentration")
			call := validators.SetCall(pk, power, allow)
			_, _, _, err = validators.DecodeSetArgs(call.Args)
			return call, err
		}, func(cmd *cobra.Command) {
			cmd.Flags().Bool("allow-concentration", false, "allow one validator to hold more than 1/3 of the voting power")
		}))
	c := &cobra.Command{Use: "council", Short: "Replace the governance council"}
	c.AddCommand(s.cmd("set", "Replace the council and its approval threshold", cobra.NoArgs,
		"  cella admin council set --member //Alice --member 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty --threshold 2 --from //Alice --wait",
		func(cmd *cobra.Command, _ []string) (tx.Call, error) {
			ms, _ := cmd.Flags().GetStringSlice("member")
			th, _ := cmd.Flags().GetUint32("threshold")
			var members []keys.PublicKey
			for _, m := range ms {
				k, err := parseAccountOrURI(m)
				if err != nil {
					return tx.Call{}, fmt.Errorf("--member: %w", err)
				}
				members = append(members, k)
			}
			if err := state.ValidateCouncil(members, th); err != nil {
				return tx.Call{}, err
			}
			return gov.SetCouncilCall(members, th), nil
		}, func(cmd *cobra.Command) {
			cmd.Flags().StringSlice("member", nil, "a council member (SS58 address, 0x public key or dev //Name); repeat for several")
			cmd.Flags().Uint32("threshold", 0, "how many council ayes approve a proposal")
			_ = cmd.MarkFlagRequired("threshold")
		}))
	p := &cobra.Command{Use: "params", Short: "Change the chain's parameters"}
	p.AddCommand(s.cmd("set <json>", "Set the chain parameters (every field, as in genesis.json's app_state.params)", cobra.ExactArgs(1),
		`  cella admin params set '{"existential_deposit":"10000000000","base_fee":"1000000000","byte_fee":"1000000","weight_fee":"1000","max_block_weight":500000000,"ss58_prefix":42}' --from //Alice --wait`,
		func(_ *cobra.Command, args []string) (tx.Call, error) {
			dec := json.NewDecoder(strings.NewReader(args[0]))
			dec.DisallowUnknownFields()
			var jp chainapi.Params
			if err := dec.Decode(&jp); err != nil {
				return tx.Call{}, fmt.Errorf("params: %w", err)
			}
			sp := jp.State()
			if err := gov.ValidateParams(modules.Runtimes()[state.AppVersion1], &sp); err != nil {
				return tx.Call{}, err
			}
			return gov.SetParamsCall(sp), nil
		}, nil))
	u := &cobra.Command{Use: "upgrade", Short: "Schedule or cancel an app-version upgrade"}
	u.AddCommand(s.cmd("schedule <height> <app-version>", "Schedule the switch to an app version at the end of a height (install a binary that supports it before then)", cobra.ExactArgs(2),
		"  cella admin upgrade schedule 100000 2 --from //Alice --wait",
		func(_ *cobra.Command, args []string) (tx.Call, error) {
			h, err := strconv.ParseUint(args[0], 10, 63)
			if err != nil {
				return tx.Call{}, fmt.Errorf("height %q: %w", args[0], err)
			}
			v, err := strconv.ParseUint(args[1], 10, 64)
			if err != nil {
				return tx.Call{}, fmt.Errorf("app version %q: %w", args[1], err)
			}
			return gov.ScheduleUpgradeCall(h, v), nil
		}, nil),
		s.cmd("cancel", "Cancel the scheduled upgrade (gov.cancel_upgrade, from app version 2)", cobra.NoArgs,
			"  cella admin upgrade cancel --from //Alice --wait",
			func(*cobra.Command, []string) (tx.Call, error) { return gov.CancelUpgradeCall(), nil }, nil))
	return []*cobra.Command{m, v, c, p, u,
		s.cmd("remove-admin", "Remove the chain's admin account for good (admin.remove): admin.sudo fails after it", cobra.NoArgs,
			"  cella admin remove-admin --from //Alice --wait",
			func(*cobra.Command, []string) (tx.Call, error) { return admin.RemoveCall(), nil }, nil),
		s.cmd("call <module.method> [0x-args]", "Any privileged call by name, with its SCALE arguments in hex", cobra.RangeArgs(1, 2),
			"  cella admin call registry.allow_measurement 0x5f1c… --from //Alice --wait",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				var a []byte
				if len(args) == 2 {
					var err error
					if a, err = hex.DecodeString(strings.TrimPrefix(args[1], "0x")); err != nil {
						return tx.Call{}, fmt.Errorf("arguments %q are not hex", args[1])
					}
				}
				return privilegedCallByName(args[0], a)
			}, nil),
	}
}

// parseAccountOrURI reads an SS58 address, a 0x public key, or a dev
// secret URI (//Name) whose public key it takes.
func parseAccountOrURI(s string) (keys.PublicKey, error) {
	if strings.HasPrefix(s, "//") {
		p, err := keys.FromURI(s)
		if err != nil {
			return keys.PublicKey{}, err
		}
		return p.Public(), nil
	}
	return keys.ParseAccount(s)
}

// privilegedCallByName finds "module.method" among the privileged methods
// of the newest app version this binary knows and checks its arguments
// (the chain judges the call against the version it runs).
func privilegedCallByName(name string, args []byte) (tx.Call, error) {
	rt := modules.Runtimes()[modules.MaxAppVersion]
	var known []string
	for mi, mod := range rt.Modules {
		if mod == nil {
			continue
		}
		for ji, m := range mod.Methods {
			if m == nil || !m.Privileged {
				continue
			}
			full := mod.Name + "." + m.Name
			known = append(known, full)
			if full == name {
				if err := m.CheckArgs(args); err != nil {
					return tx.Call{}, err
				}
				return tx.Call{Module: uint8(mi), Method: uint8(ji), Args: args}, nil
			}
		}
	}
	return tx.Call{}, fmt.Errorf("%q is not a privileged call (known: %s)", name, strings.Join(known, ", "))
}

// govSender sends gov.propose(call, --referendum).
var govSender = &privSender{name: "gov propose", signer: "the proposer (a council member, or with --referendum any token holder)",
	wrap: func(cmd *cobra.Command, inner tx.Call) tx.Call {
		ref, _ := cmd.Flags().GetBool("referendum")
		return gov.ProposeCall(inner, ref)
	},
	flags: func(cmd *cobra.Command) {
		cmd.Flags().Bool("referendum", false, "propose a token holders' referendum (locks the referendum deposit until it closes) instead of a council proposal")
	}}

// plainSender sends the call itself.
var plainSender = &privSender{name: "gov", signer: "the voter", wrap: func(_ *cobra.Command, c tx.Call) tx.Call { return c }}

func newGovCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gov",
		Short: "On-chain governance: council proposals and token holders' referendums",
		Long: `Governance enacts privileged calls (the same as ` + "`cella admin`" + `) once approved:
a council proposal by a threshold of council ayes, a referendum (--referendum) by
more aye than nay stake with at least the minimum turnout when its voting period
ends. An approved proposal is enacted at the end of the block that comes its
enactment delay after the approval. See docs/governance.md.`,
	}
	propose := &cobra.Command{Use: "propose", Short: "Propose a privileged call (same subcommands as `cella admin`)"}
	propose.AddCommand(privilegedCmds(govSender)...)
	vote := plainSender.cmd("vote <id> aye|nay", "Vote on a proposal: a council member on a council proposal, a token holder with --stake on a referendum", cobra.ExactArgs(2),
		"  cella gov vote 0 aye --from //Bob --wait\n  cella gov vote 1 nay --stake 5000000000000 --from //Eve --wait",
		func(cmd *cobra.Command, args []string) (tx.Call, error) {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return tx.Call{}, fmt.Errorf("proposal id %q: %w", args[0], err)
			}
			var aye bool
			switch args[1] {
			case "aye", "yes":
				aye = true
			case "nay", "no":
			default:
				return tx.Call{}, fmt.Errorf("vote %q: want aye or nay", args[1])
			}
			st, _ := cmd.Flags().GetString("stake")
			amt, err := parseAmount("stake", st)
			if err != nil {
				return tx.Call{}, err
			}
			var stake scale.U128
			if amt != nil {
				stake, _ = scale.U128FromBig(amt)
			}
			return gov.VoteCall(id, aye, stake), nil
		}, func(cmd *cobra.Command) {
			cmd.Flags().String("stake", "", "referendums: base units to lock until the referendum closes; the vote weighs this much")
		})
	cmd.AddCommand(propose, vote, newGovShowCmd(), newGovListCmd())
	return cmd
}

func newGovShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "show <id>",
		Short:   "Show a proposal and its votes",
		Example: "  cella gov show 0 --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return invalidArg(fmt.Errorf("proposal id %q: %w", args[0], err))
			}
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			p, err := c.GovProposal(cmd.Context(), id)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), p)
			}
			printProposal(cmd, p)
			for _, v := range p.Votes {
				fmt.Fprintf(cmd.OutOrStdout(), "  vote        %s %s (%s)\n", v.Voter, map[bool]string{true: "aye", false: "nay"}[v.Aye], v.Stake)
			}
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

func newGovListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "Show the council, governance's settings and the latest proposals",
		Example: "  cella gov list --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			g, err := c.Gov(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), g)
			}
			w := cmd.OutOrStdout()
			if len(g.Council) == 0 {
				fmt.Fprintln(w, "council       none (referendums only)")
			} else {
				fmt.Fprintf(w, "council       %s (threshold %d)\n", strings.Join(g.Council, ", "), g.Threshold)
			}
			fmt.Fprintf(w, "timings       enactment delay %d blocks, voting period %d blocks\n", g.EnactmentDelay, g.VotingPeriod)
			fmt.Fprintf(w, "referendums   deposit %s, minimum turnout %s\n", formatTokens(g.ReferendumDeposit), formatTokens(g.MinTurnout))
			if g.Admin != "" {
				fmt.Fprintf(w, "admin         %s\n", g.Admin)
			} else {
				fmt.Fprintln(w, "admin         none")
			}
			fmt.Fprintf(w, "app version   %d\n", g.AppVersion)
			if g.Upgrade != nil {
				fmt.Fprintf(w, "upgrade       app version %d at the end of height %d (blocks from %d run it)\n", g.Upgrade.AppVersion, g.Upgrade.Height, g.Upgrade.Height+1)
			}
			for _, u := range g.PastUpgrades {
				fmt.Fprintf(w, "upgraded      app version %d to %d after height %d\n", u.From, u.AppVersion, u.Height)
			}
			if len(g.Proposals) == 0 {
				fmt.Fprintln(w, "no proposals")
			}
			for i := range g.Proposals {
				printProposal(cmd, &g.Proposals[i])
			}
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

func printProposal(cmd *cobra.Command, p *chainapi.ProposalInfo) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "#%d %s %s\n  proposer    %s\n  status      %s", p.ID, p.Kind, p.Call, p.Proposer, p.Status)
	switch p.Status {
	case "voting":
		fmt.Fprintf(w, " until height %d", p.VotingEnds)
	case "approved":
		fmt.Fprintf(w, ", enacted at the end of height %d", p.EnactAt)
	case "enacted", "failed":
		fmt.Fprintf(w, " at height %d: %s", p.Closed, p.ResultName)
	case "rejected":
		fmt.Fprintf(w, " at height %d", p.Closed)
	}
	fmt.Fprintf(w, "\n  tally       ayes %s, nays %s\n", p.Ayes, p.Nays)
}
