package standard

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

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/standard/offline"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime/lib"
	"github.com/actionflow/actionflow/store"
)

const usage = `actionflow — a data API whose user actions trigger Lua workflows.

Usage:
  actionflow serve [flags]             start the server (see 'actionflow serve --help')
  actionflow lua run FILE [flags]      run a workflow script offline, as the server runs it, print a JSON result
  actionflow lua check FILE            compile a workflow script
  actionflow test DIR                  run the golden tests (FILE.test.json) of the workflow files under DIR
  actionflow workflows apply FILE...   create or update workflows kept as files on a server
  actionflow restore --data DIR FILE   restore a backup (GET /api/app:backup; FILE - is stdin)
                                       into an empty data directory
  actionflow version                   the build's version (also --version)
  actionflow help                      this text
`

// Main runs the actionflow binary with the standard plugins and extra after them, and
// exits with its status: a whole custom binary is
//
//	func main() { standard.Main(hello.New()) }
//
// The extra plugins' hooks, resources and Lua modules are in every subcommand that
// builds an app: serve, lua run and test. lua run and test build a fresh in-memory app
// per run, so an extra plugin's Init may be called more than once (on a new Host each
// time) and must not keep state from one app into the next.
func Main(extra ...core.Plugin) {
	os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr, extra...))
}

// Run is Main without the exit: it runs the command line args (without the program name)
// and returns the exit status: 0 success, 1 failure, 2 bad usage.
func Run(args []string, stdout, stderr io.Writer, extra ...core.Plugin) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCommand(args[1:], stdout, stderr, extra)
	case "lua":
		return offline.LuaCommand(args[1:], stdout, stderr, offlinePlugins(extra))
	case "test":
		return offline.TestCommand(args[1:], stdout, stderr, offlinePlugins(extra))
	case "restore":
		return restoreCommand(args[1:], stdout, stderr)
	case "workflows":
		return workflowsCommand(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "actionflow version: unexpected argument %q\n", args[1])
			return 2
		}
		fmt.Fprint(stdout, versionText(debug.ReadBuildInfo()))
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "actionflow: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// offlinePlugins is the plugin set of an offline run (lua run, test): the standard
// plugins, with one async worker, and extra.
func offlinePlugins(extra []core.Plugin) offline.Plugins {
	return func() []core.Plugin { return append(Plugins(workflow.Config{Workers: 1}), extra...) }
}

// versionText is what "actionflow version" prints: the main module's version (e.g.
// "(devel)" for a build from a checkout), the VCS revision and time when the build
// recorded them, and the Go version.
func versionText(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "actionflow (no build information)\n"
	}
	var b strings.Builder
	v := info.Main.Version
	if v == "" {
		v = "(unknown)"
	}
	fmt.Fprintf(&b, "actionflow %s\n", v)
	if info.Main.Path != "" {
		fmt.Fprintf(&b, "module    %s\n", info.Main.Path)
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			fmt.Fprintf(&b, "revision  %s\n", s.Value)
		case "vcs.time":
			fmt.Fprintf(&b, "time      %s\n", s.Value)
		case "vcs.modified":
			if s.Value == "true" {
				fmt.Fprintf(&b, "modified  true\n")
			}
		}
	}
	fmt.Fprintf(&b, "go        %s\n", info.GoVersion)
	return b.String()
}

const serveUsage = `Usage: actionflow serve [flags]

Start the HTTP server. Every flag has an environment variable (named in its text); the
flag wins over the variable. Flags:
`

// env reads an environment variable with a default; an empty one counts as unset (README,
// Configuration).
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func serveCommand(args []string, stdout, stderr io.Writer, extra []core.Plugin) int {
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
		"records of at least this many bytes are kept in the store's value log, not in its tables; 0: 262144, nearly all in the tables; 256 puts workflow executions there: far faster under workflow load, but the value log stays in memory as it grows (docs/performance.md) (env ACTIONFLOW_VALUE_THRESHOLD)")
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
	logFormat := fs.String("log-format", env("ACTIONFLOW_LOG_FORMAT", "text"), "log format: text or json (env ACTIONFLOW_LOG_FORMAT)")
	accessLog := fs.Bool("access-log", e.Bool("access-log", "ACTIONFLOW_ACCESS_LOG", true), "log one info line per request: method, path, status, duration, request id, user id (env ACTIONFLOW_ACCESS_LOG)")
	metricsOn := fs.Bool("metrics", e.Bool("metrics", "ACTIONFLOW_METRICS", true), "serve Prometheus metrics at /metrics, without a token (env ACTIONFLOW_METRICS)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("ACTIONFLOW_METRICS_ADDR", ""), "serve /metrics on this address instead of --addr, e.g. 127.0.0.1:9464 (env ACTIONFLOW_METRICS_ADDR)")
	var corsOrigins stringList
	fs.Var(&corsOrigins, "cors-origins", "browser origins allowed to call the API, exact (https://app.example.com) or * (any, never with credentials); repeatable or comma-separated; none by default (env ACTIONFLOW_CORS_ORIGINS)")
	memLimit := fs.Int64("memory-limit", int64(e.Int("memory-limit", "ACTIONFLOW_MEMORY_LIMIT", MemoryLimit)),
		"soft limit of the Go heap in bytes, above which the GC works harder (debug.SetMemoryLimit); 0: none; GOMEMLIMIT, when set, wins (env ACTIONFLOW_MEMORY_LIMIT)")
	fs.Usage = func() {} // --help prints serveUsage once, on stdout
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, serveUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintln(stderr, "see 'actionflow serve --help'")
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
	if len(corsOrigins) == 0 {
		corsOrigins = splitList(os.Getenv("ACTIONFLOW_CORS_ORIGINS"))
	}
	cfg.CORSOrigins, cfg.DisableAccessLog, cfg.DisableMetrics = corsOrigins, !*accessLog, !*metricsOn
	var log *slog.Logger
	switch *logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	default:
		fmt.Fprintf(stderr, "actionflow serve: bad --log-format %q: want text or json\n", *logFormat)
		return 2
	}
	cfg.Logger = log
	if *memLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(*memLimit)
	}
	cfg.LuaModules = lib.Standard(lib.StdConfig{HTTPAllowHosts: httpHosts})
	// A Lua state for background runs per async worker (0 leaves both at one per CPU).
	cfg.Lua.BackgroundWorkers = wcfg.Workers

	app, err := core.New(cfg, core.WithPlugins(append(Plugins(wcfg), extra...)...))
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
	if !Serve(app.ListenAndServe, log, func() {
		log.Info("actionflow serving", "addr", app.Config().Addr, "data", app.Config().DataDir)
	}) {
		code = 1
	}
	if !Stop(app, log) {
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

// restoreCommand is `actionflow restore --data DIR FILE`: store.Restore.
func restoreCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", env("ACTIONFLOW_DATA", "./data"), "data directory to restore into; must be empty or not exist (env ACTIONFLOW_DATA)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: actionflow restore --data DIR FILE   (FILE: a backup from GET /api/app:backup, or - for stdin)")
		return 2
	}
	in := io.Reader(os.Stdin)
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "actionflow restore: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	if err := store.Restore(*dir, in); err != nil {
		fmt.Fprintf(stderr, "actionflow restore: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "restored into %s\n", *dir)
	return 0
}
