package offline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/standard/workflowfiles"
	"github.com/actionflow/actionflow/runtime/lib"
)

// Plugins makes the plugin set of one in-memory app. It is called once per run (a test
// case gets an app of its own), so plugins with state — the workflow engine — must be made
// inside it.
type Plugins func() []core.Plugin

// Fixtures are collections and records created before a run, through the HTTP API.
type Fixtures struct {
	// Collections are collections:create bodies, created in order.
	Collections []map[string]any `json:"collections"`
	// Records are the values of records to create, per collection: collections in the
	// order of Collections (others after them by name), records in list order.
	Records map[string][]map[string]any `json:"records"`
}

// Context is what a run is started with, as workflows:execute takes it.
type Context struct {
	// Data is ctx.data: for a workflow with a collection, a record id or {id} of a fixture
	// record (the record is read as the server reads it); otherwise any JSON.
	Data any `json:"data,omitempty"`
	// User, when set, is created as a user (users:create values; a password is made up
	// when absent) and runs the workflow; else UserID; else root.
	User   map[string]any `json:"user,omitempty"`
	UserID uint64         `json:"userId,omitempty"`
	// Role is ctx.roleName (default: the user's first role).
	Role string `json:"role,omitempty"`
	// Params is ctx.params of a pre-action workflow: {values, filterByTk, filter}.
	Params any `json:"params,omitempty"`
	// Previous is ctx.previous of a collection update event.
	Previous any `json:"previous,omitempty"`
}

// Run is one offline run: a workflow file and what to run it with.
type Run struct {
	File     string        // name shown in errors
	Source   string        // the whole file
	Type     string        // overrides the header's type
	Timeout  time.Duration // overrides the header's options.timeout (0: keep)
	Fixtures *Fixtures
	Context  Context
	// HTTPAllow are the hosts the http module may call.
	HTTPAllow []string
}

// Report is what a run printed: the execution as the server stores it, and the writes the
// script made through db.
type Report struct {
	Status   int       `json:"status"`
	Output   any       `json:"output"`
	Error    *RunError `json:"error"`
	Logs     []LogLine `json:"logs"`
	Messages []string  `json:"messages"`
	Writes   []Write   `json:"writes"`
}

// RunError is an execution's error; Line is null when unknown.
type RunError struct {
	Message string `json:"message"`
	Line    *int   `json:"line"`
}

// LogLine is one line of the execution's logs.
type LogLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Time    string `json:"time"`
}

// Write is a record the script wrote (committed), with its values as stored (hidden
// fields removed).
type Write struct {
	Collection string         `json:"collection"`
	Action     string         `json:"action"` // create, update or destroy
	ID         any            `json:"id"`
	Values     map[string]any `json:"values"`
}

// Resolved is the execution status of a run that ended well.
const Resolved = 1

// UsageError is a run that could not start: a bad header, fixture or context. Commands
// exit 2 on it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErr(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// defaultType is the type of a script without a header: a custom action without a
// collection, whose ctx.data may be any JSON.
const defaultType = "custom-action"

// Execute runs r on a fresh in-memory app made of plugins: fixtures through the HTTP API,
// the workflow created (disabled, so nothing else fires it) and run with
// workflows:execute, the path the server takes, then its execution read back.
func Execute(ctx context.Context, plugins Plugins, r Run) (*Report, error) {
	h, err := workflowfiles.ParseLoose(r.File, r.Source)
	if err != nil {
		return nil, usageErr("%s: %w", r.File, err)
	}
	switch {
	case r.Type != "":
		h.Type = r.Type
	case h.Type == "":
		h.Type = defaultType
	}
	var options map[string]any
	if err := json.Unmarshal(h.Options, &options); err != nil {
		return nil, fmt.Errorf("offline: %s: options: %w", r.File, err)
	}
	if r.Timeout > 0 {
		options["timeout"] = durationMS(r.Timeout)
	}
	srv, err := start(plugins, r.HTTPAllow)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	if err := srv.load(ctx, r.Fixtures); err != nil {
		return nil, err
	}
	userID := srv.rootID
	switch {
	case r.Context.User != nil:
		if userID, err = srv.createUser(ctx, r.Context.User); err != nil {
			return nil, err
		}
	case r.Context.UserID != 0:
		userID = r.Context.UserID
	}
	title := h.Title
	if title == "" {
		title = r.File
	}
	var w struct {
		ID uint64 `json:"id"`
	}
	err = srv.call(ctx, "POST", "/api/workflows:create", map[string]any{
		"title": title, "key": h.Key, "type": h.Type, "sync": h.Sync, "enabled": false,
		"config": h.Config, "options": options, "script": r.Source,
	}, &w)
	if err != nil {
		return nil, usageErr("%s: %w", r.File, err)
	}
	body := map[string]any{"userId": userID}
	for k, v := range map[string]any{"data": r.Context.Data, "params": r.Context.Params, "previous": r.Context.Previous} {
		if v != nil {
			body[k] = v
		}
	}
	if r.Context.Role != "" {
		body["roleName"] = r.Context.Role
	}
	var res struct {
		Execution struct {
			ID uint64 `json:"id"`
		} `json:"execution"`
	}
	srv.rec.start()
	err = srv.call(ctx, "POST", fmt.Sprintf("/api/workflows:execute?filterByTk=%d", w.ID), body, &res)
	writes := srv.rec.stop()
	if err != nil {
		return nil, usageErr("%w", err)
	}
	var x struct {
		Status   *int      `json:"status"`
		Output   any       `json:"output"`
		Error    *RunError `json:"error"`
		Logs     []LogLine `json:"logs"`
		Messages []struct {
			Message string `json:"message"`
		} `json:"messages"`
	}
	if err := srv.call(ctx, "GET", fmt.Sprintf("/api/executions:get?filterByTk=%d", res.Execution.ID), nil, &x); err != nil {
		return nil, err
	}
	rep := &Report{Output: x.Output, Error: x.Error, Logs: x.Logs, Messages: []string{}, Writes: writes}
	if x.Status != nil {
		rep.Status = *x.Status
	}
	if rep.Logs == nil {
		rep.Logs = []LogLine{}
	}
	for _, m := range x.Messages {
		rep.Messages = append(rep.Messages, m.Message)
	}
	return rep, nil
}

// server is an app served over an in-memory listener, with root signed in.
type server struct {
	app    *core.App
	client *fasthttp.Client
	token  string
	rootID uint64
	rec    *recorder
}

func start(plugins Plugins, httpAllow []string) (*server, error) {
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return nil, fmt.Errorf("offline: %w", err)
	}
	rec := &recorder{}
	ps := append(plugins(), rec)
	// A plugin's own Lua modules come with it (core.Host.LuaModule in its Init).
	mods := lib.Standard(lib.StdConfig{HTTPAllowHosts: httpAllow})
	cfg := core.Config{
		InMemory:     true,
		BcryptCost:   4,
		RootPassword: hex.EncodeToString(pw),
		Logger:       slog.New(slog.DiscardHandler),
		LuaModules:   mods,
	}
	app, err := core.New(cfg, core.WithPlugins(ps...))
	if err != nil {
		return nil, fmt.Errorf("offline: %w", err)
	}
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = app.Serve(ln) }()
	s := &server{app: app, rec: rec, client: &fasthttp.Client{
		Dial:                func(string) (net.Conn, error) { return ln.Dial() },
		MaxResponseBodySize: 64 << 20,
	}}
	var signIn struct {
		Token string `json:"token"`
		User  struct {
			ID uint64 `json:"id"`
		} `json:"user"`
	}
	email := app.Config().RootEmail
	if email == "" {
		email = "root@actionflow.local"
	}
	if err := s.call(context.Background(), "POST", "/api/auth:signIn", map[string]any{"email": email, "password": cfg.RootPassword}, &signIn); err != nil {
		s.close()
		return nil, fmt.Errorf("offline: sign in: %w", err)
	}
	s.token, s.rootID = signIn.Token, signIn.User.ID
	return s, nil
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.app.Shutdown(ctx)
	_ = s.app.Close(ctx)
}

// load creates the fixtures.
func (s *server) load(ctx context.Context, f *Fixtures) error {
	if f == nil {
		return nil
	}
	var order []string
	for i, c := range f.Collections {
		if err := s.call(ctx, "POST", "/api/collections:create", c, nil); err != nil {
			return usageErr("fixtures: collection %d (%v): %w", i+1, c["name"], err)
		}
		if name, ok := c["name"].(string); ok {
			order = append(order, name)
		}
	}
	var rest []string
	for name := range f.Records {
		if !contains(order, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range append(order, rest...) {
		for i, v := range f.Records[name] {
			if err := s.call(ctx, "POST", "/api/"+url.PathEscape(name)+":create", v, nil); err != nil {
				return usageErr("fixtures: %s record %d: %w", name, i+1, err)
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *server) createUser(ctx context.Context, values map[string]any) (uint64, error) {
	v := make(map[string]any, len(values)+1)
	for k, x := range values {
		v[k] = x
	}
	if _, ok := v["password"]; !ok {
		v["password"] = "offline-password"
	}
	var u struct {
		ID uint64 `json:"id"`
	}
	if err := s.call(ctx, "POST", "/api/users:create", v, &u); err != nil {
		return 0, usageErr("user: %w", err)
	}
	return u.ID, nil
}

// call sends a request as root and decodes the "data" of the answer into out (when not
// nil); an error answer is an error with the server's message.
func (s *server) call(ctx context.Context, method, path string, body, out any) error {
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://actionflow" + path)
	req.Header.SetMethod(method)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("offline: %w", err)
		}
		req.SetBody(b)
	}
	timeout := 10 * time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := s.client.DoTimeout(req, res, timeout); err != nil {
		return fmt.Errorf("offline: %s %s: %w", method, path, err)
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(res.Body(), &env); err != nil {
		return fmt.Errorf("offline: %s %s: %w", method, path, err)
	}
	if res.StatusCode() != fasthttp.StatusOK {
		msg := fmt.Sprintf("status %d", res.StatusCode())
		if len(env.Errors) > 0 {
			msg = env.Errors[0].Message
		}
		return errors.New(msg)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	dec.UseNumber()
	return dec.Decode(out)
}

// recorder is a plugin that keeps the committed writes made while it records, except the
// workflow engine's own (workflows, executions).
type recorder struct {
	mu     sync.Mutex
	on     bool
	writes []Write
}

func (r *recorder) Name() string { return "offline-recorder" }

func (r *recorder) Init(h *core.Host) error {
	h.OnRecord(func(tx *core.Tx, ev *core.RecordEvent) error {
		if name := ev.Collection.Name; name == "workflows" || name == "executions" {
			return nil
		}
		r.mu.Lock()
		on := r.on
		r.mu.Unlock()
		if !on {
			return nil
		}
		w := Write{Collection: ev.Collection.Name, Action: ev.Kind.String(), ID: ev.Record["id"],
			Values: map[string]any(core.Desensitize(ev.Collection, ev.Record))}
		tx.OnCommit(func() {
			r.mu.Lock()
			r.writes = append(r.writes, w)
			r.mu.Unlock()
		})
		return nil
	})
	return nil
}

func (r *recorder) start() {
	r.mu.Lock()
	r.on, r.writes = true, nil
	r.mu.Unlock()
}

// stop ends recording and returns the writes in commit order, as JSON values.
func (r *recorder) stop() []Write {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	out := make([]Write, 0, len(r.writes))
	for _, w := range r.writes {
		w.Values = jsonValue(w.Values)
		w.ID = jsonNumber(w.ID)
		out = append(out, w)
	}
	return out
}

// jsonValue is m as a JSON round trip reads it (numbers as json.Number), so that writes
// compare and print like values read over HTTP.
func jsonValue(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return m
	}
	return out
}

func jsonNumber(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	return json.Number(b)
}
