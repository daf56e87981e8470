package testnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// StopGrace is how long Stop waits after SIGTERM before it kills a
// process group.
const StopGrace = 15 * time.Second

// Exit reports a process that ended while it was meant to run.
type Exit struct {
	Name string
	Err  error // from exec.Cmd.Wait (nil: exit status 0)
	Log  string
}

func (e Exit) String() string {
	status := "exit status 0"
	if e.Err != nil {
		status = e.Err.Error()
	}
	return fmt.Sprintf("%s exited (%s); it is not restarted; see %s", e.Name, status, e.Log)
}

// Supervisor runs a manifest's processes: binary (the cella executable)
// with each process's arguments, in the testnet folder, each in a process
// group of its own with stdout and stderr appended to logs/NAME.log. It
// never restarts a process by itself: an unexpected end is sent on Exits.
type Supervisor struct {
	Binary string
	Dir    string
	M      *Manifest
	// Exits receives every process that ended without Stop or Kill
	// (buffered; reports beyond its capacity are dropped, and logged).
	Exits chan Exit
	Log   *slog.Logger
	// Host, when set, limits StartAll, StopAll and Run to the processes of
	// that host (Process.Host): one runner per host of a multi-host testnet.
	Host string

	mu    sync.Mutex
	procs map[string]*running
}

type running struct {
	cmd      *exec.Cmd
	done     chan struct{}
	expected bool // stopped or killed on purpose
	err      error
}

// NewSupervisor returns a Supervisor of m in dir; binary is the cella
// executable to run.
func NewSupervisor(binary, dir string, m *Manifest, log *slog.Logger) *Supervisor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{Binary: binary, Dir: dir, M: m, Exits: make(chan Exit, 64), Log: log, procs: map[string]*running{}}
}

// LogPath is the log file of a process.
func (s *Supervisor) LogPath(name string) string { return filepath.Join(s.Dir, "logs", name+".log") }

// StartAll starts every process in manifest order; on an error it stops the
// ones it started.
func (s *Supervisor) StartAll() error {
	n := 0
	for _, p := range s.M.Processes {
		if !s.mine(p) {
			continue
		}
		n++
		if err := s.Start(p.Name); err != nil {
			s.StopAll()
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("testnet: no process runs on host %q (the manifest's hosts: %v)", s.Host, s.M.Hosts)
	}
	return nil
}

// mine says whether p is the supervisor's to run.
func (s *Supervisor) mine(p Process) bool { return s.Host == "" || p.Host == s.Host }

// Start starts the process called name (again, after it ended).
func (s *Supervisor) Start(name string) error {
	p, ok := s.M.Get(name)
	if !ok {
		return fmt.Errorf("testnet: no process %q in the manifest", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.procs[name]; ok {
		select {
		case <-r.done:
		default:
			return fmt.Errorf("testnet: %s is running", name)
		}
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "logs"), 0o700); err != nil {
		return err
	}
	lf, err := os.OpenFile(s.LogPath(name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(lf, "\n=== %s: starting %s %v\n", time.Now().UTC().Format(time.RFC3339), name, p.Args)
	cmd := exec.Command(s.Binary, p.Args...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Stdin = nil
	// A process group of its own: a Ctrl-C at the terminal reaches the
	// runner only, which stops the groups in order; a signal to the group
	// reaches anything the process started.
	cmd.SysProcAttr = sysProcAttr()
	// Secrets reach pherry through files only, never the environment.
	cmd.Env = filterEnv(os.Environ(), "CELLA_OPERATOR")
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("testnet: start %s: %w", name, err)
	}
	r := &running{cmd: cmd, done: make(chan struct{})}
	s.procs[name] = r
	s.Log.Info("started", "process", name, "pid", cmd.Process.Pid, "log", s.LogPath(name))
	go func() {
		err := cmd.Wait()
		lf.Close()
		s.mu.Lock()
		r.err = err
		expected := r.expected
		s.mu.Unlock()
		close(r.done)
		if expected {
			return
		}
		e := Exit{Name: name, Err: err, Log: s.LogPath(name)}
		s.Log.Error("process exited", "process", name, "err", err, "log", e.Log)
		select {
		case s.Exits <- e:
		default:
			s.Log.Error("exit report dropped (nobody reads Exits)", "process", name)
		}
	}()
	return nil
}

// Running says whether the process called name runs.
func (s *Supervisor) Running(name string) bool {
	s.mu.Lock()
	r, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL to the process group of name (a crash: no cleanup) and
// waits for the process to end. It is not reported on Exits.
func (s *Supervisor) Kill(name string) error { return s.signal(name, syscall.SIGKILL, 0) }

// Stop sends SIGTERM to the process group of name, waits up to StopGrace,
// then kills the group. It is not reported on Exits.
func (s *Supervisor) Stop(name string) error { return s.signal(name, syscall.SIGTERM, StopGrace) }

func (s *Supervisor) signal(name string, sig syscall.Signal, grace time.Duration) error {
	s.mu.Lock()
	r, ok := s.procs[name]
	if ok {
		r.expected = true
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("testnet: %s was never started", name)
	}
	select {
	case <-r.done:
		return nil
	default:
	}
	pgid := r.cmd.Process.Pid
	_ = syscall.Kill(-pgid, sig)
	if grace > 0 {
		select {
		case <-r.done:
		case <-time.After(grace):
			s.Log.Warn("did not stop in time; killing", "process", name)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-r.done
		}
	} else {
		<-r.done
	}
	// Anything left in the group (a child the process started) goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

// StopAll stops every process, pherries first, then pRuntimes, then nodes
// (the reverse of the start order), each group at the same time within a
// kind.
func (s *Supervisor) StopAll() {
	for _, kind := range []string{KindPherry, KindPRuntime, KindNode} {
		var wg sync.WaitGroup
		for _, p := range s.M.OfKind(kind, "") {
			if !s.mine(p) {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Stop(p.Name); err == nil {
					s.Log.Info("stopped", "process", p.Name)
				}
			}()
		}
		wg.Wait()
	}
}

// Run starts every process and waits until ctx ends (Ctrl-C, SIGTERM),
// then stops them all. A process that exits meanwhile is reported on
// report and not restarted: with failFast the runner then stops the rest
// and returns an error at once; otherwise the rest keeps running, and Run
// returns an error naming the processes that exited when it is stopped.
// bootstrap, when set, runs once the processes started (its error is
// reported, and ends the run with failFast).
func (s *Supervisor) Run(ctx context.Context, failFast bool, bootstrap func(context.Context) error, report func(string)) error {
	if err := s.StartAll(); err != nil {
		return err
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	berr := make(chan error, 1)
	if bootstrap != nil {
		go func() { berr <- bootstrap(bctx) }()
	}
	var exited []string
	for {
		select {
		case <-ctx.Done():
			report("stopping every process")
			cancel()
			s.StopAll()
			if len(exited) > 0 {
				return fmt.Errorf("processes exited while the testnet ran: %v", exited)
			}
			return nil
		case e := <-s.Exits:
			exited = append(exited, e.Name)
			report(e.String())
			if failFast {
				report("--fail-fast: stopping every process")
				cancel()
				s.StopAll()
				return fmt.Errorf("%s", e)
			}
			report("the other processes keep running (restart it by hand, or stop the testnet with Ctrl-C)")
		case err := <-berr:
			if err != nil && !errors.Is(err, context.Canceled) {
				report("bootstrap failed: " + err.Error())
				if failFast {
					cancel()
					s.StopAll()
					return err
				}
			} else if err == nil {
				report("bootstrap done: gatekeepers active, cluster 0 keyed on every worker")
			}
		}
	}
}

func filterEnv(env []string, drop string) []string {
	out := env[:0:0]
	for _, e := range env {
		if len(e) > len(drop) && e[:len(drop)+1] == drop+"=" {
			continue
		}
		out = append(out, e)
	}
	return out
}
