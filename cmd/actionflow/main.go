// Command actionflow is the actionflow server and its tools.
//
//	actionflow serve [flags]      start the HTTP server
//	actionflow lua run FILE       run a workflow script in the sandbox
//	actionflow lua check FILE     compile a workflow script
//	actionflow workflows apply    create or update workflows kept as files on a server
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/actionflow/actionflow/cmd/internal/standard"
	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime/lib"
)

const usage = `actionflow — a data API whose user actions trigger Lua workflows.

Usage:
  actionflow serve [flags]             start the server (see 'actionflow serve --help')
  actionflow lua run FILE [flags]      run a workflow script in the sandbox, print a JSON result
  actionflow lua check FILE            compile a workflow script
  actionflow workflows apply FILE...   create or update workflows kept as files on a server
  actionflow help                      this text
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCommand(args[1:], stdout, stderr)
	case "lua":
		return luaCommand(args[1:], stdout, stderr)
	case "workflows":
		return workflowsCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "actionflow: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// env reads an environment variable with a default.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func serveCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg core.Config
	var e envDefaults
	fs.StringVar(&cfg.Addr, "addr", env("ACTIONFLOW_ADDR", "127.0.0.1:13000"), "listen address (env ACTIONFLOW_ADDR)")
	fs.StringVar(&cfg.DataDir, "data", env("ACTIONFLOW_DATA", "./data"), "data directory (env ACTIONFLOW_DATA)")
	fs.StringVar(&cfg.Store, "store", env("ACTIONFLOW_STORE", ""), "store URL: empty for the embedded store in --data, or postgres://user:password@host:port/db?sslmode=disable for PostgreSQL 15+ (env ACTIONFLOW_STORE)")
	fs.StringVar(&cfg.RootEmail, "root-email", env("ACTIONFLOW_ROOT_EMAIL", "root@actionflow.local"), "root user's email, used on first start (env ACTIONFLOW_ROOT_EMAIL)")
	fs.StringVar(&cfg.RootPassword, "root-password", env("ACTIONFLOW_ROOT_PASSWORD", ""), "root user's password on first start; empty: generate and print one (env ACTIONFLOW_ROOT_PASSWORD)")
	fs.BoolVar(&cfg.SyncWrites, "durable", e.Bool("durable", "ACTIONFLOW_DURABLE", false), "fsync every commit before answering (env ACTIONFLOW_DURABLE)")
	fs.IntVar(&cfg.ValueThreshold, "value-threshold", e.Int("value-threshold", "ACTIONFLOW_VALUE_THRESHOLD", 0),
		"records of at least this many bytes are kept in the store's value log, not in its tables; 0: 262144, nearly all in the tables; 256 puts workflow executions there: far faster under workflow load, but the value log stays in memory as it grows (README, Performance) (env ACTIONFLOW_VALUE_THRESHOLD)")
	fs.IntVar(&cfg.MaxBodyBytes, "max-body", e.Int("max-body", "ACTIONFLOW_MAX_BODY", 4<<20), "largest request body in bytes; larger gets 413 (env ACTIONFLOW_MAX_BODY)")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", e.Duration("read-timeout", "ACTIONFLOW_READ_TIMEOUT", 10*time.Second), "HTTP read timeout (env ACTIONFLOW_READ_TIMEOUT)")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", e.Duration("write-timeout", "ACTIONFLOW_WRITE_TIMEOUT", 30*time.Second), "HTTP write timeout (env ACTIONFLOW_WRITE_TIMEOUT)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", e.Duration("idle-timeout", "ACTIONFLOW_IDLE_TIMEOUT", 60*time.Second), "keep-alive idle timeout (env ACTIONFLOW_IDLE_TIMEOUT)")
	fs.IntVar(&cfg.Concurrency, "concurrency", e.Int("concurrency", "ACTIONFLOW_CONCURRENCY", 4096), "requests served at once (env ACTIONFLOW_CONCURRENCY)")
	maxConnsPerIP := fs.Int("max-conns-per-ip", e.Int("max-conns-per-ip", "ACTIONFLOW_MAX_CONNS_PER_IP", core.DefaultMaxConnsPerIP),
		"open connections one client address may hold; more are answered 429 and closed; 0: no limit (behind a proxy every client shares its address) (env ACTIONFLOW_MAX_CONNS_PER_IP)")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", e.Duration("token-ttl", "ACTIONFLOW_TOKEN_TTL", 7*24*time.Hour), "sign-in token lifetime (env ACTIONFLOW_TOKEN_TTL)")
	fs.DurationVar(&cfg.Lua.Timeout, "script-timeout", e.Duration("script-timeout", "ACTIONFLOW_SCRIPT_TIMEOUT", 5*time.Second), "default deadline of a workflow script run (env ACTIONFLOW_SCRIPT_TIMEOUT)")
	var httpHosts stringList
	fs.Var(&httpHosts, "http-allow", "host a script's http module may call (repeatable; env ACTIONFLOW_HTTP_ALLOW, comma-separated); none by default")
	var wcfg workflow.Config
	fs.IntVar(&wcfg.Workers, "workers", e.Int("workers", "ACTIONFLOW_WORKERS", 0), "async workflow workers, each with a Lua state of its own; 0: one per CPU (env ACTIONFLOW_WORKERS)")
	fs.IntVar(&wcfg.MaxExecutions, "max-executions", e.Int("max-executions", "ACTIONFLOW_MAX_EXECUTIONS", 100000), "execution history kept; the oldest finished ones beyond it are deleted (env ACTIONFLOW_MAX_EXECUTIONS)")
	logLevel := fs.String("log-level", env("ACTIONFLOW_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env ACTIONFLOW_LOG_LEVEL)")
	memLimit := fs.Int64("memory-limit", int64(e.Int("memory-limit", "ACTIONFLOW_MEMORY_LIMIT", standard.MemoryLimit)),
		"soft limit of the Go heap in bytes, above which the GC works harder (debug.SetMemoryLimit); 0: none; GOMEMLIMIT, when set, wins (env ACTIONFLOW_MEMORY_LIMIT)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, unexpectedArg("actionflow serve", "serve takes flags only", fs, args, len(args)-fs.NArg()))
		return 2
	}
	if err := e.check(fs); err != nil {
		fmt.Fprintf(stderr, "actionflow serve: %v\n", err)
		return 2
	}
	switch {
	case *maxConnsPerIP < 0:
		fmt.Fprintf(stderr, "actionflow serve: --max-conns-per-ip %d: want 0 (no limit) or more\n", *maxConnsPerIP)
		return 2
	case *maxConnsPerIP == 0:
		cfg.MaxConnsPerIP = -1 // core's "no limit"
	default:
		cfg.MaxConnsPerIP = *maxConnsPerIP
	}
	if len(httpHosts) == 0 {
		httpHosts = splitList(os.Getenv("ACTIONFLOW_HTTP_ALLOW"))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		src := "--log-level"
		if !flagGiven(fs, "log-level") {
			src = "ACTIONFLOW_LOG_LEVEL"
		}
		fmt.Fprintf(stderr, "actionflow serve: bad %s %q: want debug, info, warn or error\n", src, *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log
	if *memLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(*memLimit)
	}
	cfg.LuaModules = lib.Standard(lib.StdConfig{HTTPAllowHosts: httpHosts})
	// A Lua state for background runs per async worker (0 leaves both at one per CPU).
	cfg.Lua.BackgroundWorkers = wcfg.Workers

	app, err := core.New(cfg, core.WithPlugins(standard.Plugins(wcfg)...))
	if err != nil {
		fmt.Fprintf(stderr, "actionflow: %v\n", err)
		return 1
	}
	if pw := app.GeneratedRootPassword(); pw != "" {
		fmt.Fprintf(stdout, "root user %s created with password: %s\n(shown once; set --root-password or ACTIONFLOW_ROOT_PASSWORD to choose it)\n", cfg.RootEmail, pw)
	}
	return serveUntilSignal(app, log)
}

// serveUntilSignal serves until SIGINT/SIGTERM, then lets in-flight requests finish and
// closes the app (plugins, Lua engine, store with its sequences).
func serveUntilSignal(app *core.App, log *slog.Logger) int {
	code := 0
	if !standard.Serve(app.ListenAndServe, log, func() {
		log.Info("actionflow serving", "addr", app.Config().Addr, "data", app.Config().DataDir)
	}) {
		code = 1
	}
	if !standard.Stop(app, log) {
		code = 1
	}
	log.Info("stopped")
	return code
}

type stringList []string

func (s *stringList) String() string { return fmt.Sprint([]string(*s)) }
func (s *stringList) Set(v string) error {
	*s = append(*s, splitList(v)...)
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
