package standard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/runtime/lib"
)

const luaUsage = `Usage:
  actionflow lua run FILE [--data JSON] [--user JSON] [--timeout D] [--http-allow HOSTS]
      Run a workflow script in the sandbox with ctx = {data=..., user=...}, the
      standard modules and those of the binary's plugins, and print one JSON object:
        {"status": 1|-1|-2|-3, "output": ..., "error": {"message", "line"}|null,
         "logs": [{"level", "message", "time"}], "messages": [...]}
      status 1 resolved, -1 failed (flow.fail), -2 error, -3 aborted (timeout,
      memory limit, cancel). flow.message/fail/finish are stand-ins that only
      record. Exit status 0 when resolved, 1 otherwise, 2 on bad usage.
  actionflow lua check FILE
      Compile a script: prints "ok", or "FILE:LINE: message" and exits 1.
`

// Execution statuses printed by "lua run" (API.md §4).
const (
	luaStatusResolved = 1
	luaStatusFailed   = -1
	luaStatusError    = -2
	luaStatusAborted  = -3
)

// luaCommand implements "actionflow lua ...". args start after "lua".
func luaCommand(args []string, stdout, stderr io.Writer, extra []core.Plugin) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, luaUsage)
		return 2
	}
	switch args[0] {
	case "run":
		return luaRun(args[1:], stdout, stderr, extra)
	case "check":
		return luaCheck(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, luaUsage)
		return 0
	}
	fmt.Fprintf(stderr, "actionflow lua: unknown command %q\n\n%s", args[0], luaUsage)
	return 2
}

// luaParse parses flags that may come before or after the single FILE
// argument, and returns FILE.
func luaParse(fs *flag.FlagSet, args []string, stdout io.Writer) (file string, code int, ok bool) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, luaUsage)
				return "", 0, false
			}
			return "", 2, false
		}
		if fs.NArg() == 0 {
			break
		}
		if len(files) == 1 {
			fmt.Fprintf(fs.Output(), "%s\n\n%s", unexpectedArg("actionflow lua "+fs.Name(), "it takes one FILE", fs, args, len(args)-fs.NArg()), luaUsage)
			return "", 2, false
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(fs.Output(), "actionflow lua %s: want exactly one FILE, got %d\n\n%s", fs.Name(), len(files), luaUsage)
		return "", 2, false
	}
	return files[0], 0, true
}

func luaCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	file, code, ok := luaParse(fs, args, stdout)
	if !ok {
		return code
	}
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "actionflow lua check: %v\n", err)
		return 2
	}
	eng, err := runtime.New(runtime.Config{Workers: 1})
	if err != nil {
		fmt.Fprintf(stderr, "actionflow lua check: %v\n", err)
		return 1
	}
	defer eng.Close()
	if _, err := eng.Compile(file, string(src)); err != nil {
		var ce *runtime.CompileError
		if !errors.As(err, &ce) {
			fmt.Fprintf(stdout, "%s: %v\n", file, err)
		} else if ce.Line > 0 {
			fmt.Fprintf(stdout, "%s:%d: %s\n", file, ce.Line, ce.Message)
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", file, ce.Message)
		}
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}

// luaResult is the JSON printed by "lua run".
type luaResult struct {
	Status   int          `json:"status"`
	Output   any          `json:"output"`
	Error    *luaError    `json:"error"`
	Logs     []luaLogLine `json:"logs"`
	Messages []string     `json:"messages"`
}

type luaError struct {
	Message string `json:"message"`
	Line    *int   `json:"line"`
}

type luaLogLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Time    string `json:"time"`
}

// luaStop is the value the stand-in flow module stops runs with.
type luaStop struct {
	failed  bool
	message string
}

func luaRun(args []string, stdout, stderr io.Writer, extra []core.Plugin) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	data := fs.String("data", "", "JSON value for ctx.data")
	user := fs.String("user", "", "JSON value for ctx.user")
	timeout := fs.Duration("timeout", runtime.DefaultTimeout, "run deadline")
	allow := fs.String("http-allow", os.Getenv("ACTIONFLOW_HTTP_ALLOW"), "comma-separated hosts the http module may call (env ACTIONFLOW_HTTP_ALLOW)")
	file, code, ok := luaParse(fs, args, stdout)
	if !ok {
		return code
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "actionflow lua run: --timeout must be positive")
		return 2
	}
	ctxData, err := luaJSONFlag("data", *data)
	if err != nil {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 2
	}
	ctxUser, err := luaJSONFlag("user", *user)
	if err != nil {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 2
	}
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 2
	}
	var hosts []string
	for _, h := range strings.Split(*allow, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	var messages []string
	std := lib.Standard(lib.StdConfig{HTTPAllowHosts: hosts})
	own, closeApp, err := pluginLuaModules(std, extra)
	if err != nil {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 1
	}
	defer closeApp()
	mods := append(append(std, own...), luaFlowModule(&messages))
	eng, err := runtime.New(runtime.Config{Workers: 1, Timeout: *timeout}, mods...)
	if err != nil {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 1
	}
	defer eng.Close()

	out := luaResult{Logs: []luaLogLine{}, Messages: []string{}}
	script, err := eng.Compile(file, string(src))
	if err != nil {
		out.Status = luaStatusError
		out.Error = luaErrorOf(err)
		return luaPrint(stdout, stderr, out)
	}
	ctx := map[string]any{
		"data":      ctxData,
		"user":      ctxUser,
		"workflow":  map[string]any{"id": 0, "key": "", "title": filepath.Base(file)},
		"execution": map[string]any{"id": 0},
	}
	res := eng.Run(context.Background(), runtime.Request{Script: script, Globals: map[string]any{"ctx": ctx}})
	for _, l := range res.Logs {
		out.Logs = append(out.Logs, luaLogLine{Level: l.Level, Message: l.Message, Time: l.Time.UTC().Format(time.RFC3339Nano)})
	}
	out.Messages = append(out.Messages, messages...)
	switch stop, _ := res.Stop.(luaStop); {
	case res.Stop != nil && stop.failed:
		out.Status = luaStatusFailed
		out.Error = &luaError{Message: stop.message}
	case res.Stop != nil:
		out.Status = luaStatusResolved
	case res.Err == nil:
		out.Status = luaStatusResolved
		out.Output = res.Output
	case errors.Is(res.Err, runtime.ErrTimeout), errors.Is(res.Err, runtime.ErrMemory), errors.Is(res.Err, runtime.ErrCanceled):
		out.Status = luaStatusAborted
		out.Error = &luaError{Message: res.Err.Error()}
	default:
		out.Status = luaStatusError
		out.Error = luaErrorOf(res.Err)
	}
	return luaPrint(stdout, stderr, out)
}

func luaJSONFlag(name, v string) (any, error) {
	if v == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("--%s: bad JSON: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("--%s: bad JSON: data after the value", name)
	}
	return out, nil
}

func luaErrorOf(err error) *luaError {
	var se *runtime.ScriptError
	var ce *runtime.CompileError
	e := &luaError{Message: err.Error()}
	line := 0
	switch {
	case errors.As(err, &se):
		e.Message, line = se.Message, se.Line
	case errors.As(err, &ce):
		e.Message, line = ce.Message, ce.Line
	}
	if line > 0 {
		e.Line = &line
	}
	return e
}

func luaPrint(stdout, stderr io.Writer, out luaResult) int {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return 1
	}
	if out.Status == luaStatusResolved {
		return 0
	}
	return 1
}

// pluginLuaModules returns the Lua modules that the extra plugins register (Host.LuaModule),
// so that scripts of a custom binary can require them offline. It builds the app the
// binary serves, in memory, with the standard modules std; closeApp closes it once the run
// is over (the modules may use it). With no extra plugins it builds nothing.
func pluginLuaModules(std []runtime.Module, extra []core.Plugin) (mods []runtime.Module, closeApp func(), err error) {
	if len(extra) == 0 {
		return nil, func() {}, nil
	}
	app, err := core.New(core.Config{InMemory: true, BcryptCost: bcrypt.MinCost, RootPassword: "offline",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LuaModules: std},
		core.WithPlugins(append(Plugins(workflow.Config{Workers: 1}), extra...)...))
	if err != nil {
		return nil, nil, err
	}
	skip := map[string]bool{}
	for _, m := range std {
		skip[m.Name] = true
	}
	// The workflow engine's own modules need a server run; "lua run" has its stand-in flow.
	skip["flow"], skip["db"] = true, true
	for _, m := range app.Lua().Modules() {
		if !skip[m.Name] {
			mods = append(mods, m)
		}
	}
	return mods, func() { _ = app.Close(context.Background()) }, nil
}

// luaFlowModule is a stand-in for the workflow engine's global "flow"
// module, so that workflow scripts run unchanged from the command line.
func luaFlowModule(messages *[]string) runtime.Module {
	return runtime.Module{
		Name:   "flow",
		Global: true,
		Doc:    "command-line stand-in: flow.message(text), flow.fail(msg), flow.finish()",
		Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
			t := L.NewTable()
			t.RawSetString("message", L.NewFunction(func(L *lua.LState) int {
				*messages = append(*messages, L.CheckString(1))
				return 0
			}))
			t.RawSetString("fail", L.NewFunction(func(L *lua.LState) int {
				r.Stop(L, luaStop{failed: true, message: L.OptString(1, "workflow failed")})
				return 0
			}))
			t.RawSetString("finish", L.NewFunction(func(L *lua.LState) int {
				r.Stop(L, luaStop{})
				return 0
			}))
			return t
		},
	}
}
