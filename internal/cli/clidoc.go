package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// WriteReference writes a Markdown reference of every command (docs/cli.md
// is generated with it; a test keeps the file current).
func WriteReference(w io.Writer) {
	root := newRootCmd()
	fmt.Fprintln(w, "# Command reference")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated from the commands themselves (`go test ./internal/cli -run Reference -update`).")
	fmt.Fprintln(w, "Every flag can also be set in the environment as `CELLA_<FLAG>`, dashes as underscores")
	fmt.Fprintln(w, "(for example `CELLA_NODE`, `CELLA_HOME`); a flag on the command line wins.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Addresses to connect to (`--node`, `--endpoint`, `--worker`, `--pruntime-public`,")
	fmt.Fprintln(w, "`--pruntime-internal`, `--public-url`) take `host:port` (meaning `http://host:port`),")
	fmt.Fprintln(w, "`http://`, `https://`, `tcp://` (as CometBFT prints them; meaning `http://`) or `unix:/path`;")
	fmt.Fprintln(w, "listen addresses (`--rpc-addr`, `--p2p-addr`) take `host:port`, `tcp://host:port` or `unix:/path`.")
	fmt.Fprintln(w, "Any other spelling is refused the same way by every command.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Output: accounts are SS58 addresses (`--hex` shows 0x public keys where offered), hashes")
	fmt.Fprintln(w, "are `0x` and lowercase hex, amounts are base units (1 "+TokenSymbol+" = 10^12), with `--units` also")
	fmt.Fprintln(w, "in "+TokenSymbol+".")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Exit codes and errors")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| exit | `error.code` | meaning |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, e := range exitTable {
		fmt.Fprintf(w, "| %d | %s | %s |\n", e.exit, e.codes, e.meaning)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A command group run without a subcommand, or with one that does not exist, prints its usage")
	fmt.Fprintln(w, "to standard error and exits 2. Errors go to standard error as `Error: …`; when the command was")
	fmt.Fprintln(w, "given `--output json` the error is instead one JSON object on **standard output**, so that a")
	fmt.Fprintln(w, "script reads one document either way:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "```json")
	fmt.Fprintln(w, `{"error": {"code": "not_found", "message": "transaction 0x… not found", "exitCode": 1}}`)
	fmt.Fprintln(w, "```")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The codes are stable; the messages are for people and may change. A `--wait` whose")
	fmt.Fprintln(w, "transaction was committed but failed prints its result as usual (with `--output json`, the")
	fmt.Fprintln(w, "result object with `\"status\": \"failed\"` and no error object) and exits 3.")
	writeCommand(w, root)
}

func writeCommand(w io.Writer, c *cobra.Command) {
	if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
		return
	}
	if c.Runnable() && c.Annotations[groupAnnotation] == "" {
		fmt.Fprintf(w, "\n## %s\n\n%s\n", c.CommandPath(), c.Short)
		if c.Long != "" && c.Long != c.Short {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Long))
		}
		fmt.Fprintf(w, "\n```\n%s\n```\n", c.UseLine())
		if c.Example != "" {
			fmt.Fprintf(w, "\nExamples:\n\n```\n%s\n```\n", strings.TrimRight(c.Example, "\n"))
		}
		if fl := c.LocalFlags().FlagUsages(); strings.TrimSpace(fl) != "" {
			fmt.Fprintf(w, "\nFlags:\n\n```\n%s```\n", fl)
		}
	}
	for _, sub := range c.Commands() {
		writeCommand(w, sub)
	}
}
