package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/scripts"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultMaxSourceBytes = 64 << 10
	DefaultMemoryLimit    = 256 << 20
	DefaultMaxStringBytes = 1 << 20
	// MaxArrayIndex is the value New gives lua.MaxArrayIndex (see New).
	MaxArrayIndex = 1 << 20
)

// Config configures an Engine. Zero fields take the defaults above.
type Config struct {
	// Workers is the most Lua states runs other than background ones (those a request
	// waits for) hold at once: states are built on demand up to it. Default
	// runtime.GOMAXPROCS(0) × 8 (a fresh state takes about 70 KiB of heap; CPU-bound scripts still
	// share the CPUs).
	Workers int
	// IdleWorkers is how many of those states are kept when idle; the others are closed
	// after 30 s unused. Default min(GOMAXPROCS, Workers).
	IdleWorkers int
	// KeyShare is the most of those states the runs of one Request.Key (a workflow) hold
	// at once: however many of its runs are in flight, runs of other keys find a state.
	// Default Workers/2, at least 1.
	KeyShare int
	// BackgroundWorkers are more pooled LStates, for background runs
	// (Request.Background) only, which never take the Workers states: however long
	// background scripts run, foreground runs (those a request waits for) find a
	// state. Default: min(GOMAXPROCS, Workers).
	BackgroundWorkers int
	Timeout           time.Duration // per-run deadline when Request.Timeout is 0, counted from the call of Run; default 5s
	MaxSourceBytes    int           // largest script source accepted by Compile; default 64 KiB
	MemoryLimit       uint64        // ceiling of the process's live heap (after a GC) while runs are in flight; default 256 MiB
	MaxStringBytes    int           // largest string a script can build (rep, .., concat, format, gsub); default 1 MiB
	Logger            *slog.Logger  // may be nil
}

// Module is a host module reachable by require(Name), and also as the global
// Name when Global is true (opened lazily on first use, once per run).
type Module struct {
	Name   string
	Global bool
	Doc    string
	// Open builds the module's value (usually a table) for one run. It runs
	// on the run's goroutine; r gives per-run state (context, logs, host value).
	Open func(L *lua.LState, r *Run) lua.LValue
}

// Engine runs compiled scripts in a fixed pool of sandboxed Lua states.
// It is safe for concurrent use.
type Engine struct {
	cfg    Config
	logger *slog.Logger
	cache  *scriptCache

	mu       sync.Mutex
	modules  map[string]Module // read-only once started
	started  bool
	start    sync.Once
	luaMods  map[string]*lua.FunctionProto
	baseKeys map[string]bool // names of base globals, which Global modules may not shadow

	pool    *pool        // up to Workers states, for foreground runs
	workers []*worker    // the BackgroundWorkers states
	bgPool  chan *worker // the idle ones of them, for background runs

	closed atomic.Bool
	done   chan struct{}

	inflight atomic.Int64
	wake     chan struct{}
	watchers sync.WaitGroup
	// watchSamples and watchGCs count the watchdog's heap samples and the
	// collections it forced (tests wait on them instead of on the clock).
	watchSamples atomic.Uint64
	watchGCs     atomic.Uint64
}

// maxArrayIndexOnce guards the one package-level setting this package changes.
// lua.MaxArrayIndex is a gopher-lua package variable: integer keys at or above
// it go to a table's hash part instead of its array part. Its default (64M)
// lets one assignment t[6e7]=1 append 60M nils (gigabytes, seconds, no
// interrupt), so New lowers it to MaxArrayIndex (1<<20), once, for every
// gopher-lua state in the process.
var maxArrayIndexOnce sync.Once

// New builds an engine. The Lua states are built lazily, on first use.
// Duplicate or invalid modules are an error.
func New(cfg Config, modules ...Module) (*Engine, error) {
	if cfg.Workers < 0 || cfg.IdleWorkers < 0 || cfg.KeyShare < 0 || cfg.BackgroundWorkers < 0 || cfg.Timeout < 0 || cfg.MaxSourceBytes < 0 || cfg.MaxStringBytes < 0 {
		return nil, errors.New("runtime: negative config value")
	}
	procs := goruntime.GOMAXPROCS(0)
	if cfg.Workers == 0 {
		cfg.Workers = procs * 8
	}
	if cfg.IdleWorkers == 0 || cfg.IdleWorkers > cfg.Workers {
		cfg.IdleWorkers = min(procs, cfg.Workers)
	}
	if cfg.KeyShare == 0 || cfg.KeyShare > cfg.Workers {
		cfg.KeyShare = max(1, cfg.Workers/2)
	}
	if cfg.BackgroundWorkers == 0 {
		cfg.BackgroundWorkers = min(procs, cfg.Workers)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSourceBytes == 0 {
		cfg.MaxSourceBytes = DefaultMaxSourceBytes
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.MaxStringBytes == 0 {
		cfg.MaxStringBytes = DefaultMaxStringBytes
	}
	maxArrayIndexOnce.Do(func() { lua.MaxArrayIndex = MaxArrayIndex })

	e := &Engine{
		cfg:     cfg,
		logger:  cfg.Logger,
		cache:   newScriptCache(cacheSize),
		modules: make(map[string]Module),
		luaMods: make(map[string]*lua.FunctionProto),
		bgPool:  make(chan *worker, cfg.BackgroundWorkers),
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	e.baseKeys = make(map[string]bool)
	for _, k := range baseGlobalNames() {
		e.baseKeys[k] = true
	}
	for _, name := range scripts.Names() {
		src, _ := scripts.Lookup(name)
		proto, err := compileSource(luaModuleChunk(name), src, 0)
		if err != nil {
			return nil, fmt.Errorf("runtime: embedded module %q: %w", name, err)
		}
		e.luaMods[name] = proto
	}
	for _, m := range modules {
		if err := e.Register(m); err != nil {
			return nil, err
		}
	}
	e.pool = newPool(e, cfg.Workers, cfg.IdleWorkers, cfg.KeyShare)
	e.workers = make([]*worker, cfg.BackgroundWorkers)
	for i := range e.workers {
		w := newWorker(e)
		e.workers[i] = w
		e.bgPool <- w
	}
	e.watchers.Add(1)
	go e.watch()
	return e, nil
}

// luaModuleChunk is the chunk name of an embedded Lua module.
func luaModuleChunk(name string) string { return "scripts/lua/" + name + ".lua" }

// Register adds a host module. It must be called before the first Run.
// A host module named like an embedded Lua module (package scripts) hides it.
func (e *Engine) Register(m Module) error {
	if m.Name == "" || m.Open == nil {
		return errors.New("runtime: module needs a name and an Open function")
	}
	if m.Global && !isIdentifier(m.Name) {
		return fmt.Errorf("runtime: global module name %q is not a lua identifier", m.Name)
	}
	if m.Global && e.baseKeys[m.Name] {
		return fmt.Errorf("runtime: global module %q would shadow a builtin", m.Name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return fmt.Errorf("runtime: module %q registered after the first run", m.Name)
	}
	if _, dup := e.modules[m.Name]; dup {
		return fmt.Errorf("runtime: duplicate module %q", m.Name)
	}
	e.modules[m.Name] = m
	return nil
}

// Modules lists the registered host modules, sorted by name.
func (e *Engine) Modules() []Module {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Module, 0, len(e.modules))
	for _, m := range e.modules {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func isIdentifier(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	switch s {
	case "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
		"local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while":
		return false
	}
	return true
}

// Request is one run of a compiled script.
type Request struct {
	Script  *Script
	Globals map[string]any // converted with ToLua and set in the run's fresh env, e.g. "ctx"
	Timeout time.Duration  // 0 means Config.Timeout; counted from the call of Run, the wait for a state included
	// Key groups the foreground runs that share Config.KeyShare (a workflow's key). The
	// runs without a key are limited by Config.Workers only.
	Key  string
	Host any // opaque value for modules, read through Run.Host
	// Background runs it on the states of Config.BackgroundWorkers: for work nobody
	// waits for (queued workflow executions), which must not hold the states of runs
	// that answer requests.
	Background bool
	// ReadBack names globals to convert back with FromLua into Result.Globals after a
	// run that ends without error, e.g. "ctx" when the caller honours changes the
	// script made to it.
	ReadBack []string
}

// LogLine is one line logged by a run.
type LogLine struct {
	Level   string
	Message string
	Time    time.Time
}

// Result is the outcome of a run.
type Result struct {
	Output   any            // first return value, converted with FromLua
	Logs     []LogLine      // at most MaxLogLines lines plus one "log truncated" line
	Err      error          // nil, *ScriptError, or an error wrapping ErrTimeout, ErrMemory, ErrCanceled, ErrLimit or ErrClosed
	Globals  map[string]any // the Request.ReadBack globals as the script left them (runs without error only)
	Stop     any            // the value given to Run.Stop, if a module stopped the run
	Duration time.Duration  // wall time of Run, including the wait for a free state
}

// Run executes req.Script in a pooled state. Its deadline (req.Timeout, or the caller's
// context's when that is earlier) runs from the call: a run that waits for a free state
// until its deadline ends with an error wrapping ErrTimeout and ErrStateWait, its script
// not started. It never panics and always returns a non-nil Result.
func (e *Engine) Run(ctx context.Context, req Request) *Result {
	res := &Result{}
	start := time.Now()
	if req.Script == nil {
		res.Err = errors.New("runtime: request without a script")
		return res
	}
	e.start.Do(e.markStarted)
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = e.cfg.Timeout
	}
	deadline := start.Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if outer := e.outer(ctx); outer != nil {
		// A run nested in a background run is background work too.
		req.Background = req.Background || outer.background
		e.runNested(ctx, &req, res, deadline)
		res.Duration = time.Since(start)
		return res
	}
	if req.Background {
		w, err := e.acquire(ctx, e.bgPool, deadline)
		if err != nil {
			res.Err = err
			res.Duration = time.Since(start)
			return res
		}
		w.exec(ctx, &req, res, deadline)
		e.bgPool <- w
		res.Duration = time.Since(start)
		return res
	}
	w, err := e.pool.take(ctx, req.Key, deadline)
	if err != nil {
		res.Err = err
		res.Duration = time.Since(start)
		return res
	}
	w.exec(ctx, &req, res, deadline)
	e.pool.give(w, req.Key)
	res.Duration = time.Since(start)
	return res
}

// outer is the context of the run of this engine that ctx is (derived from), or nil:
// when there is one, a module is running a script from inside a script, while its
// caller holds a state.
func (e *Engine) outer(ctx context.Context) *runContext {
	if c := outerRun(ctx); c != nil && c.engine == e {
		return c
	}
	return nil
}

// runNested runs a request started from inside another run. Waiting for a pooled
// state there could deadlock (every state may be held by a run waiting for its
// nested one), so it takes a free pooled state if there is one and otherwise builds
// an extra state for this run only; inside a background run, a free background state,
// so that background work never holds a state that a foreground run waits for.
// Nesting depth is bounded by the caller (the workflow engine's stack limit) and by
// the outer run's deadline, which the nested run inherits; cancelling the outer run
// cancels it too.
func (e *Engine) runNested(ctx context.Context, req *Request, res *Result, deadline time.Time) {
	if e.closed.Load() {
		res.Err = ErrClosed
		return
	}
	if req.Background {
		select {
		case w := <-e.bgPool:
			w.exec(ctx, req, res, deadline)
			e.bgPool <- w
			return
		default:
		}
	} else if w := e.pool.tryTake(); w != nil {
		w.exec(ctx, req, res, deadline)
		e.pool.give(w, nestedKey)
		return
	}
	w := newWorker(e)
	w.exec(ctx, req, res, deadline)
	w.timer.Stop()
	w.discard()
}

func (e *Engine) markStarted() {
	e.mu.Lock()
	e.started = true
	e.mu.Unlock()
}

// acquire takes a background state, waiting until deadline while ctx allows.
func (e *Engine) acquire(ctx context.Context, pool chan *worker, deadline time.Time) (*worker, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	var w *worker
	select {
	case w = <-pool:
	default:
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		select {
		case w = <-pool:
		case <-timer.C:
			return nil, fmt.Errorf("%w: %w", ErrTimeout, ErrStateWait)
		case <-ctx.Done():
			return nil, ctxError(ctx)
		case <-e.done:
			return nil, ErrClosed
		}
	}
	if e.closed.Load() {
		pool <- w
		return nil, ErrClosed
	}
	return w, nil
}

// ctxError maps a done caller context to ErrTimeout or ErrCanceled.
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
}

// Close cancels runs in flight, waits for them to end and closes every state.
// Runs started after Close fail with ErrClosed.
// StatesInUse is how many Lua states are running a script now (foreground and
// background), for the actionflow_lua_states_in_use gauge.
func (e *Engine) StatesInUse() int {
	n := e.pool.inUse()
	if e.bgPool != nil {
		n += len(e.workers) - len(e.bgPool)
	}
	return n
}

func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(e.done)
	for _, w := range e.workers {
		if r := w.cur.Load(); r != nil {
			r.ctx.cancelCause(ErrCanceled)
		}
	}
	e.pool.close()
	for range e.workers {
		w := <-e.bgPool
		w.timer.Stop()
		w.discard()
	}
	e.watchers.Wait()
	return nil
}
