package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/genesisfile"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Privileged calls of the chain's admin (admin.sudo): gatekeepers, clusters, allow-list, validators, council, worker liveness",
		Long: `Privileged calls, signed by the chain's admin account (named in the genesis; //Alice
on a dev chain) and dispatched through admin.sudo. The signer's secret URI comes
from --from, --from-file or the CELLA_SURI environment variable. The same calls
can be proposed to governance with ` + "`cella gov propose`" + `.`,
	}
	cmd.AddCommand(privilegedCmds(sudoSender)...)
	return cmd
}

// privilegedCmds returns the command tree of every privileged call, each
// sent by s: admin.sudo for ` + "`cella admin`" + `, gov.propose for ` + "`cella gov propose`" + `.
func privilegedCmds(s *privSender) []*cobra.Command {
	newSudoCmd := s.cmd
	gk := &cobra.Command{Use: "gatekeeper", Short: "Add or remove gatekeepers"}
	gk.AddCommand(
		newSudoCmd("add <worker>", "Make a registered worker a gatekeeper", cobra.ExactArgs(1),
			"  cella admin gatekeeper add 0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48 --from //Alice --wait",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				w, err := parseWorker(args[0])
				return gatekeeper.AddCall(w), err
			}, nil),
		newSudoCmd("remove <worker>", "Remove a gatekeeper", cobra.ExactArgs(1), "",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				w, err := parseWorker(args[0])
				return gatekeeper.RemoveCall(w), err
			}, nil),
	)
	live := newSudoCmd("liveness", "Set the workers' heartbeat interval N (blocks) and stale factor k (stale after k·N silent blocks; N = 0 turns liveness off)", cobra.NoArgs,
		"  cella admin liveness --interval 10 --stale-factor 3 --from //Alice --wait",
		func(cmd *cobra.Command, _ []string) (tx.Call, error) {
			n, _ := cmd.Flags().GetUint32("interval")
			k, _ := cmd.Flags().GetUint32("stale-factor")
			l := registry.Liveness{HeartbeatInterval: n, StaleFactor: k}
			if err := l.Check(); err != nil {
				return tx.Call{}, err
			}
			return registry.SetLivenessCall(l), nil
		}, func(cmd *cobra.Command) {
			cmd.Flags().Uint32("interval", registry.DefaultLiveness.HeartbeatInterval, "heartbeat interval N in blocks (0: off)")
			cmd.Flags().Uint32("stale-factor", registry.DefaultLiveness.StaleFactor, "a worker silent for more than k·N blocks is stale")
		})

	cl := &cobra.Command{Use: "cluster", Short: "Create clusters and change their workers"}
	cl.AddCommand(
		newSudoCmd("create", "Create a cluster (its id comes from the chain's cluster counter: 0, 1, …)", cobra.NoArgs,
			"  cella admin cluster create --owner 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY --permission public --worker 0x8eaf… --from //Alice --wait",
			func(cmd *cobra.Command, _ []string) (tx.Call, error) {
				f := cmd.Flags()
				ownerS, _ := f.GetString("owner")
				permS, _ := f.GetString("permission")
				workersS, _ := f.GetStringSlice("worker")
				owner, err := keys.ParseAccount(ownerS)
				if err != nil {
					return tx.Call{}, fmt.Errorf("--owner: %w", err)
				}
				perm, err := chainapi.ParsePermission(permS)
				if err != nil {
					return tx.Call{}, fmt.Errorf("--permission: %w", err)
				}
				a := phat.CreateArgs{Owner: owner, Permission: perm}
				for _, s := range workersS {
					w, err := parseWorker(s)
					if err != nil {
						return tx.Call{}, fmt.Errorf("--worker: %w", err)
					}
					a.Workers = append(a.Workers, w)
				}
				call := phat.CreateClusterCall(a)
				if _, err := phat.DecodeCreateArgs(call.Args); err != nil {
					return tx.Call{}, err
				}
				return call, nil
			}, func(cmd *cobra.Command) {
				f := cmd.Flags()
				f.String("owner", "", "the cluster's owner (SS58 address or 0x public key)")
				f.String("permission", "public", "who may deploy contracts: public or owner")
				f.StringSlice("worker", nil, "a worker of the cluster (0x identity key); repeat for several")
				_ = cmd.MarkFlagRequired("owner")
				_ = cmd.MarkFlagRequired("worker")
			}),
		newSudoCmd("add-worker <cluster> <worker>", "Add a registered worker to a cluster", cobra.ExactArgs(2),
			"  cella admin cluster add-worker 0 0x8eaf… --from //Alice --wait",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				id, w, err := parseClusterWorker(args)
				return phat.AddWorkerCall(id, w), err
			}, nil),
		newSudoCmd("remove-worker <cluster> <worker>", "Remove a worker from a cluster", cobra.ExactArgs(2), "",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				id, w, err := parseClusterWorker(args)
				return phat.RemoveWorkerCall(id, w), err
			}, nil),
		newSudoCmd("report-interval <cluster> <blocks>", "Set how often (in blocks) the cluster's workers report its state root", cobra.ExactArgs(2),
			"  cella admin cluster report-interval 0 5 --from //Alice --wait",
			func(_ *cobra.Command, args []string) (tx.Call, error) {
				id, err := parseClusterID(args[0])
				if err != nil {
					return tx.Call{}, err
				}
				n, err := strconv.ParseUint(args[1], 10, 32)
				if err != nil || n == 0 || n > uint64(phat.MaxReportInterval) {
					return tx.Call{}, fmt.Errorf("report interval %q: want 1 to %d blocks", args[1], phat.MaxReportInterval)
				}
				return phat.SetReportIntervalCall(id, uint32(n)), nil
			}, nil),
	)
	if s == sudoSender {
		// Owner-signed, not privileged: under `cella admin` only, not a proposal.
		cl.AddCommand(newSetSystemContractCmd())
	}
	rotate := newSudoCmd("rotate-master-key", "Rotate the master key: the gatekeepers make a new one (the next epoch) and re-key every cluster and contract", cobra.NoArgs,
		"  cella admin rotate-master-key --from //Alice --wait",
		func(*cobra.Command, []string) (tx.Call, error) { return gatekeeper.RotateMasterKeyCall(), nil }, nil)
	grace := newSudoCmd("key-grace <blocks>", "Set how many blocks after a re-keying a command encrypted to a contract's previous key still runs (applies to later re-keyings)", cobra.ExactArgs(1),
		"  cella admin key-grace 100 --from //Alice --wait",
		func(_ *cobra.Command, args []string) (tx.Call, error) {
			n, err := parseKeyGrace(args[0])
			return gatekeeper.SetKeyGraceCall(n), err
		}, nil)
	return append([]*cobra.Command{gk, cl, live, rotate, grace}, morePrivilegedCmds(s)...)
}

// parseKeyGrace parses a key grace period: a decimal u32 of blocks.
func parseKeyGrace(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("key grace %q: want a number of blocks from 0 to %d", s, uint32(math.MaxUint32))
	}
	return uint32(n), nil
}

// parseWorker parses a worker's identity key (0x-hex or SS58).
func parseWorker(s string) (keys.PublicKey, error) {
	w, err := keys.ParseAccount(s)
	if err != nil {
		return keys.PublicKey{}, invalidArg(fmt.Errorf("worker %q: %w", s, err))
	}
	return w, nil
}

// parseClusterID parses a cluster id: 0x-hex of 32 bytes, or the decimal
// counter it was made from (0 for the first cluster).
func parseClusterID(s string) ([32]byte, error) {
	if !strings.HasPrefix(s, "0x") {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return phat.ClusterID(n), nil
		}
	}
	id, err := genesisfile.ParseHash32(s)
	if err != nil {
		return id, invalidArg(fmt.Errorf("cluster id: %w (or give the cluster's number, e.g. 0)", err))
	}
	return id, nil
}

func parseClusterWorker(args []string) ([32]byte, keys.PublicKey, error) {
	id, err := parseClusterID(args[0])
	if err != nil {
		return id, keys.PublicKey{}, err
	}
	w, err := parseWorker(args[1])
	return id, w, err
}

// privSender turns a privileged call into the transaction a command of
// privilegedCmds sends.
type privSender struct {
	// name is the command path prefix in examples ("admin", "gov propose").
	name string
	// signer describes --from.
	signer string
	// wrap builds the transaction's call from the privileged one.
	wrap func(cmd *cobra.Command, inner tx.Call) tx.Call
	// flags, when set, adds the sender's own flags.
	flags func(cmd *cobra.Command)
}

// sudoSender sends admin.sudo(call).
var sudoSender = &privSender{name: "admin", signer: "the admin",
	wrap: func(_ *cobra.Command, inner tx.Call) tx.Call { return admin.SudoCall(inner) }}

// cmd is a command that sends s.wrap(build(args)).
func (s *privSender) cmd(use, short string, args cobra.PositionalArgs, example string,
	build func(cmd *cobra.Command, args []string) (tx.Call, error), flags func(cmd *cobra.Command)) *cobra.Command {
	var (
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: strings.ReplaceAll(example, "cella admin ", "cella "+s.name+" "),
		Args:    args,
		RunE: func(cmd *cobra.Command, args []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			inner, err := build(cmd, args)
			if err != nil {
				return invalidArg(err)
			}
			return sendSigned(cmd, timeout, wait, output, s.wrap(cmd, inner))
		},
	}
	addSecretFlags(cmd, "from", s.signer)
	if flags != nil {
		flags(cmd)
	}
	if s.flags != nil {
		s.flags(cmd)
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the transaction is committed and print its result")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "give up after this long")
	nodeFlag(cmd)
	outputFlag(cmd)
	addDisplayFlags(cmd)
	return cmd
}

func newGatekeepersQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "gatekeepers",
		Short:   "Show the gatekeepers and the master public key",
		Example: "  cella query gatekeepers --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			g, err := c.Gatekeepers(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				return printJSON(w, g)
			}
			if g.MasterPubkey == "" {
				fmt.Fprintln(w, "master key    none yet")
			} else {
				fmt.Fprintf(w, "master key    %s (epoch %d)\n", g.MasterPubkey, g.MasterEpoch)
			}
			if len(g.Gatekeepers) == 0 {
				fmt.Fprintln(w, "no gatekeepers")
			}
			for _, k := range g.Gatekeepers {
				fmt.Fprintf(w, "%s  %s\n", k.Identity, map[bool]string{true: "active", false: "waiting for the master key"}[k.Active])
			}
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

func printCluster(cmd *cobra.Command, ci *chainapi.ClusterInfo) {
	w := cmd.OutOrStdout()
	pub := ci.Pubkey
	if pub == "" {
		pub = "none yet"
	}
	fmt.Fprintf(w, "%s\n  owner       %s (%s)\n  pubkey      %s (epoch %d)\n", ci.ID, ci.Owner, ci.Permission, pub, ci.Epoch)
	for _, x := range ci.Workers {
		keyed := "waiting for the cluster key"
		for _, k := range ci.Keyed {
			if k == x {
				keyed = "keyed"
			}
		}
		fmt.Fprintf(w, "  worker      %s  %s\n", x, keyed)
	}
	fmt.Fprintf(w, "  reports     state root every %d blocks\n", ci.ReportInterval)
	if ci.LastAgreed != nil {
		fmt.Fprintf(w, "  agreed root %s at height %d (%d workers)\n", ci.LastAgreed.Root, ci.LastAgreed.Height, len(ci.LastAgreed.Agreeing))
	} else if len(ci.Roots) > 0 {
		fmt.Fprintf(w, "  agreed root none yet\n")
	}
	if n := len(ci.Roots); n > 0 {
		r := ci.Roots[n-1]
		fmt.Fprintf(w, "  last root   %s at height %d (%d workers)\n", r.Root, r.Height, len(r.Agreeing))
	}
	for _, a := range ci.Alarms {
		fmt.Fprintf(w, "  DIVERGENCE  height %d: worker %s reported %s, expected %s\n", a.Height, a.Worker, a.Root, a.ExpectedRoot)
	}
}

func newClustersQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "clusters",
		Short:   "List the clusters with their owners, workers and keys",
		Example: "  cella query clusters --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			cs, err := c.Clusters(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), cs)
			}
			if len(cs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no clusters")
			}
			for i := range cs {
				printCluster(cmd, &cs[i])
			}
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

func newClusterQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "cluster <id>",
		Short:   "Show one cluster (by 0x id, or by number: 0 is the first cluster)",
		Example: "  cella query cluster 0 --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseClusterID(args[0])
			if err != nil {
				return err
			}
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			ci, err := c.Cluster(cmd.Context(), id)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), ci)
			}
			printCluster(cmd, ci)
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

// newSetSystemContractCmd is `cella admin cluster system-contract`: the
// cluster's owner (not the admin) names its system contract.
func newSetSystemContractCmd() *cobra.Command {
	var (
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "system-contract <cluster> <contract>",
		Short: "Name an instantiated contract of a cluster its system contract (signed by the cluster's owner)",
		Long: `Name an instantiated contract of the cluster its system contract, as Phala deploys one
per cluster: the pink extension's system_contract_id answers it, and its SetHook events may
hook any contract of the cluster. Only the cluster's owner may; --from is the owner's key
(this is not an admin call).`,
		Example: "  cella admin cluster system-contract 0 5Dfis6Xg… --from //Alice --wait",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			id, err := parseClusterID(args[0])
			if err != nil {
				return err
			}
			ct, err := keys.ParseAccount(args[1])
			if err != nil {
				return invalidArg(fmt.Errorf("contract %q: %w", args[1], err))
			}
			return sendSigned(cmd, timeout, wait, output, phat.SetSystemContractCall(id, ct))
		},
	}
	addSecretFlags(cmd, "from", "the cluster's owner")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the transaction is committed and print its result")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "give up after this long")
	nodeFlag(cmd)
	outputFlag(cmd)
	addDisplayFlags(cmd)
	return cmd
}
