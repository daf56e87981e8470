// Command pruntime is the worker runtime on its own, the binary meant to run
// inside a TEE. It is kept apart from the cella CLI so that its measurement
// (what the chain's allow-list holds) changes only when the runtime does.
// Build it reproducibly with: CGO_ENABLED=0 go build -trimpath ./cmd/pruntime
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tee/dev"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pruntime:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errUsage wraps a command-line mistake (exit 2, as cella's).
var errUsage = errors.New("usage")

// run runs the pruntime with args; --help prints the usage to stdout, a
// flag mistake prints it to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pruntime", flag.ContinueOnError)
	var parseOut bytes.Buffer
	fs.SetOutput(&parseOut)
	dataDir := fs.String("data-dir", "pruntime-data", "folder for sealed keys and checkpoints")
	listen := fs.String("listen", defaults.PRuntimePublicAddr, "public API address")
	internal := fs.String("internal-listen", defaults.PRuntimeInternalAddr, "internal API address for pherry: host:port or unix:/path, never the public one (calls need the token in DATA-DIR/"+pruntime.TokenFile+")")
	operator := fs.String("operator", "", "the worker's operator account, SS58 or 0x hex (bound to the data folder at initialisation)")
	genesisHash := fs.String("genesis-hash", "", "accept only the chain with this genesis hash (0x hex)")
	teeKind := fs.String("tee", "dev", "TEE provider: dev (software only, NOT secure) or tdx")
	publicURL := fs.String("public-url", "", "URL clients reach the public API at (host:port means http://host:port), recorded in the chain's registry once the worker is registered")
	interval := fs.Int64("checkpoint-interval", pruntime.DefaultCheckpointInterval, "blocks between sealed checkpoints")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	httpProxy := fs.String("http-proxy", "", pruntime.HTTPProxyHelp)
	devRootCA := fs.String("dev-extra-root-ca", "", pruntime.DevExtraRootCAHelp)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: pruntime [flags]\n\nThe Cella worker runtime. pherry feeds it blocks; clients query it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = stdout.Write(parseOut.Bytes())
			return nil // -h, --help: not an error
		}
		// The flag package printed the mistake and the usage.
		_, _ = stderr.Write(parseOut.Bytes())
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	fs.SetOutput(stderr)
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q (pruntime takes flags only)", errUsage, fs.Arg(0))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	pub, err := defaults.NormalizeEndpoint(*publicURL, "http")
	if err != nil {
		return fmt.Errorf("%w: --public-url %w", errUsage, err)
	}
	wc := pruntime.Config{DataDir: *dataDir, CheckpointInterval: *interval, Log: log, PublicURL: pub}
	pc, err := pruntime.PinkFlags(*httpProxy, *devRootCA)
	if err != nil {
		return err
	}
	wc.Pink = pc
	if *operator != "" {
		if wc.Operator, err = pruntime.ParseOperator(*operator); err != nil {
			return fmt.Errorf("--operator: %w", err)
		}
	}
	if *genesisHash != "" {
		if wc.GenesisHash, err = pruntime.ParseGenesisHash(*genesisHash); err != nil {
			return fmt.Errorf("--genesis-hash: %w", err)
		}
	}
	var provider tee.Provider
	switch *teeKind {
	case "dev":
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(exe)
		if err != nil {
			return fmt.Errorf("hash own executable: %w", err)
		}
		id := hashing.Blake2b256(b)
		p, err := dev.New(dev.Config{BuildID: id[:], SealDir: *dataDir, Log: log})
		if err != nil {
			return err
		}
		provider = p
	case "tdx":
		return fmt.Errorf("--tee tdx: TDX attestation is verified on chain, but a TDX pRuntime cannot keep its keys yet (TDX has no sealing; the gatekeeper key handover comes later)")
	default:
		return fmt.Errorf("--tee must be dev or tdx, not %q", *teeKind)
	}
	wc.TEE = provider
	if m, err := provider.Measurement(); err == nil {
		h := m.Hash()
		log.Info("pruntime measurement: a chain must allow-list this hash (cella dev --allow-measurement, or genesis registry.measurements)",
			"measurement_hash", fmt.Sprintf("0x%x", h))
	}
	rt, err := pruntime.Open(wc)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := pruntime.Serve(ctx, rt, pruntime.Listeners{PublicAddr: *listen, InternalAddr: *internal}, log, nil); err != nil {
		return err
	}
	return rt.Close()
}
