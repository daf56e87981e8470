package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
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
