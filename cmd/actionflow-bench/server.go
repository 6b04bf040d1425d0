package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/standard"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime/lib"
)

// The environment of the server child process.
const (
	envServe        = "ACTIONFLOW_BENCH_SERVE"           // "1": run as the server
	envData         = "ACTIONFLOW_BENCH_DATA"            // data directory
	envDurable      = "ACTIONFLOW_BENCH_DURABLE"         // "1": fsync on commit
	envRootPassword = "ACTIONFLOW_BENCH_ROOT_PASSWORD"   // root's password
	envCPUProfile   = "ACTIONFLOW_BENCH_CPUPROFILE"      // file for a CPU profile, optional
	envMemProfile   = "ACTIONFLOW_BENCH_MEMPROFILE"      // file for a heap profile at shutdown, optional
	envValueThresh  = "ACTIONFLOW_BENCH_VALUE_THRESHOLD" // the store's value threshold, optional
	envStore        = "ACTIONFLOW_BENCH_STORE"           // the store URL (postgres://), optional

	// readyPrefix starts the line the child prints on stdout once it listens.
	readyPrefix = "actionflow-bench listening on "
)

// newServerApp builds the app the way cmd/actionflow does: the workflow engine and every
// trigger plugin, the standard Lua modules, defaults elsewhere.
func newServerApp(cfg core.Config) (*core.App, error) {
	cfg.LuaModules = lib.Standard(lib.StdConfig{})
	app, err := core.New(cfg, core.WithPlugins(standard.Plugins(workflow.Config{})...))
	if err != nil {
		return nil, fmt.Errorf("bench server: %w", err)
	}
	return app, nil
}

// serveChild is the server process: it serves on a free loopback port, announces it on
// stdout, and stops gracefully on SIGTERM or SIGINT.
func serveChild(getenv func(string) string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fail := func(err error) int {
		fmt.Fprintf(stderr, "actionflow-bench server: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(fmt.Errorf("listen: %w", err))
	}
	cfg := core.Config{
		Addr:         ln.Addr().String(),
		DataDir:      getenv(envData),
		Store:        getenv(envStore),
		RootPassword: getenv(envRootPassword),
		SyncWrites:   getenv(envDurable) == "1",
		Logger:       log,
		// Every load connection comes from loopback: no per-address limit.
		MaxConnsPerIP: -1,
		// ACTIONFLOW_METRICS=false measures the server without its metrics, as
		// `actionflow serve --metrics=false` runs (README, Operating).
		DisableMetrics: getenv("ACTIONFLOW_METRICS") == "false",
	}
	if v := getenv(envValueThresh); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", envValueThresh, err))
		}
		cfg.ValueThreshold = n
	}
	app, err := newServerApp(cfg)
	if err != nil {
		_ = ln.Close()
		return fail(err)
	}
	if path := getenv(envCPUProfile); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			_ = ln.Close()
			_ = app.Close(context.Background())
			return fail(err)
		}
		defer stopProfile(stderr)
	}
	// The soft memory limit `actionflow serve` sets by default (--memory-limit), unless
	// GOMEMLIMIT is set.
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(standard.MemoryLimit)
	}
	code := 0
	if !standard.Serve(func() error { return app.Serve(ln) }, log, func() {
		fmt.Fprintf(stdout, "%s%s\n", readyPrefix, ln.Addr())
	}) {
		code = 1
	}
	if path := getenv(envMemProfile); path != "" {
		if err := writeHeapProfile(path); err != nil {
			log.Error("heap profile", "err", err)
			code = 1
		}
	}
	if !standard.Stop(app, log) {
		code = 1
	}
	return code
}

func startCPUProfile(path string) (func(io.Writer), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func(stderr io.Writer) {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "actionflow-bench server: cpu profile: %v\n", err)
		}
	}, nil
}

// writeHeapProfile writes the live heap (after a GC) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	goruntime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

// server is a server child process on its own temporary data directory.
type server struct {
	cmd    *exec.Cmd
	url    string
	dir    string
	logs   *lineLimiter
	exited chan struct{}
	err    error // the process's exit, once exited is closed
	killed bool  // by kill: its exit is no error
	cfg    serverConfig
}

// serverConfig says how to start a server child.
type serverConfig struct {
	Durable        bool
	RootPassword   string
	CPUProfile     string
	MemProfile     string
	ValueThreshold int    // 0: the store's default
	Store          string // the store URL; empty: badger in the temporary directory
	Stderr         io.Writer
}

// startServer re-executes this binary as a server on a fresh temporary directory and
// waits until it listens.
func startServer(ctx context.Context, cfg serverConfig) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	dir, err := os.MkdirTemp("", "actionflow-bench-*")
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	durable := "0"
	if cfg.Durable {
		durable = "1"
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(),
		envServe+"=1", envData+"="+dir, envDurable+"="+durable,
		envRootPassword+"="+cfg.RootPassword, envCPUProfile+"="+cfg.CPUProfile, envMemProfile+"="+cfg.MemProfile,
		envValueThresh+"="+strconv.Itoa(cfg.ValueThreshold), envStore+"="+cfg.Store)
	logs := &lineLimiter{w: cfg.Stderr, max: serverLogLines}
	cmd.Stderr = logs
	setParentDeathSignal(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start server: %w", err)
	}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{cmd: cmd, dir: dir, logs: logs, exited: make(chan struct{}), cfg: cfg}
	addr := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		addr <- strings.TrimSpace(strings.TrimPrefix(line, readyPrefix))
		_, _ = io.Copy(io.Discard, r)
		s.err = cmd.Wait()
		close(s.exited)
	}()
	select {
	case a := <-addr:
		if _, _, err := net.SplitHostPort(a); err != nil {
			_ = cmd.Process.Kill()
			<-s.exited
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("start server: it did not announce its address (%v)", s.err)
		}
		s.url = "http://" + a
		return s, nil
	case <-time.After(60 * time.Second):
		err = errors.New("start server: no address after 60s")
	case <-ctx.Done():
		err = fmt.Errorf("start server: %w", ctx.Err())
	}
	_ = s.stop(5 * time.Second)
	return nil, err
}

// PeakRSS is the server's peak resident set size so far (VmHWM), in bytes.
func (s *server) PeakRSS() (int64, error) { return peakRSS(s.cmd.Process.Pid) }

// kill ends the server at once (SIGKILL), as a crash would, and waits for it.
func (s *server) kill() error {
	s.killed = true
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill server: %w", err)
	}
	<-s.exited
	return nil
}

// stop ends the server with SIGTERM (SIGKILL after grace), waits for it and removes its
// directory.
func (s *server) stop(grace time.Duration) error {
	var errs []error
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		errs = append(errs, fmt.Errorf("stop server: %w", err))
	}
	select {
	case <-s.exited:
		if s.err != nil && !s.killed {
			errs = append(errs, fmt.Errorf("stop server: %w", s.err))
		}
	case <-time.After(grace):
		_ = s.cmd.Process.Kill()
		<-s.exited
		errs = append(errs, fmt.Errorf("stop server: killed after %v", grace))
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("stop server: %w", err))
	}
	if n := s.logs.Dropped(); n > 0 {
		fmt.Fprintf(s.logs.w, "actionflow-bench: %d more server log lines not shown\n", n)
	}
	return errors.Join(errs...)
}

// serverLogLines is how many lines of a server's log are shown: an error that repeats on
// every request would bury the report.
const serverLogLines = 20

// lineLimiter passes the first max lines to w and counts the rest.
type lineLimiter struct {
	w       io.Writer
	max     int
	mu      sync.Mutex
	lines   int
	dropped int
}

// Write implements io.Writer; it never fails, so the server is never blocked by its log.
func (l *lineLimiter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for rest := p; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if l.lines < l.max {
			_, _ = l.w.Write(line)
		} else if line[len(line)-1] == '\n' {
			l.dropped++
		}
		if line[len(line)-1] == '\n' {
			l.lines++
		}
	}
	return len(p), nil
}

// Dropped is the number of lines not shown.
func (l *lineLimiter) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// peakRSS reads VmHWM of a process from /proc (Linux only).
func peakRSS(pid int) (int64, error) { return procStatus(pid, "VmHWM") }

// procStatus reads one "Field:   123 kB" line of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return parseStatusKB(string(b), field)
}

// parseStatusKB finds "Field:   123 kB" in a /proc/<pid>/status text and returns bytes.
func parseStatusKB(status, field string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: malformed line %q", field, line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("%s: not in status", field)
}

// anonSampler keeps the peak of a process's anonymous resident memory (RssAnon: heap
// and stacks, not mapped files), read every interval, since /proc keeps no peak of it.
type anonSampler struct {
	stop chan struct{}
	done chan struct{}
	peak int64 // 0 when no sample could be read
}

func sampleAnon(pid int, interval time.Duration) *anonSampler {
	a := &anonSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if n, err := procStatus(pid, "RssAnon"); err == nil {
				a.peak = max(a.peak, n)
			}
			select {
			case <-a.stop:
				return
			case <-t.C:
			}
		}
	}()
	return a
}

// Stop ends the sampling and returns the peak, nil when none was read.
func (a *anonSampler) Stop() *int64 {
	close(a.stop)
	<-a.done
	if a.peak == 0 {
		return nil
	}
	return &a.peak
}

// randomSecret is a random hex string of n bytes.
func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
