package testnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// BootstrapOptions tune Bootstrap.
type BootstrapOptions struct {
	// ReportInterval, when not zero, sets cluster 0's state root report
	// interval (blocks).
	ReportInterval uint32
	// Poll is how often chain and pRuntimes are polled (default 250ms).
	Poll time.Duration
	Log  *slog.Logger
}

// Bootstrap does on a running testnet, as the admin (AdminFile), what a
// dev chain's bootstrap does for its one worker, generalised: it waits for
// every pRuntime to register, adds the first gatekeeper and waits for it
// to publish the master key, adds the others and waits until they hold it,
// then creates cluster 0 with the workers and waits until each holds
// cluster 0's key. Every step checks the chain first, so it may run again
// (after a restart of the runner) and does only what is missing; an
// unreachable node or a failed call is retried until ctx ends.
func Bootstrap(ctx context.Context, dir string, m *Manifest, o BootstrapOptions) error {
	if o.Poll == 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	b, err := os.ReadFile(filepath.Join(dir, AdminFile))
	if err != nil {
		return fmt.Errorf("bootstrap: the admin's key: %w", err)
	}
	admin, err := keys.FromURI(strings.TrimSpace(string(b)))
	if err != nil {
		return errors.New("bootstrap: the admin's secret URI is not valid")
	}
	bs := &bootstrapper{m: m, o: o, admin: admin}
	ids := map[string]keys.PublicKey{}
	for _, p := range m.OfKind(KindPRuntime, "") {
		var id keys.PublicKey
		if err := bs.until(ctx, p.Name+" registered", func() (bool, error) {
			in, err := PRuntimeInfo(ctx, p)
			if err != nil || !in.Registered {
				return false, nil
			}
			id, err = keys.ParseAccount(in.IdentityPublicKey)
			return err == nil, err
		}); err != nil {
			return err
		}
		ids[p.Name] = id
		o.Log.Info("registered", "pruntime", p.Name, "identity", id.Hex())
	}
	for i, p := range m.OfKind(KindPRuntime, RoleGatekeeper) {
		id := ids[p.Name]
		if err := bs.ensure(ctx, "gatekeeper.add("+p.Name+")", func(c *client.Client) (bool, error) {
			g, err := c.Gatekeepers(ctx)
			if err != nil {
				return false, err
			}
			return slices.ContainsFunc(g.Gatekeepers, func(x chainapi.GatekeeperInfo) bool { return x.Identity == id.Hex() }), nil
		}, gatekeeper.AddCall(id)); err != nil {
			return err
		}
		what := p.Name + " active (holding the master key)"
		if i == 0 {
			what = p.Name + " active (the master key made)"
		}
		if err := bs.until(ctx, what, func() (bool, error) {
			var g *chainapi.GatekeepersInfo
			if err := bs.chain(ctx, func(c *client.Client) (err error) { g, err = c.Gatekeepers(ctx); return err }); err != nil {
				return false, nil
			}
			return g.MasterPubkey != "" && slices.ContainsFunc(g.Gatekeepers, func(x chainapi.GatekeeperInfo) bool { return x.Identity == id.Hex() && x.Active }), nil
		}); err != nil {
			return err
		}
		o.Log.Info("gatekeeper active", "pruntime", p.Name)
	}
	var workers []keys.PublicKey
	for _, p := range m.OfKind(KindPRuntime, RoleWorker) {
		workers = append(workers, ids[p.Name])
	}
	if len(workers) == 0 {
		return nil
	}
	c0 := phat.ClusterID(0)
	if err := bs.ensure(ctx, "phat.create_cluster(workers)", func(c *client.Client) (bool, error) {
		cs, err := c.Clusters(ctx)
		return slices.ContainsFunc(cs, func(ci chainapi.ClusterInfo) bool { return ci.ID == fmt.Sprintf("0x%x", c0) }), err
	}, phat.CreateClusterCall(phat.CreateArgs{Owner: admin.Public(), Permission: phat.PermissionPublic, Workers: workers})); err != nil {
		return err
	}
	if o.ReportInterval > 0 {
		if err := bs.ensure(ctx, "phat.set_report_interval(0)", func(c *client.Client) (bool, error) {
			ci, err := c.Cluster(ctx, c0)
			return err == nil && ci.ReportInterval == o.ReportInterval, err
		}, phat.SetReportIntervalCall(c0, o.ReportInterval)); err != nil {
			return err
		}
	}
	if err := bs.until(ctx, "cluster 0's key on every worker", func() (bool, error) {
		var ci *chainapi.ClusterInfo
		if err := bs.chain(ctx, func(c *client.Client) (err error) { ci, err = c.Cluster(ctx, c0); return err }); err != nil {
			return false, nil
		}
		for _, w := range workers {
			if !slices.Contains(ci.Keyed, w.Hex()) {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	o.Log.Info("cluster 0 keyed", "workers", len(workers))
	return nil
}

type bootstrapper struct {
	m     *Manifest
	o     BootstrapOptions
	admin *keys.Pair
}

// chain runs f on the first node that answers (any validator may be down).
func (b *bootstrapper) chain(ctx context.Context, f func(*client.Client) error) error {
	var errs []error
	for _, n := range b.m.OfKind(KindNode, "") {
		c, err := client.New("http://" + n.Addrs["rpc"])
		if err != nil {
			return err
		}
		if err := f(c); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
			continue
		}
		return nil
	}
	return errors.Join(errs...)
}

// ensure makes done hold: while it does not (read on a node that
// answers), it dispatches call as the admin and checks again. A node down,
// a lost answer or a failed dispatch is logged and retried (the check
// comes first, so a call whose answer was lost is not sent twice) until
// ctx ends.
func (b *bootstrapper) ensure(ctx context.Context, what string, done func(*client.Client) (bool, error), call tx.Call) error {
	t := time.NewTicker(b.o.Poll)
	defer t.Stop()
	for {
		var ok bool
		err := b.chain(ctx, func(c *client.Client) (err error) { ok, err = done(c); return err })
		if err == nil && ok {
			return nil
		}
		if err == nil {
			b.o.Log.Info("admin.sudo", "call", what)
			err = b.chain(ctx, func(c *client.Client) error {
				h, err := c.Sudo(ctx, b.admin, call)
				if err != nil {
					return err
				}
				r, err := c.Wait(ctx, h)
				if err != nil {
					return err
				}
				if !r.OK() {
					return fmt.Errorf("failed: %s %s", r.Result, r.Log)
				}
				return nil
			})
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("bootstrap: %s: %w", what, ctx.Err())
			}
			b.o.Log.Warn("bootstrap: retrying", "call", what, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bootstrap: %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// until polls cond until it holds, fails or ctx ends.
func (b *bootstrapper) until(ctx context.Context, what string, cond func() (bool, error)) error {
	t := time.NewTicker(b.o.Poll)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("bootstrap: waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bootstrap: waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// PRuntimeInfo asks a pRuntime process's public API for its Info.
func PRuntimeInfo(ctx context.Context, p Process) (*pruntimev1.InfoResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c := pruntimev1connect.NewPublicClient(http.DefaultClient, "http://"+p.Addrs["public"])
	return c.Info(ctx, &pruntimev1.InfoRequest{})
}
