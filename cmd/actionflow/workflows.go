package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/actionflow/actionflow/plugins/workflow"
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
  - it differs, and either it never ran or only title, description,
    options or enabled differ             → workflows:update of it   "updated KEY (id N)"
  - it ran (its config and script are frozen) and config or script differ
                                          → workflows:revision, then an update of the
                                            new version with enabled=true, which makes it
                                            current and disables the old one
                                                                     "revised KEY (id N → M)"
                                            (with "enabled: false" the new version is
                                            then disabled again: it stays current)
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
	fs.Usage = func() { fmt.Fprint(stderr, workflowsUsage) }
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
	files, failed := collectWorkflowFiles(f.paths, stdout)

	c := &apiClient{base: f.url, token: f.token, http: &http.Client{Timeout: 60 * time.Second}}
	if c.token == "" {
		if err := c.signIn(ctx, f.email, f.password); err != nil {
			fmt.Fprintf(stderr, "actionflow workflows apply: %v\n", err)
			return 1
		}
	}
	for _, wf := range files {
		line, err := applyWorkflowFile(ctx, c, wf, f.dryRun)
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

// collectWorkflowFiles reads and parses the files of the paths (directories give their
// *.lua files). Files that cannot be read or parsed, and second files of a key, are
// reported on out as "error FILE: ..." and left out.
func collectWorkflowFiles(paths []string, out io.Writer) (files []*workflowFile, failed bool) {
	fail := func(path string, err error) {
		fmt.Fprintf(out, "error %s: %v\n", path, err)
		failed = true
	}
	var names []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			fail(p, err)
			continue
		}
		if !st.IsDir() {
			names = append(names, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			fail(p, err)
			continue
		}
		var found []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".lua") {
				found = append(found, filepath.Join(p, e.Name()))
			}
		}
		if len(found) == 0 {
			fail(p, errors.New("no .lua files in this directory"))
		}
		sort.Strings(found)
		names = append(names, found...)
	}
	byKey := map[string]string{}
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			fail(name, err)
			continue
		}
		wf, err := parseWorkflowFile(name, string(src))
		if err != nil {
			fail(name, err)
			continue
		}
		if first, dup := byKey[wf.Key]; dup {
			fail(name, fmt.Errorf("key %q is also the key of %s", wf.Key, first))
			continue
		}
		byKey[wf.Key] = name
		files = append(files, wf)
	}
	return files, failed
}

// workflowFile is a workflow kept as a file: its header's settings and the script.
type workflowFile struct {
	Path        string
	Key         string
	Title       string
	Description string
	Type        string
	Sync        bool
	Enabled     bool
	Config      json.RawMessage // a compact JSON object, {} when absent
	Options     json.RawMessage // a compact JSON object, {} when absent
	Script      string          // the whole file
}

var workflowKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// parseWorkflowFile reads the header of a workflow file (see workflowsUsage). Errors name
// the line; the caller names the file.
func parseWorkflowFile(path, src string) (*workflowFile, error) {
	wf := &workflowFile{Path: path, Enabled: true, Config: json.RawMessage("{}"), Options: json.RawMessage("{}"), Script: src}
	seen := map[string]int{}
	lines := strings.Split(src, "\n")
	for i, line := range lines {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if line == "---" {
			continue
		}
		rest, ok := strings.CutPrefix(line, "--- ")
		if !ok {
			break
		}
		name, value, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want a header line \"--- name: value\", got %q", n, line)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("line %d: header %q is already set on line %d", n, name, prev)
		}
		seen[name] = n
		var err error
		switch name {
		case "key":
			if !workflowKeyRe.MatchString(value) {
				err = errors.New("must be 1-64 letters, digits, '-' or '_'")
			}
			wf.Key = value
		case "title":
			wf.Title = value
		case "description":
			wf.Description = value
		case "type":
			if value == "" {
				err = errors.New("must not be empty")
			}
			wf.Type = value
		case "sync":
			wf.Sync, err = parseHeaderBool(value)
		case "enabled":
			wf.Enabled, err = parseHeaderBool(value)
		case "config":
			wf.Config, err = parseHeaderObject(value)
		case "options":
			wf.Options, err = parseHeaderObject(value)
		default:
			return nil, fmt.Errorf("line %d: unknown header key %q (known: key, title, type, sync, enabled, config, options, description)", n, name)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", n, name, err)
		}
	}
	if _, ok := seen["key"]; !ok {
		return nil, errors.New(`the header has no key: start the file with "--- key: <key>"`)
	}
	if _, ok := seen["type"]; !ok {
		return nil, errors.New(`the header has no type: add a line "--- type: action" (or another trigger type)`)
	}
	return wf, nil
}

func parseHeaderBool(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", v)
}

// parseHeaderObject reads a JSON object written on one line and returns it compacted.
func parseHeaderObject(v string) (json.RawMessage, error) {
	d := json.NewDecoder(strings.NewReader(v))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return nil, fmt.Errorf("want a JSON object on one line: %w", err)
	}
	if obj == nil {
		return nil, errors.New("want a JSON object on one line, got null")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("want a JSON object on one line: text after the object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(v)); err != nil {
		return nil, fmt.Errorf("want a JSON object on one line: %w", err)
	}
	return buf.Bytes(), nil
}

// remoteWorkflow is a workflow version as workflows:list returns it.
type remoteWorkflow struct {
	ID          int64           `json:"id"`
	Key         string          `json:"key"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	Sync        bool            `json:"sync"`
	Enabled     bool            `json:"enabled"`
	Current     bool            `json:"current"`
	Config      json.RawMessage `json:"config"`
	Options     json.RawMessage `json:"options"`
	Script      string          `json:"script"`
	Executed    int64           `json:"executed"`
}

// Plan kinds.
const (
	planCreate    = "create"
	planUnchanged = "unchanged"
	planUpdate    = "update"
	planRevise    = "revise"
)

// applyPlan is what applying a file to the versions of its key does.
type applyPlan struct {
	kind    string
	current *remoteWorkflow // nil for create
	// changes are the fields of the update (planUpdate), or of the new version (planRevise).
	changes map[string]any
}

// planWorkflow decides what applying wf does, given the versions of its key.
func planWorkflow(wf *workflowFile, versions []remoteWorkflow) (applyPlan, error) {
	var cur *remoteWorkflow
	for i := range versions {
		v := &versions[i]
		if v.Current && (cur == nil || v.ID > cur.ID) {
			cur = v
		}
	}
	if cur == nil {
		return applyPlan{kind: planCreate}, nil
	}
	sync := wf.Sync || wf.Type == "request-interception" // always sync (API.md §4)
	if cur.Type != wf.Type || cur.Sync != sync {
		return applyPlan{}, fmt.Errorf("the server's version (id %d) is of type %s, sync %v; the file says type %s, sync %v: type and sync are fixed; use a new key",
			cur.ID, cur.Type, cur.Sync, wf.Type, sync)
	}
	changes := map[string]any{}
	if cur.Title != wf.Title {
		changes["title"] = wf.Title
	}
	if cur.Description != wf.Description {
		changes["description"] = wf.Description
	}
	if !optionsEqual(cur.Options, wf.Options) {
		changes["options"] = wf.Options
	}
	if cur.Enabled != wf.Enabled {
		changes["enabled"] = wf.Enabled
	}
	frozenChanged := false
	if !jsonEqual(cur.Config, wf.Config) {
		changes["config"] = wf.Config
		frozenChanged = true
	}
	if cur.Script != wf.Script {
		changes["script"] = wf.Script
		frozenChanged = true
	}
	switch {
	case len(changes) == 0:
		return applyPlan{kind: planUnchanged, current: cur}, nil
	case cur.Executed == 0 || !frozenChanged:
		return applyPlan{kind: planUpdate, current: cur, changes: changes}, nil
	}
	// The revision copies the current version; the new one gets every field of the file
	// and is enabled, which makes it the current version.
	return applyPlan{kind: planRevise, current: cur, changes: map[string]any{
		"title": wf.Title, "description": wf.Description, "config": wf.Config,
		"options": wf.Options, "script": wf.Script, "enabled": true,
	}}, nil
}

// jsonEqual compares two JSON values as values; empty or null counts as {}.
func jsonEqual(a, b json.RawMessage) bool {
	va, errA := decodeJSONValue(a)
	vb, errB := decodeJSONValue(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func decodeJSONValue(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if v == nil {
		v = map[string]any{}
	}
	return v, nil
}

// optionsEqual compares run options as the server keeps them, where a zero value is the
// default and left out ({"timeout": 0} is {}). Options the server does not know compare
// as plain JSON; the server refuses them anyway.
func optionsEqual(a, b json.RawMessage) bool {
	ca, errA := canonicalOptions(a)
	cb, errB := canonicalOptions(b)
	if errA != nil || errB != nil {
		return jsonEqual(a, b)
	}
	return jsonEqual(ca, cb)
}

func canonicalOptions(raw json.RawMessage) (json.RawMessage, error) {
	var o workflow.Options
	if len(bytes.TrimSpace(raw)) > 0 && string(raw) != "null" {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&o); err != nil {
			return nil, err
		}
	}
	return json.Marshal(o)
}

// applyWorkflowFile applies one file and returns the line to print.
func applyWorkflowFile(ctx context.Context, c *apiClient, wf *workflowFile, dryRun bool) (string, error) {
	versions, err := c.versions(ctx, wf.Key)
	if err != nil {
		return "", err
	}
	p, err := planWorkflow(wf, versions)
	if err != nil {
		return "", err
	}
	if dryRun {
		switch p.kind {
		case planCreate:
			return "would create " + wf.Key, nil
		case planUpdate:
			return fmt.Sprintf("would update %s (id %d)", wf.Key, p.current.ID), nil
		case planRevise:
			return fmt.Sprintf("would revise %s (id %d)", wf.Key, p.current.ID), nil
		}
		return "unchanged " + wf.Key, nil
	}
	switch p.kind {
	case planCreate:
		body := map[string]any{
			"key": wf.Key, "title": wf.Title, "description": wf.Description, "type": wf.Type,
			"sync": wf.Sync, "enabled": wf.Enabled, "config": wf.Config, "options": wf.Options, "script": wf.Script,
		}
		var created remoteWorkflow
		if err := c.call(ctx, http.MethodPost, "/api/workflows:create", body, &created); err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		return fmt.Sprintf("created %s (id %d)", wf.Key, created.ID), nil
	case planUpdate:
		if err := c.update(ctx, p.current.ID, p.changes); err != nil {
			return "", err
		}
		return fmt.Sprintf("updated %s (id %d)", wf.Key, p.current.ID), nil
	case planRevise:
		q := url.Values{"filterByTk": {strconv.FormatInt(p.current.ID, 10)}, "filter[key]": {wf.Key}}
		var rev remoteWorkflow
		if err := c.call(ctx, http.MethodPost, "/api/workflows:revision?"+q.Encode(), nil, &rev); err != nil {
			return "", fmt.Errorf("revision of id %d: %w", p.current.ID, err)
		}
		if rev.ID == 0 {
			return "", fmt.Errorf("revision of id %d: the server answered no id", p.current.ID)
		}
		if err := c.update(ctx, rev.ID, p.changes); err != nil {
			return "", fmt.Errorf("new version id %d (left disabled): %w", rev.ID, err)
		}
		if !wf.Enabled {
			// Enabling made it current; disabled, it stays current.
			if err := c.update(ctx, rev.ID, map[string]any{"enabled": false}); err != nil {
				return "", fmt.Errorf("new version id %d: %w", rev.ID, err)
			}
		}
		return fmt.Sprintf("revised %s (id %d → %d)", wf.Key, p.current.ID, rev.ID), nil
	}
	return "unchanged " + wf.Key, nil
}

// apiClient calls the actionflow HTTP API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// apiError is an error answer of the server.
type apiError struct {
	status   int
	messages []string
}

func (e *apiError) Error() string {
	if len(e.messages) == 0 {
		return fmt.Sprintf("server answered %d", e.status)
	}
	return fmt.Sprintf("%s (%d)", strings.Join(e.messages, "; "), e.status)
}

// call sends a request with a JSON body (nil: none) and decodes the "data" member of the
// answer into out (nil: ignored).
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: answer %d is not JSON: %w", method, path, res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		ae := &apiError{status: res.StatusCode}
		for _, e := range env.Errors {
			ae.messages = append(ae.messages, e.Message)
		}
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("%s %s: decode data: %w", method, path, err)
		}
	}
	return nil
}

func (c *apiClient) signIn(ctx context.Context, email, password string) error {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/auth:signIn", map[string]string{"email": email, "password": password}, &out); err != nil {
		return fmt.Errorf("sign in as %s: %w", email, err)
	}
	if out.Token == "" {
		return fmt.Errorf("sign in as %s: no token in the answer", email)
	}
	c.token = out.Token
	return nil
}

// versions lists every version of a key.
func (c *apiClient) versions(ctx context.Context, key string) ([]remoteWorkflow, error) {
	filter, err := json.Marshal(map[string]string{"key": key})
	if err != nil {
		return nil, fmt.Errorf("encode filter: %w", err)
	}
	q := url.Values{"filter": {string(filter)}, "pageSize": {"1000"}}
	var list []remoteWorkflow
	if err := c.call(ctx, http.MethodGet, "/api/workflows:list?"+q.Encode(), nil, &list); err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	return list, nil
}

func (c *apiClient) update(ctx context.Context, id int64, changes map[string]any) error {
	if err := c.call(ctx, http.MethodPost, "/api/workflows:update?filterByTk="+strconv.FormatInt(id, 10), changes, nil); err != nil {
		return fmt.Errorf("update id %d: %w", id, err)
	}
	return nil
}
