package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
)

// suriEnv is the environment variable that can hold a secret URI, so that the
// secret need not appear in argv (and so in the process list or shell history).
const suriEnv = "CELLA_SURI"

// addSecretFlags adds the two flags through which a command takes a secret
// URI: --<name> (the URI itself) and --<name>-file (a file holding it). The
// third source, the CELLA_SURI environment variable, needs no flag. Read the
// result with readSecretURI(cmd, name, name+"-file").
func addSecretFlags(cmd *cobra.Command, name, what string) {
	cmd.Flags().String(name, "", fmt.Sprintf("secret URI of %s (//Alice, a mnemonic, 0xSEED, with an optional /derivation///password)", what))
	cmd.Flags().String(name+"-file", "", fmt.Sprintf("read the secret URI of %s from this file", what))
}

// readSecretURI returns the secret URI given through exactly one of three
// sources: the flag named flagName, the file named by the flag fileFlag
// (trimmed of surrounding whitespace), or the CELLA_SURI environment variable.
// Either flag may be absent from cmd. It fails with a one-line message when no
// source or more than one source is given.
func readSecretURI(cmd *cobra.Command, flagName, fileFlag string) (string, error) {
	suri, _, err := readSecretURIArgv(cmd, flagName, fileFlag)
	return suri, err
}

// readSecretURIArgv is readSecretURI that also tells whether the secret
// came on the command line (the flag flagName given in argv).
func readSecretURIArgv(cmd *cobra.Command, flagName, fileFlag string) (suri string, onArgv bool, err error) {
	suri, err = readSecretURIOnce(cmd, flagName, fileFlag)
	if err != nil {
		return "", false, err
	}
	env, envSet := os.LookupEnv(suriEnv)
	onArgv = flagOnArgv(cmd, flagName) && !(envSet && env == suri)
	return suri, onArgv, nil
}

func readSecretURIOnce(cmd *cobra.Command, flagName, fileFlag string) (string, error) {
	var (
		value, path      string
		hasFlag, hasFile bool
	)
	if f := cmd.Flags().Lookup(flagName); f != nil && f.Changed {
		value, hasFlag = f.Value.String(), true
	}
	if f := cmd.Flags().Lookup(fileFlag); f != nil && f.Changed {
		path, hasFile = f.Value.String(), true
	}
	env, envSet := os.LookupEnv(suriEnv)
	if hasFlag && envSet && value == env {
		// The root command fills every unset flag from CELLA_<FLAG>, so --suri
		// may hold CELLA_SURI itself: that is one source, not two.
		hasFlag = false
	}
	hasEnv := envSet && env != ""

	var given []string
	if hasFlag {
		given = append(given, "--"+flagName)
	}
	if hasFile {
		given = append(given, "--"+fileFlag)
	}
	if hasEnv {
		given = append(given, suriEnv)
	}
	switch len(given) {
	case 0:
		return "", fmt.Errorf("no secret given: use --%s, --%s or the %s environment variable", flagName, fileFlag, suriEnv)
	case 1:
	default:
		return "", fmt.Errorf("the secret was given more than once (%s): use only one source", strings.Join(given, " and "))
	}

	var suri string
	switch {
	case hasFlag:
		suri = value
	case hasFile:
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("--%s: cannot read the secret file: %w", fileFlag, err)
		}
		suri = strings.TrimSpace(string(b))
		if suri == "" {
			return "", fmt.Errorf("--%s: the secret file %s is empty", fileFlag, path)
		}
		return suri, nil
	default:
		suri = env
	}
	if strings.TrimSpace(suri) == "" {
		return "", fmt.Errorf("the secret given by %s is empty", given[0])
	}
	return suri, nil
}

// fromEnvAnnotation marks a flag that applyEnv filled from CELLA_<FLAG>.
const fromEnvAnnotation = "cella-from-env"

// flagOnArgv tells whether the flag name was given on the command line
// (set, and not by applyEnv from the environment).
func flagOnArgv(cmd *cobra.Command, name string) bool {
	f := cmd.Flags().Lookup(name)
	return f != nil && f.Changed && f.Annotations[fromEnvAnnotation] == nil
}

// isDevURI tells whether suri derives from the public development phrase
// with no password (//Alice, //Bob//stash): a key anyone can compute.
func isDevURI(suri string) bool {
	u, err := keys.ParseURI(suri)
	return err == nil && (u.Phrase == "" || u.Phrase == keys.DevPhrase) && !u.HasPassword
}

// argvSecretWarning returns the warning due for the secret URI suri given
// on the command line as source (e.g. "--from"), or "" when none is: a
// development key (//Alice) is public, so it is fine where chain is a dev
// chain or where the command talks to no chain (chain nil); any other
// secret, or a development key used on a chain that is not a dev chain,
// draws the warning. better names the safer sources to suggest.
func argvSecretWarning(source, suri, better string, chain *chainapi.ChainInfo) string {
	if isDevURI(suri) && (chain == nil || chain.Dev) {
		return ""
	}
	var what string
	if isDevURI(suri) {
		what = fmt.Sprintf("%s is a development key, which anyone can compute, and chain %q is not a dev chain; ", source, chain.ChainID)
	}
	return fmt.Sprintf("warning: %sthe secret given by %s is on the command line, where other users of this machine can read it (in the process list) and the shell history keeps it: use %s instead", what, source, better)
}

// warnArgvSecret writes argvSecretWarning's warning, if any, to w.
func warnArgvSecret(w io.Writer, source, suri, better string, chain *chainapi.ChainInfo) {
	if msg := argvSecretWarning(source, suri, better, chain); msg != "" {
		fmt.Fprintln(w, msg)
	}
}

// warnArgvSecretOnChain is warnArgvSecret for a command that uses the
// chain behind c: it asks the node whether that is a dev chain when the
// answer matters (a development key).
func warnArgvSecretOnChain(ctx context.Context, w io.Writer, c *client.Client, source, suri, better string) error {
	var chain *chainapi.ChainInfo
	if isDevURI(suri) {
		ci, err := c.ChainInfo(ctx)
		if err != nil {
			return err
		}
		chain = ci
	}
	warnArgvSecret(w, source, suri, better, chain)
	return nil
}

// secretSources is the advice of commands that read a secret URI with
// readSecretURI.
func secretSources(fileFlag string) string {
	return "--" + fileFlag + " or the " + suriEnv + " environment variable"
}
