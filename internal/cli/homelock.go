package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// homeLockFile is the lock a running `cella dev` or `cella node` holds in
// its home folder (an advisory flock, released when the process exits,
// however it exits). The file holds the holder's PID, for the message a
// second instance prints.
const homeLockFile = "cella.lock"

// errHomeLocked is wrapped by lockHome's error when another process holds
// the home.
var errHomeLocked = errors.New("home in use")

// homeLock is a held lock on a home folder.
type homeLock struct{ f *os.File }

// lockHome creates home when needed and takes its lock, or fails naming
// the home and, when it can read it, the holder's PID.
func lockHome(home string) (*homeLock, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", home, err)
	}
	path := filepath.Join(home, homeLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := flockExclusive(f); err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf("another process (PID %d)", pid)
			}
		}
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &cliError{code: CodeLocked, exit: ExitError, err: fmt.Errorf("%s is in use by %s: another cella dev or cella node runs on it (stop it, or use another --home): %w", home, holder, errHomeLocked)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &homeLock{f: f}, nil
}

// release drops the lock (the file stays; a stale PID in it is harmless,
// since only the flock counts).
func (l *homeLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = funlock(l.f)
	_ = l.f.Close()
	l.f = nil
}
