package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
)

// Process exit codes of the cella binary (docs/cli.md's introduction lists
// them; scripts may rely on them).
const (
	ExitOK          = 0 // success
	ExitError       = 1 // any other error
	ExitUsage       = 2 // bad command line: unknown command or flag, wrong arguments, missing subcommand
	ExitTxFailed    = 3 // the transaction was committed but its call failed (the fee was charged)
	ExitUnavailable = 4 // the node or pRuntime could not be reached
	ExitTimeout     = 5 // gave up waiting (--timeout)
)

// exitTable documents the exit codes and error codes (docs/cli.md).
var exitTable = []struct {
	exit           int
	codes, meaning string
}{
	{ExitOK, "", "success"},
	{ExitError, "`invalid_argument`, `not_found`, `tx_rejected`, `canceled`, `locked`, `error`",
		"a bad flag or argument value; no such account, transaction or contract; the node refused the transaction (no effect, no fee); interrupted; the home is in use; anything else"},
	{ExitUsage, "`usage`", "the command line is wrong: unknown command or flag, missing subcommand, wrong number of arguments, a required flag missing"},
	{ExitTxFailed, "`tx_failed`", "the transaction was committed but its call failed (the fee was charged)"},
	{ExitUnavailable, "`unavailable`", "the node or pRuntime could not be reached"},
	{ExitTimeout, "`timeout`", "gave up waiting (`--timeout`)"},
}

// Stable error codes of `{"error": {"code": …}}` (--output json).
const (
	CodeUsage           = "usage"
	CodeInvalidArgument = "invalid_argument"
	CodeNotFound        = "not_found"
	CodeTxRejected      = "tx_rejected"
	CodeTxFailed        = "tx_failed"
	CodeUnavailable     = "unavailable"
	CodeTimeout         = "timeout"
	CodeCanceled        = "canceled"
	CodeLocked          = "locked"
	CodeError           = "error"
)

// cliError is an error with a stable code and exit status.
type cliError struct {
	code string
	exit int
	err  error
	// shownAsJSON: the command already printed the outcome as JSON (a
	// failed transaction's result), so --output json prints nothing more.
	shownAsJSON bool
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// usageErr is a command-line mistake (exit 2).
func usageErr(format string, a ...any) error {
	return &cliError{code: CodeUsage, exit: ExitUsage, err: fmt.Errorf(format, a...)}
}

// invalidArg marks err as a bad argument or flag value (exit 1).
func invalidArg(err error) error {
	if err == nil {
		return nil
	}
	return &cliError{code: CodeInvalidArgument, exit: ExitError, err: err}
}

// notFound marks err as "no such thing" (exit 1).
func notFound(err error) error { return &cliError{code: CodeNotFound, exit: ExitError, err: err} }

// txFailedErr is a transaction committed with a failed call (exit 3).
func txFailedErr(err error) error { return &cliError{code: CodeTxFailed, exit: ExitTxFailed, err: err} }

// unavailableErr is an endpoint that could not be reached (exit 4).
func unavailableErr(err error) error {
	return &cliError{code: CodeUnavailable, exit: ExitUnavailable, err: err}
}

// classify returns err's stable code and exit status.
func classify(err error) (code string, exit int) {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code, ce.exit
	}
	var qe *client.QueryError
	var te *client.TxError
	msg := err.Error()
	switch {
	case errors.As(err, &te):
		return CodeTxRejected, ExitError
	case errors.As(err, &qe) && qe.Code == chainapi.QueryNotFound:
		return CodeNotFound, ExitError
	case errors.As(err, &qe) && (qe.Code == chainapi.QueryBadInput || qe.Code == chainapi.QueryBadPath):
		return CodeInvalidArgument, ExitError
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout, ExitTimeout
	case errors.Is(err, context.Canceled):
		return CodeCanceled, ExitError
	case errors.Is(err, client.ErrUnreachable):
		return CodeUnavailable, ExitUnavailable
	case isCobraUsage(msg):
		return CodeUsage, ExitUsage
	case strings.HasPrefix(msg, "--"):
		// Flag-value errors name their flag first ("--to: …").
		return CodeInvalidArgument, ExitError
	}
	return CodeError, ExitError
}

// isCobraUsage recognises the usage errors cobra itself returns (which
// are plain errors).
func isCobraUsage(msg string) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag(s)",
		"flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most",
		"if any flags in the group", "none of the others can be", "at least one of the flags"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// jsonError is what a command run with --output json prints on failure.
type jsonError struct {
	Error jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	ExitCode int    `json:"exitCode"`
}

// wantsJSON reports whether the failed command asked for --output json: the
// parsed flag when there is one, else the raw arguments (a flag error stops
// parsing before --output is read).
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		f := cmd.Flags().Lookup("output")
		if f != nil && f.Shorthand != "o" {
			return false // not the format flag (testnet's --output is a folder)
		}
		if f != nil && f.Changed {
			return f.Value.String() == "json"
		}
	}
	for i, a := range args {
		if a == "--" {
			break
		}
		switch {
		case a == "--output=json" || a == "-o=json" || a == "-ojson":
			return true
		case (a == "--output" || a == "-o") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// reportError prints err (as JSON on stdout with --output json, as text on
// stderr otherwise) and returns the exit status.
func reportError(stdout, stderr io.Writer, cmd *cobra.Command, args []string, err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	code, exit := classify(err)
	var ce *cliError
	if errors.As(err, &ce) && ce.shownAsJSON && wantsJSON(cmd, args) {
		return exit
	}
	if wantsJSON(cmd, args) {
		_ = printJSON(stdout, jsonError{Error: jsonErrorBody{Code: code, Message: err.Error(), ExitCode: exit}})
		return exit
	}
	fmt.Fprintln(stderr, "Error:", err)
	if exit == ExitUsage && cmd != nil {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return exit
}

// groupRunE is the RunE of a command group (a command with subcommands and
// nothing to run of its own): without arguments it prints its usage to
// stderr and fails with a usage error; with an unknown subcommand it says
// so and suggests the nearest.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		cmd.SetOut(cmd.ErrOrStderr())
		_ = cmd.Usage()
		return usageErr("%q needs a subcommand", cmd.CommandPath())
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageErr("%s", msg)
}

// groupAnnotation marks a command group (the reference lists its
// subcommands only).
const groupAnnotation = "cella_group"

// harden makes every command of the tree strict: groups fail on a missing
// or unknown subcommand, argument-count errors are usage errors.
func harden(c *cobra.Command) {
	// Usage templates are inherited: set every command's own, so that a
	// group's (which leaves out the "[flags]" line of a runnable command)
	// does not reach its subcommands.
	tmpl := (&cobra.Command{}).UsageTemplate()
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.SetUsageTemplate(strings.Replace(tmpl, "Usage:{{if .Runnable}}\n  {{.UseLine}}{{end}}", "Usage:", 1))
		c.RunE = groupRunE
		c.Args = cobra.ArbitraryArgs
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[groupAnnotation] = "true"
	} else {
		c.SetUsageTemplate(tmpl)
	}
	if c.Annotations[groupAnnotation] == "" && c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &cliError{code: CodeUsage, exit: ExitUsage, err: err}
			}
			return nil
		}
	}
	for _, s := range c.Commands() {
		harden(s)
	}
}

// newHelpCmd is `cella help [command]`: cobra's, except that an unknown
// topic is a usage error rather than the root's help and exit 0.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	h := &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application; 'cella help tx transfer' is 'cella tx transfer --help'.",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return usageErr("unknown help topic %q", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
	h.SetUsageTemplate((&cobra.Command{}).UsageTemplate())
	return h
}
