package testnet_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/testnet"
)

// syncBuffer is a bytes.Buffer safe for a process's writes and our reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var startedRe = regexp.MustCompile(`msg=started process=(\S+) pid=(\d+)`)

// pids returns the processes the runner reported started (the latest pid
// per name).
func pids(out string) map[string]int {
	m := map[string]int{}
	for _, s := range startedRe.FindAllStringSubmatch(out, -1) {
		m[s[1]], _ = strconv.Atoi(s[2])
	}
	return m
}

// TestRunnerProcesses runs `cella testnet run` itself (1 validator, 1
// gatekeeper, 1 worker): it bootstraps; a child killed -9 is reported and
// not restarted while the rest runs on; SIGTERM stops every process and the
// runner exits non-zero (a process had exited); a second run continues
// the chain (the bootstrap finds everything done); and when the runner is
// itself killed -9, its processes die with it.
func TestRunnerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cella and runs its processes")
	}
	bin := cellaBinary(t)
	dir := filepath.Join(t.TempDir(), "net")
	m, err := testnet.Write(dir, testnet.Options{Validators: 1, Gatekeepers: 1, Workers: 1, BasePort: freeBase(t, 3),
		BlockTime: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := func() (*exec.Cmd, *syncBuffer) {
		var out syncBuffer
		cmd := exec.Command(bin, "testnet", "run", dir)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_, _ = cmd.Process.Wait()
			}
		})
		return cmd, &out
	}
	waitOut := func(out *syncBuffer, what string) {
		t.Helper()
		for !strings.Contains(out.String(), what) {
			if ctx.Err() != nil {
				logs := ""
				for _, p := range m.Processes {
					b, _ := os.ReadFile(filepath.Join(dir, "logs", p.Name+".log"))
					logs += fmt.Sprintf("--- %s (last 1500 bytes):\n%s\n", p.Name, b[max(0, len(b)-1500):])
				}
				t.Fatalf("no %q in the runner's output:\n%s\n%s", what, out, logs)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	allGone := func(ps map[string]int) {
		t.Helper()
		for name, pid := range ps {
			for testnet.Alive(pid) {
				if ctx.Err() != nil {
					t.Fatalf("%s (pid %d) outlived the runner", name, pid)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}

	cmd, out := run()
	waitOut(out, "bootstrap done")
	ps := pids(out.String())
	if len(ps) != 5 {
		t.Fatalf("%d processes started, want 5:\n%s", len(ps), out)
	}
	// Every process serves its metrics on its own port.
	for _, p := range m.Processes {
		for use, a := range p.Addrs {
			if use != "metrics" {
				continue
			}
			r, err := http.Get("http://" + a + "/metrics")
			if err != nil {
				t.Fatalf("%s's metrics: %v", p.Name, err)
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("# TYPE")) {
				t.Fatalf("%s's metrics at %s: %s\n%.300s", p.Name, a, r.Status, b)
			}
		}
	}
	if err := syscall.Kill(ps["w0-pherry"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitOut(out, "w0-pherry exited (signal: killed); it is not restarted")
	waitOut(out, "the other processes keep running")
	for name, pid := range ps {
		if name != "w0-pherry" && !testnet.Alive(pid) {
			t.Fatalf("%s died with w0-pherry", name)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("the runner ended with %v after a process exited:\n%s", err, out)
	}
	allGone(ps)
	if b, err := os.ReadFile(filepath.Join(dir, "logs", "node0.log")); err != nil || len(b) == 0 {
		t.Fatalf("node0's log: %v", err)
	}

	// Again: the chain continues, the bootstrap has nothing left to do.
	cmd, out = run()
	waitOut(out, "bootstrap done")
	if strings.Contains(out.String(), "admin.sudo") {
		t.Fatalf("the second bootstrap dispatched again:\n%s", out)
	}
	ps = pids(out.String())
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	allGone(ps)
}
