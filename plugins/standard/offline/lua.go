package offline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/actionflow/actionflow/runtime"
)

const luaUsage = `Usage:
  actionflow lua run FILE [flags]
      Run a workflow script offline, the way the server runs it: on a fresh
      in-memory server with this binary's plugins and Lua modules, the workflow
      is created from FILE (its "--- name: value" header as in 'workflows apply'
      files: type, sync, config, options; without one it is a custom action
      without a collection) and started with workflows:execute. Prints one JSON
      object:
        {"status": 1|-1|-2|-3, "output": ..., "error": {"message", "line"}|null,
         "logs": [{"level", "message", "time"}], "messages": [...],
         "writes": [{"collection", "action", "id", "values"}]}
      status 1 resolved, -1 failed (flow.fail), -2 error, -3 aborted (timeout);
      writes are the records the script wrote through db. print(...) lines are
      in logs. Exit status 0 when resolved, 1 otherwise, 2 on bad usage.
  actionflow lua check FILE
      Compile a script: prints "ok", or "FILE:LINE: message" and exits 1.

Flags of run (JSON values may be given as @FILE, or - for standard input):
  --fixtures FILE   {"collections": [collections:create bodies],
                     "records": {"<collection>": [values, ...]}} created first
  --data JSON       ctx.data: for a workflow with a collection, a record id or
                    {"id": N} of a fixture record; otherwise any JSON
  --params JSON     ctx.params of a pre-action workflow: {values, filterByTk, filter}
  --previous JSON   ctx.previous of a collection update: the record before
  --user JSON       create this user (users:create values) and run as them
  --user-id N       run as this user (default: root)
  --role NAME       ctx.roleName (default: the user's first role)
  --type TYPE       the trigger type, over the header's
  --timeout D       the run's deadline, over the header's options.timeout
  --http-allow H    comma-separated hosts the http module may call
                    (env ACTIONFLOW_HTTP_ALLOW)
`

// LuaCommand implements "actionflow lua ..."; args start after "lua". plugins makes the
// binary's plugin set (the standard plugins and its own).
func LuaCommand(args []string, stdout, stderr io.Writer, plugins Plugins) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, luaUsage)
		return 2
	}
	switch args[0] {
	case "run":
		return luaRun(args[1:], stdout, stderr, plugins)
	case "check":
		return luaCheck(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, luaUsage)
		return 0
	}
	fmt.Fprintf(stderr, "actionflow lua: unknown command %q\n\n%s", args[0], luaUsage)
	return 2
}

// parseFile parses flags that may come before or after the single FILE argument.
func parseFile(fs *flag.FlagSet, args []string, stdout io.Writer, usage, what string) (file string, code int, ok bool) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return "", 0, false
			}
			return "", 2, false
		}
		if fs.NArg() == 0 {
			break
		}
		if len(files) == 1 {
			fmt.Fprintf(fs.Output(), "actionflow %s: unexpected argument %q (it takes one %s; see --help)\n", fs.Name(), fs.Arg(0), what)
			return "", 2, false
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(fs.Output(), "actionflow %s: want exactly one %s\n", fs.Name(), what)
		return "", 2, false
	}
	return files[0], 0, true
}

func luaCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lua check", stderr)
	file, code, ok := parseFile(fs, args, stdout, luaUsage, "FILE")
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

func luaRun(args []string, stdout, stderr io.Writer, plugins Plugins) int {
	fs := newFlagSet("lua run", stderr)
	fixtures := fs.String("fixtures", "", "fixtures file")
	data := fs.String("data", "", "ctx.data")
	params := fs.String("params", "", "ctx.params")
	previous := fs.String("previous", "", "ctx.previous")
	user := fs.String("user", "", "user to create and run as")
	userID := fs.Uint64("user-id", 0, "user to run as")
	role := fs.String("role", "", "ctx.roleName")
	typ := fs.String("type", "", "trigger type")
	timeout := fs.Duration("timeout", 0, "run deadline")
	allow := fs.String("http-allow", os.Getenv("ACTIONFLOW_HTTP_ALLOW"), "http hosts")
	file, code, ok := parseFile(fs, args, stdout, luaUsage, "FILE")
	if !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 2
	}
	if *timeout < 0 {
		return fail(errors.New("--timeout must be positive"))
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return fail(err)
	}
	r := Run{File: file, Source: string(src), Type: *typ, Timeout: *timeout, HTTPAllow: splitList(*allow)}
	r.Context.UserID, r.Context.Role = *userID, *role
	for _, f := range []struct {
		name, v string
		out     any
	}{{"data", *data, &r.Context.Data}, {"params", *params, &r.Context.Params}, {"previous", *previous, &r.Context.Previous},
		{"user", *user, &r.Context.User}} {
		if err := jsonFlag(f.name, f.v, f.out); err != nil {
			return fail(err)
		}
	}
	if *fixtures != "" {
		r.Fixtures = &Fixtures{}
		if err := jsonFlag("fixtures", "@"+*fixtures, r.Fixtures); err != nil {
			return fail(err)
		}
	}
	rep, err := Execute(context.Background(), plugins, r)
	if err != nil {
		if errors.As(err, new(*UsageError)) {
			return fail(err)
		}
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 1
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintf(stderr, "actionflow lua run: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil || rep.Status != Resolved {
		return 1
	}
	return 0
}

// jsonFlag decodes a flag's JSON value, read from a file for "@FILE" and from standard
// input for "-", into out; an empty value leaves out alone.
func jsonFlag(name, v string, out any) error {
	if v == "" {
		return nil
	}
	raw := []byte(v)
	switch {
	case v == "-":
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		raw = b
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		raw = b
	}
	return decodeJSON(raw, out, "--"+name)
}

func decodeJSON(raw []byte, out any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s: bad JSON: %w", what, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: bad JSON: data after the value", what)
	}
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

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("timeout %q: want a positive duration such as 2s", v)
	}
	return d, nil
}

// durationMS is d in whole milliseconds, at least 1.
func durationMS(d time.Duration) int64 {
	if ms := d.Milliseconds(); ms > 0 {
		return ms
	}
	return 1
}
