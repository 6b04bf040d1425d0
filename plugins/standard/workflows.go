package standard

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/actionflow/actionflow/plugins/standard/workflowfiles"
)

const workflowsUsage = `Usage:
  actionflow workflows apply [flags] FILE_OR_DIR...
      Create or update workflows kept as files on a running server, so that the
      server's current version of each key matches its file. Applying the same
      files twice changes nothing.

Files:
  One workflow per .lua file. A directory stands for the *.lua files directly in
  it (sorted by name, not recursive). The file starts with a header of comment
  lines "--- name: value"; the header ends at the first line that does not start
  with "--- " (a bare "---" line is allowed inside it; "---@" LuaLS annotations
  and "----" rules end it). The script is the whole file, header included, so
  line numbers in errors are the file's, and an edit of the header is an edit
  of the script too. Use "--" for other comments.

      --- key: validate-order
      --- title: Validate an order
      --- type: action
      --- sync: true
      --- config: {"collection": "orders"}
      local q = ctx.data.quantity
      if q == nil or q < 1 then flow.fail("quantity must be at least 1") end

  Header names (any other name is an error naming the file and line):
    key          required; 1-64 letters, digits, '-' or '_'; identifies the workflow
    type         required; the trigger type, e.g. action; fixed once created
    title        one line; default empty
    description  one line; default empty
    sync         true or false; default false; fixed once created
                 (request-interception workflows are always sync)
    enabled      true or false; default true
    config       the trigger's config: a JSON object on one line; default {}
    options      run options: a JSON object on one line; default {}

What apply does, per file, with the versions of its key on the server:
  - no version                            → workflows:create         "created KEY (id N)"
  - the current version has the same title, description, config, options,
    script and enabled (config and options compared as JSON values)
                                          → nothing is written       "unchanged KEY"
  - it differs and has not run yet (a queued execution does not count)
                                          → workflows:update of it   "updated KEY (id N)"
  - it differs and has run: its config and script are frozen. Since the header
    is part of the script, any edit of the file changes the script, so
                                          → workflows:revision, then an update of the
                                            new version with enabled=true, which makes it
                                            current and disables the old one
                                                                     "revised KEY (id N → M)"
                                            (with "enabled: false" the new version is
                                            then disabled again: it stays current)
    Only when the file is unchanged and the server's title, description,
    options or enabled were changed by hand is a version that ran updated in
    place (apply sets them back)           → workflows:update of it   "updated KEY (id N)"
  - type or sync differ                   → an error: they are fixed; use a new key
  Failures print "error FILE: message" (with the server's message) and the other
  files are still applied. Exit status 0 when every file applied, 1 when any
  failed, 2 on bad usage.

Flags (each may come before or after the files):
  --url URL         server address (env ACTIONFLOW_URL; default http://127.0.0.1:13000)
  --email E         sign in as E (env ACTIONFLOW_EMAIL; default root@actionflow.local)
  --password P      with this password (env ACTIONFLOW_PASSWORD)
  --token T         use this token instead of signing in (env ACTIONFLOW_TOKEN)
  --dry-run         read the server and print what would happen ("would create KEY",
                    "would update KEY (id N)", "would revise KEY (id N)", "unchanged KEY")
                    without writing any workflow
  The user must be allowed to manage workflows (root or admin).
`

// workflowsCommand implements "actionflow workflows ...". args start after "workflows".
func workflowsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, workflowsUsage)
		return 2
	}
	switch args[0] {
	case "apply":
		return workflowsApply(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, workflowsUsage)
		return 0
	}
	fmt.Fprintf(stderr, "actionflow workflows: unknown command %q\n\n%s", args[0], workflowsUsage)
	return 2
}

// applyFlags are the flags of "workflows apply".
type applyFlags struct {
	url, email, password, token string
	dryRun                      bool
	paths                       []string
}

// parseApplyFlags parses flags that may come before, between or after the paths.
func parseApplyFlags(args []string, stdout, stderr io.Writer) (applyFlags, int, bool) {
	var f applyFlags
	fs := flag.NewFlagSet("workflows apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // --help prints workflowsUsage once, on stdout
	fs.StringVar(&f.url, "url", env("ACTIONFLOW_URL", "http://127.0.0.1:13000"), "server address (env ACTIONFLOW_URL)")
	fs.StringVar(&f.email, "email", env("ACTIONFLOW_EMAIL", "root@actionflow.local"), "sign-in email (env ACTIONFLOW_EMAIL)")
	fs.StringVar(&f.password, "password", os.Getenv("ACTIONFLOW_PASSWORD"), "sign-in password (env ACTIONFLOW_PASSWORD)")
	fs.StringVar(&f.token, "token", os.Getenv("ACTIONFLOW_TOKEN"), "token to use instead of signing in (env ACTIONFLOW_TOKEN)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print what would happen without writing")
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, workflowsUsage)
				return f, 0, false
			}
			return f, 2, false
		}
		if fs.NArg() == 0 {
			break
		}
		// "--dry-run true" would make "true" a path (and Go's flag parsing would stop
		// there): name the mistake instead.
		if i := len(args) - fs.NArg(); looksBool(args[i]) {
			if _, ok := boolFlagBefore(fs, args, i); ok {
				fmt.Fprintln(stderr, unexpectedArg("actionflow workflows apply", "", fs, args, i))
				return f, 2, false
			}
		}
		f.paths = append(f.paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(f.paths) == 0:
		fmt.Fprint(stderr, "actionflow workflows apply: no FILE_OR_DIR given\n\n"+workflowsUsage)
		return f, 2, false
	case f.token == "" && f.password == "":
		fmt.Fprint(stderr, "actionflow workflows apply: --password (or ACTIONFLOW_PASSWORD) or --token (or ACTIONFLOW_TOKEN) is required\n")
		return f, 2, false
	}
	if _, err := url.ParseRequestURI(f.url); err != nil {
		fmt.Fprintf(stderr, "actionflow workflows apply: bad --url %q: %v\n", f.url, err)
		return f, 2, false
	}
	f.url = strings.TrimRight(f.url, "/")
	return f, 0, true
}

func workflowsApply(args []string, stdout, stderr io.Writer) int {
	f, code, ok := parseApplyFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	ctx := context.Background()
	files, failed := workflowfiles.Collect(f.paths, stdout)

	c := workflowfiles.NewClient(f.url, f.token)
	if f.token == "" {
		if err := c.SignIn(ctx, f.email, f.password); err != nil {
			fmt.Fprintf(stderr, "actionflow workflows apply: %v\n", err)
			return 1
		}
	}
	for _, wf := range files {
		line, err := workflowfiles.Apply(ctx, c, wf, f.dryRun)
		if err != nil {
			fmt.Fprintf(stdout, "error %s: %v\n", wf.Path, err)
			failed = true
			continue
		}
		fmt.Fprintln(stdout, line)
	}
	if failed {
		return 1
	}
	return 0
}
