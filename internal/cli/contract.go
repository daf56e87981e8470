package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/metadata"
	"github.com/cella-network/cella/internal/contract/sandbox"
	"github.com/cella-network/cella/internal/keys"
)

// newContractCmd is `cella contract`: offline tools for ink! contracts.
func newContractCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Inspect, encode, decode and run ink! contracts locally; upload, instantiate, call and query them on a network",
	}
	cmd.AddCommand(newContractInspectCmd(), newContractSandboxCmd(), newContractEncodeCmd(), newContractDecodeCmd(),
		newContractUploadCmd(), newContractInstantiateCmd(), newContractCallCmd(), newContractQueryMsgCmd(), newContractLogsCmd())
	return cmd
}

func readMetadata(path string) (*metadata.Metadata, error) { return sandbox.ReadMetadata(path) }

func newContractInspectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show constructors, messages, selectors and argument types of a .contract or metadata .json",
		Args:  cobra.ExactArgs(1),
	}
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		m, err := readMetadata(args[0])
		if err != nil {
			return err
		}
		return printInspect(cmd.OutOrStdout(), m, *output == "json")
	}
	return cmd
}

type inspectArg struct {
	Label string `json:"label"`
	Type  string `json:"type"`
}

type inspectMsg struct {
	Label    string       `json:"label"`
	Selector string       `json:"selector"`
	Args     []inspectArg `json:"args"`
	Returns  string       `json:"returns,omitempty"`
	Payable  bool         `json:"payable"`
	Mutates  bool         `json:"mutates,omitempty"`
}

func inspectList(m *metadata.Metadata, ms []*metadata.Message) []inspectMsg {
	out := make([]inspectMsg, 0, len(ms))
	for _, msg := range ms {
		im := inspectMsg{Label: msg.Label, Selector: "0x" + hex.EncodeToString(msg.Selector[:]), Args: []inspectArg{},
			Payable: msg.Payable, Mutates: msg.Mutates}
		for _, a := range msg.Args {
			im.Args = append(im.Args, inspectArg{a.Label, m.Registry.TypeName(a.Type)})
		}
		if sig := m.Signature(msg); strings.Contains(sig, " -> ") {
			im.Returns = sig[strings.LastIndex(sig, " -> ")+4:]
		}
		out = append(out, im)
	}
	return out
}

func printInspect(w io.Writer, m *metadata.Metadata, asJSON bool) error {
	ctors, msgs := inspectList(m, m.Constructors), inspectList(m, m.Messages)
	events := make([]string, 0, len(m.Events))
	for _, e := range m.Events {
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = a.Label + ": " + m.Registry.TypeName(a.Type)
		}
		events = append(events, e.Label+"("+strings.Join(parts, ", ")+")")
	}
	var codeHash string
	if m.Wasm != nil {
		h := engine.CodeHash(m.Wasm)
		codeHash = "0x" + hex.EncodeToString(h[:])
	}
	if asJSON {
		return printJSON(w, map[string]any{
			"name": m.Name, "version": m.ContractVersion, "metadataVersion": m.Version, "language": m.Language,
			"codeHash": codeHash, "codeSize": len(m.Wasm), "constructors": ctors, "messages": msgs, "events": events,
		})
	}
	fmt.Fprintf(w, "%s %s (metadata V%d, %s)\n", m.Name, m.ContractVersion, m.Version, m.Language)
	if codeHash != "" {
		fmt.Fprintf(w, "code: %d bytes, hash %s\n", len(m.Wasm), codeHash)
	}
	section := func(title string, list []inspectMsg, all []*metadata.Message) {
		fmt.Fprintf(w, "%s:\n", title)
		for i, im := range list {
			flags := ""
			if im.Payable {
				flags += " payable"
			}
			if im.Mutates {
				flags += " mutates"
			}
			fmt.Fprintf(w, "  %s  %s%s\n", im.Selector, m.Signature(all[i]), flags)
		}
	}
	section("constructors", ctors, m.Constructors)
	section("messages", msgs, m.Messages)
	if len(events) > 0 {
		fmt.Fprintln(w, "events:")
		for _, e := range events {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	return nil
}

func newContractEncodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "encode FILE 'message(args…)'",
		Short: "Encode call data (selector ‖ SCALE arguments) from JSON arguments",
		Args:  cobra.ExactArgs(2),
	}
	ctor := cmd.Flags().Bool("constructor", false, "encode a constructor rather than a message")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		m, err := readMetadata(args[0])
		if err != nil {
			return err
		}
		_, data, err := m.EncodeExpr(args[1], *ctor)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "0x%s\n", hex.EncodeToString(data))
		return nil
	}
	return cmd
}

func newContractDecodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decode FILE NAME 0xHEX",
		Short: "Decode the output of a message (or constructor, or an event with --event) to JSON",
		Long: "Decode the output of a message (or constructor with --constructor) to JSON. With --event, NAME is ignored\n" +
			"and HEX is the event data; --topic gives the event topics (needed for ink! 5 events).",
		Args: cobra.ExactArgs(3),
	}
	ctor := cmd.Flags().Bool("constructor", false, "decode a constructor's output")
	event := cmd.Flags().Bool("event", false, "decode an event")
	topics := cmd.Flags().StringArray("topic", nil, "event topic as 0xHEX (repeatable)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		m, err := readMetadata(args[0])
		if err != nil {
			return err
		}
		data, err := hexArg(args[2])
		if err != nil {
			return err
		}
		if *event {
			var ts [][]byte
			for _, t := range *topics {
				b, err := hexArg(t)
				if err != nil {
					return err
				}
				ts = append(ts, b)
			}
			ev, err := m.DecodeEvent(ts, data)
			if err != nil {
				return err
			}
			return writeLine(cmd.OutOrStdout(), ev)
		}
		var msg *metadata.Message
		if *ctor {
			msg, err = m.Constructor(args[1])
		} else {
			msg, err = m.Message(args[1])
		}
		if err != nil {
			return err
		}
		v, err := m.DecodeResult(msg, data)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), string(v))
		return nil
	}
	return cmd
}

func hexArg(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %q", s)
	}
	return b, nil
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func newContractSandboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox [FILE.contract]",
		Short: "Deploy and call a contract in memory",
		Long: "Deploy and call a contract in an in-memory chain. The first --exec is a constructor, the others\n" +
			"are messages, run in order; arguments are a JSON list inside the parentheses, e.g.\n" +
			"  --exec 'new(false)' --exec 'flip()' --exec 'get()'\n" +
			"  --exec 'transfer(\"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty\", 10)'\n" +
			"Without metadata, --raw deploy=0xHEX --raw call=0xHEX runs raw input bytes and prints flags and output.",
		Args: cobra.MaximumNArgs(1),
	}
	wasmPath := cmd.Flags().String("wasm", "", "contract code (.wasm); default: source.wasm of FILE")
	metaPath := cmd.Flags().String("metadata", "", "metadata .json; default: FILE")
	callerURI := cmd.Flags().String("caller", "//Alice", "caller as a secret URI (//Alice) or an address")
	execs := cmd.Flags().StringArray("exec", nil, "call expression name(args…) (repeatable; the first is the constructor)")
	raws := cmd.Flags().StringArray("raw", nil, "deploy=0xHEX or call=0xHEX raw input (repeatable)")
	gasLimit := cmd.Flags().Uint64("gas", 100_000_000, "gas limit of each call")
	output := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		files := sandbox.Files{Wasm: *wasmPath, Metadata: *metaPath}
		if len(args) == 1 {
			files.Bundle = args[0]
		}
		code, md, err := sandbox.Load(files)
		if err != nil {
			return err
		}
		caller, err := parseCaller(*callerURI)
		if err != nil {
			return err
		}
		var rawIns []sandbox.RawInput
		for _, r := range *raws {
			in, err := sandbox.ParseRaw(r)
			if err != nil {
				return fmt.Errorf("--raw %w", err)
			}
			rawIns = append(rawIns, in)
		}
		switch {
		case len(rawIns) > 0 && len(*execs) > 0:
			return errors.New("use either --exec or --raw")
		case len(rawIns) == 0 && md == nil:
			return errors.New("--exec needs metadata (a .contract bundle or --metadata)")
		case len(rawIns) == 0 && len(*execs) == 0:
			return errors.New("nothing to run: give --exec (the first is a constructor) or --raw")
		}
		sb, err := sandbox.New(cmd.Context(), code, sandbox.Config{Caller: caller, GasLimit: *gasLimit})
		if err != nil {
			return err
		}
		defer sb.Close()
		w := cmd.OutOrStdout()
		if len(rawIns) > 0 {
			res := sb.ExecRaw(rawIns)
			if *output == "json" {
				return printJSON(w, res)
			}
			for _, r := range res {
				fmt.Fprintf(w, "%s: flags=%d data=%s gas=%d", r.Call, r.Flags, r.Data, r.GasUsed)
				if r.Error != "" {
					fmt.Fprintf(w, " error=%q", r.Error)
				}
				if r.Debug != "" {
					fmt.Fprintf(w, " debug=%q", r.Debug)
				}
				fmt.Fprintln(w)
			}
			return nil
		}
		res, err := sb.Exec(md, *execs)
		if err != nil {
			return fmt.Errorf("--exec %w", err)
		}
		if *output == "json" {
			return printJSON(w, res)
		}
		for _, r := range res {
			status := "ok"
			switch {
			case r.Reverted:
				status = "reverted"
			case !r.Success:
				status = "failed: " + r.Error
			}
			fmt.Fprintf(w, "%s → %s  value=%s gas=%d\n", r.Call, status, r.Value, r.GasUsed)
			for _, e := range r.Events {
				fmt.Fprintf(w, "  event %s\n", e)
			}
			if r.Debug != "" {
				fmt.Fprintf(w, "  debug: %q\n", r.Debug)
			}
		}
		return nil
	}
	return cmd
}

func parseCaller(s string) (engine.AccountID, error) {
	if strings.HasPrefix(s, "0x") || (!strings.Contains(s, "/") && !strings.Contains(s, " ")) {
		if pub, err := keys.ParseAccount(s); err == nil {
			return engine.AccountID(pub), nil
		}
	}
	p, err := keys.FromURI(s)
	if err != nil {
		return engine.AccountID{}, fmt.Errorf("--caller: %w", err)
	}
	return engine.AccountID(p.Public()), nil
}
