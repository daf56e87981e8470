package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cella-network/cella/internal/client"
)

// envPrefix: every flag can also be set as CELLA_<FLAG> (dashes become
// underscores), e.g. CELLA_NODE=http://host:26657 or CELLA_HOME=/data/cella.
// A flag given on the command line wins over the environment.
const envPrefix = "CELLA_"

// applyEnv fills flags that were not set on the command line from the
// environment.
func applyEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := cmd.Flags().Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("environment %s: %w", name, err)
			}
			if f.Annotations == nil {
				f.Annotations = map[string][]string{}
			}
			f.Annotations[fromEnvAnnotation] = []string{name}
		}
	})
	return firstErr
}

// outputFlag adds --output text|json to a query-like command.
func outputFlag(cmd *cobra.Command) *string {
	return cmd.Flags().StringP("output", "o", "text", "output format: text or json")
}

func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return fmt.Errorf("--output must be text or json, not %q", o)
	}
	return nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printJSONLine writes v as one line of JSON (a stream of records, as
// `contract logs --follow --output json` prints).
func printJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// nodeFlag adds --node (the RPC address of a node).
func nodeFlag(cmd *cobra.Command) *string {
	s := cmd.Flags().String("node", client.DefaultNode, "RPC address of a Cella node (host:port, http(s)://host:port or tcp://host:port)")
	markEndpoint(cmd, "node", "http")
	return s
}

// nodeQuery reads what every query-like command needs: its --output format
// (checked) and a client of its --node.
func nodeQuery(cmd *cobra.Command) (output string, c *client.Client, err error) {
	output = cmd.Flag("output").Value.String()
	if err := checkOutput(output); err != nil {
		return "", nil, err
	}
	c, err = client.New(cmd.Flag("node").Value.String())
	return output, c, err
}

// logFlags are the logging flags shared by long-running commands.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().StringVar(&l.format, "log-format", "text", "log format: text or json")
}

// logger builds the command's structured logger, writing to w (the
// command's standard error).
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", l.format)
}
