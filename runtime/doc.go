// Package runtime is the Lua engine every actionflow workflow runs in: a
// sandboxed gopher-lua (Lua 5.1) with a pool of states, a cache of
// compiled scripts, Go<->Lua value converters and a registry of host modules.
//
//	eng, err := runtime.New(runtime.Config{}, lib.Standard(lib.StdConfig{})...)
//	s, err := eng.Compile("notify", src)          // *CompileError with the line
//	res := eng.Run(ctx, runtime.Request{Script: s, Globals: map[string]any{"ctx": data}})
//	// res.Output, res.Logs, res.Stop, res.Err (*ScriptError, ErrTimeout, ErrMemory, ...)
//
// # Compiling
//
// Compile parses and compiles a script once into a *lua.FunctionProto that
// every state shares. Scripts are cached (LRU, 1024 entries) by the sha256 of
// their name and source (the name is baked into error messages). Before the
// parser runs, the source is capped at Config.MaxSourceBytes (64 KiB) and a
// cheap scan refuses bracket/block nesting deeper than 200: gopher-lua's
// compiler recurses per level and a deep enough source overflows the goroutine
// stack, which kills the process. Both errors wrap ErrLimit. Every a..b..c is
// compiled into a call of a hidden base function that caps the result (below).
//
// # Sandbox
//
// States are created with SkipOpenLibs and only base, table, string and math
// are opened. Scripts see fresh copies of those tables, without dofile,
// loadfile, load, loadstring, module, collectgarbage, getfenv, setfenv, print,
// _printregs, newproxy, string.dump and gfind; io, os, debug, package,
// channel and coroutine do not exist. On top of that:
//
//   - setmetatable only accepts tables (gopher-lua would otherwise replace the
//     metatable of every number or string in the state); the string metatable
//     is protected (getmetatable("") is "locked");
//   - every run gets a fresh global table (env) whose metatable (protected)
//     indexes the base table; global writes land in the env only; _G is the env;
//   - require(name) resolves registered host modules, then the pure-Lua
//     modules embedded in package scripts (require("strings")); anything else
//     fails with "module 'x' not found". A module is opened once per run;
//     Global modules are also globals, opened lazily on first access;
//   - error(msg, level) is fixed for level >= 2 (gopher-lua names one frame too
//     low).
//
// # Limits
//
// Measured on the 2-vCPU development VM (noisy; orders of magnitude):
//
//   - Deadline: each run has a context (Request.Timeout, default 5 s) that
//     gopher-lua checks before every VM instruction, so pcall cannot swallow
//     it; the pattern matcher also checks it every 1024 steps. A Lua loop stops
//     within ~1 ms of its deadline. Go builtins are not interruptible: the worst
//     left is table.sort of 2^20 numbers (~25–40 ms over the deadline); every
//     other builtin that can take long is capped (strings, unpack, patterns).
//   - Memory: gopher-lua has no allocator hook, so a watchdog samples the
//     process heap (/memory/classes/heap/objects:bytes) every 5 ms while runs are
//     in flight. A sample counts garbage not yet collected, so above
//     Config.MemoryLimit the watchdog forces a GC (in the background, at most
//     one per 50 ms) and judges the live heap that GC marked
//     (/gc/heap/live:bytes): only live memory above the limit cancels the oldest
//     run in flight with ErrMemory. A busy server's own garbage therefore never
//     cancels a benign run (it did before: under load the heap passed 256 MiB
//     with a live heap near 100 MiB, and workflow runs failed with ErrMemory).
//     Because a forced GC of a heap full of Lua tables takes 0.1–1 s while a bomb
//     keeps allocating, a sample above 1.5 × MemoryLimit cancels at once; with
//     the default GOGC the heap only gets there when the live heap of the last
//     collection was at least 0.75 × MemoryLimit. After a cancellation the
//     watchdog waits for the run to leave and judges afresh before cancelling
//     another. With MemoryLimit 256 MiB, memory bombs (table growth, tables of
//     1 MiB strings, concatenation loops, sparse indexes, array parts grown to
//     2^20) were stopped at a peak heap of 266–390 MiB and a peak process RSS
//     of 290–405 MiB, within 35 ms–1.3 s; the documented ceiling is 1.5 ×
//     MemoryLimit plus what one instruction allocates (a few tens of MiB:
//     strings are capped and lua.MaxArrayIndex is 1<<20). The limit is on the
//     live heap of the whole process (badger's memtables, caches and table
//     builders count too): set it well above the server's own live heap
//     (about 60 MiB for actionflow serve under load), and keep a GOMEMLIMIT
//     below it (actionflow serve sets 100 MiB) so the GC works harder first.
//     See TestMeasure and TestWatchdogJudgesLiveHeap.
//   - Strings: every way a script builds a string is capped at
//     Config.MaxStringBytes (1 MiB): string.rep, .., table.concat,
//     string.format (widths and precisions of at most two digits, as in
//     Lua 5.1; gopher-lua accepted widths of 1e6) and gsub; the limit errors
//     wrap ErrLimit.
//   - Tables: lua.MaxArrayIndex = 1<<20 (set once by New for the whole process;
//     the default lets t[6e7]=1 allocate gigabytes in one instruction).
//   - Stack: CallStackSize 200 (deep recursion ends with "lua callstack
//     overflow"), RegistrySize 1024 growing to 64 Ki values; unpack and
//     string.byte return at most 8000 values.
//   - Values: conversions stop at depth 32 and 2^18 values (ErrLimit).
//   - Logs: 1000 lines of at most 8 KiB per run, then one "log truncated" line.
//
// # Patterns
//
// string.find, match, gmatch and gsub run on a port of Lua 5.1's matcher with
// a step budget: one call may take 2^20 + 32·len(subject) matching steps,
// after which it raises "pattern too complex" (ErrLimit); its recursion depth
// is capped at 200 as in Lua 5.2+. Backtracking patterns such as
// ("a"):rep(2000):find(".-.-b$") (~10^9 steps) stop after ~10 ms and
// string.rep("a", 1e6):find(".-.-.-b$") after ~300 ms, while ordinary patterns
// over a 1 MiB subject stay far below the budget. gopher-lua's own matcher has
// neither a budget nor a context check.
//
// # Pooling
//
// Foreground runs take a state from a pool that builds them on demand up to
// Config.Workers (default GOMAXPROCS × 8; a fresh state is about 70 KiB of heap), keeps
// Config.IdleWorkers of them when idle and closes the others after 30 s unused; so the
// pool also bounds concurrent Lua memory. The runs of one Request.Key (a workflow) hold at
// most Config.KeyShare states (default half of Workers): a run beyond it waits while runs
// of other keys pass it, so one slow workflow never holds every state. A run's deadline
// starts when Run is called: a run still waiting for a state at its deadline ends with
// ErrTimeout and ErrStateWait, its script not started. Background runs
// (Request.Background: queued workflow executions) take theirs from a second, fixed pool
// of Config.BackgroundWorkers states (default min(GOMAXPROCS, Workers)), so that long
// background scripts never make a run that answers a request wait for a state; a run
// nested in one (a module running a script from inside a script) takes a free state of
// its kind, else an extra one
// built for it. A state is built on first use (~45 µs). After a run it
// goes back only if the run ended cleanly and a taint check passes: the base,
// string, table and math tables, the array-marker metatable and the builtin
// metatables are compared with a snapshot taken at build time (~0.9 µs, no
// allocation). After an error, a timeout, a stop or a detected change the
// state is closed and rebuilt on next use. Per run: a fresh env table, a
// context with a per-worker reusable timer, the shared proto wrapped in a new
// function, PCall with an error handler that records the line. Benchmarks
// (BenchmarkPooledTiny: 1.6–1.8 µs and 6 allocations for `return 1+1`;
// BenchmarkRecordInTableOut: ~7 µs and 121 allocations for a 10-field record in
// and a 5-field table out; BenchmarkTaintCheck: 0.9 µs).
//
// # Values and errors
//
// ToLua and FromLua convert plain Go data (maps, slices, strings, numbers,
// bools, json.Number, time.Time) to tables and back; see their docs for the
// array/object rules and the null sentinel. A run's first return value is
// Result.Output. Result.Err is a *ScriptError for Lua errors (with the line in
// the user's script, also for errors raised inside modules or table error
// values) or an error wrapping ErrTimeout, ErrMemory or ErrCanceled. A module
// ends a run on purpose with Run.Stop (Result.Stop; the script cannot catch it).
//
// # Known gaps
//
// The watchdog watches the whole process and cannot attribute memory to a
// run: a run that is merely the oldest may be cancelled while a younger one
// allocates. A few Go builtins (table.sort, string.upper/lower/reverse on
// 1 MiB) run to completion past a deadline. Deep-recursion errors carry no
// line (the error handler cannot run on a full call stack). For hard isolation
// run scripts in a subprocess with rlimits.
package runtime
