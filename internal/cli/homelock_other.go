//go:build !unix

package cli

import (
	"errors"
	"os"
)

// On systems without flock the home is not locked.
var errWouldBlock = errors.New("would block")

func flockExclusive(*os.File) error { return nil }

func funlock(*os.File) error { return nil }
