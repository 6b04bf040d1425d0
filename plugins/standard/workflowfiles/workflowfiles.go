// Package workflowfiles keeps workflows as files and applies them to a server: the file
// format (one Lua file per workflow, its settings in a header of "--- name: value" comment
// lines), the planner that compares a file with the versions of its key on the server, and
// a small HTTP client that creates, updates or revises them (actionflow workflows apply).
//
// Applying a file to the server's current version of its key:
//   - no version: create it;
//   - the same title, description, config, options, script and enabled: nothing;
//   - a version that never ran: update it in place;
//   - a version that ran (its config and script are frozen): when config or script differ,
//     make a revision (a new version of the key, enabled, so it becomes current); since the
//     header is part of the script, every edit of a file does. Only when the file is
//     unchanged and title, description, options or enabled were changed on the server is a
//     version that ran updated in place;
//   - type or sync differ: an error; they are fixed once created.
package workflowfiles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// Collect reads and parses the files of the paths (directories give their
// *.lua files). Files that cannot be read or parsed, and second files of a key, are
// reported on out as "error FILE: ..." and left out.
func Collect(paths []string, out io.Writer) (files []*File, failed bool) {
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
		wf, err := Parse(name, string(src))
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

// File is a workflow kept as a file: its header's settings and the script.
type File struct {
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

var keyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Parse reads the header of a workflow file (see the package doc), which must name its
// key and type. Errors name the line; the caller names the file.
func Parse(path, src string) (*File, error) {
	wf, seen, err := parse(path, src)
	if err != nil {
		return nil, err
	}
	if _, ok := seen["key"]; !ok {
		return nil, errors.New(`the header has no key: start the file with "--- key: <key>"`)
	}
	if _, ok := seen["type"]; !ok {
		return nil, errors.New(`the header has no type: add a line "--- type: action" (or another trigger type)`)
	}
	return wf, nil
}

// ParseLoose is Parse for a script run on its own (actionflow lua run, test): every
// header line is optional, and Key and Type are empty when absent.
func ParseLoose(path, src string) (*File, error) {
	wf, _, err := parse(path, src)
	return wf, err
}

// parse reads the header lines and says on which line each setting was.
func parse(path, src string) (*File, map[string]int, error) {
	wf := &File{Path: path, Enabled: true, Config: json.RawMessage("{}"), Options: json.RawMessage("{}"), Script: src}
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
			return nil, nil, fmt.Errorf("line %d: want a header line \"--- name: value\", got %q", n, line)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if prev, dup := seen[name]; dup {
			return nil, nil, fmt.Errorf("line %d: header %q is already set on line %d", n, name, prev)
		}
		seen[name] = n
		var err error
		switch name {
		case "key":
			if !keyRe.MatchString(value) {
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
			return nil, nil, fmt.Errorf("line %d: unknown header key %q (known: key, title, type, sync, enabled, config, options, description)", n, name)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %s: %w", n, name, err)
		}
	}
	return wf, seen, nil
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

// Remote is a workflow version as workflows:list returns it.
type Remote struct {
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
	PlanCreate    = "create"
	PlanUnchanged = "unchanged"
	PlanUpdate    = "update"
	PlanRevise    = "revise"
)

// Plan is what applying a file to the versions of its key does.
type Plan struct {
	Kind    string
	Current *Remote // nil for create
	// changes are the fields of the update (PlanUpdate), or of the new version (PlanRevise).
	Changes map[string]any
}

// PlanFile decides what applying wf does, given the versions of its key.
func PlanFile(wf *File, versions []Remote) (Plan, error) {
	var cur *Remote
	for i := range versions {
		v := &versions[i]
		if v.Current && (cur == nil || v.ID > cur.ID) {
			cur = v
		}
	}
	if cur == nil {
		return Plan{Kind: PlanCreate}, nil
	}
	sync := wf.Sync || wf.Type == "request-interception" // always sync (API.md §4)
	if cur.Type != wf.Type || cur.Sync != sync {
		return Plan{}, fmt.Errorf("the server's version (id %d) is of type %s, sync %v; the file says type %s, sync %v: type and sync are fixed; use a new key",
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
		return Plan{Kind: PlanUnchanged, Current: cur}, nil
	case cur.Executed == 0 || !frozenChanged:
		return Plan{Kind: PlanUpdate, Current: cur, Changes: changes}, nil
	}
	// The revision copies the current version; the new one gets every field of the file
	// and is enabled, which makes it the current version.
	return Plan{Kind: PlanRevise, Current: cur, Changes: map[string]any{
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
	return value.Equal(va, vb)
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

// Apply applies one file and returns the line to print.
func Apply(ctx context.Context, c *Client, wf *File, dryRun bool) (string, error) {
	versions, err := c.versions(ctx, wf.Key)
	if err != nil {
		return "", err
	}
	p, err := PlanFile(wf, versions)
	if err != nil {
		return "", err
	}
	if dryRun {
		switch p.Kind {
		case PlanCreate:
			return "would create " + wf.Key, nil
		case PlanUpdate:
			return fmt.Sprintf("would update %s (id %d)", wf.Key, p.Current.ID), nil
		case PlanRevise:
			return fmt.Sprintf("would revise %s (id %d)", wf.Key, p.Current.ID), nil
		}
		return "unchanged " + wf.Key, nil
	}
	switch p.Kind {
	case PlanCreate:
		body := map[string]any{
			"key": wf.Key, "title": wf.Title, "description": wf.Description, "type": wf.Type,
			"sync": wf.Sync, "enabled": wf.Enabled, "config": wf.Config, "options": wf.Options, "script": wf.Script,
		}
		var created Remote
		if err := c.call(ctx, http.MethodPost, "/api/workflows:create", body, &created); err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		return fmt.Sprintf("created %s (id %d)", wf.Key, created.ID), nil
	case PlanUpdate:
		if err := c.update(ctx, p.Current.ID, p.Changes); err != nil {
			return "", err
		}
		return fmt.Sprintf("updated %s (id %d)", wf.Key, p.Current.ID), nil
	case PlanRevise:
		q := url.Values{"filterByTk": {strconv.FormatInt(p.Current.ID, 10)}, "filter[key]": {wf.Key}}
		var rev Remote
		if err := c.call(ctx, http.MethodPost, "/api/workflows:revision?"+q.Encode(), nil, &rev); err != nil {
			return "", fmt.Errorf("revision of id %d: %w", p.Current.ID, err)
		}
		if rev.ID == 0 {
			return "", fmt.Errorf("revision of id %d: the server answered no id", p.Current.ID)
		}
		if err := c.update(ctx, rev.ID, p.Changes); err != nil {
			return "", fmt.Errorf("new version id %d (left disabled): %w", rev.ID, err)
		}
		if !wf.Enabled {
			// Enabling made it current; disabled, it stays current.
			if err := c.update(ctx, rev.ID, map[string]any{"enabled": false}); err != nil {
				return "", fmt.Errorf("new version id %d: %w", rev.ID, err)
			}
		}
		return fmt.Sprintf("revised %s (id %d → %d)", wf.Key, p.Current.ID, rev.ID), nil
	}
	return "unchanged " + wf.Key, nil
}

// NewClient is a client of the server at base (e.g. http://127.0.0.1:13000) that sends
// token (empty: call SignIn first).
func NewClient(base, token string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}
}

// Client calls the actionflow HTTP API.
type Client struct {
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
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
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

func (c *Client) SignIn(ctx context.Context, email, password string) error {
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
func (c *Client) versions(ctx context.Context, key string) ([]Remote, error) {
	filter, err := json.Marshal(map[string]string{"key": key})
	if err != nil {
		return nil, fmt.Errorf("encode filter: %w", err)
	}
	q := url.Values{"filter": {string(filter)}, "pageSize": {"1000"}}
	var list []Remote
	if err := c.call(ctx, http.MethodGet, "/api/workflows:list?"+q.Encode(), nil, &list); err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	return list, nil
}

func (c *Client) update(ctx context.Context, id int64, changes map[string]any) error {
	if err := c.call(ctx, http.MethodPost, "/api/workflows:update?filterByTk="+strconv.FormatInt(id, 10), changes, nil); err != nil {
		return fmt.Errorf("update id %d: %w", id, err)
	}
	return nil
}
