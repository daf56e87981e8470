package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestHelp: -h and --help print the usage on stdout and succeed, without
// the flag package's "flag: help requested".
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		var out, errOut bytes.Buffer
		err := run([]string{arg}, &out, &errOut)
		if err != nil || !strings.Contains(out.String(), "Usage: pruntime") || !strings.Contains(out.String(), "-data-dir") ||
			errOut.Len() != 0 || strings.Contains(out.String(), "help requested") {
			t.Errorf("%s: %v\nstdout %q\nstderr %q", arg, err, out.String(), errOut.String())
		}
	}
}

// TestUsageErrors: an unknown flag or a stray argument is a usage error
// (exit 2), with the usage on stderr.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"extra"}, {"--log-level"}, {"--public-url", "ftp://h:1"}} {
		var out, errOut bytes.Buffer
		err := run(args, &out, &errOut)
		if !errors.Is(err, errUsage) || out.Len() != 0 || (args[0] != "--public-url" && !strings.Contains(errOut.String(), "Usage: pruntime")) {
			t.Errorf("%v: %v\nstdout %q\nstderr %q", args, err, out.String(), errOut.String())
		}
	}
}
