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
	writeCommand(w, root)
}

func writeCommand(w io.Writer, c *cobra.Command) {
	if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
		return
	}
	if c.Runnable() {
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
