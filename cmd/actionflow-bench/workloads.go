package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// benchScript is the workflow of W2 (sync) and W3 (async): it reads ctx.data and ctx.user,
// does a little string and arithmetic work and returns a small table.
const benchScript = `local t = ctx.data.title .. " by " .. (ctx.user.email or "?")
local n = 0
for i = 1, 50 do n = n + i * (ctx.data.views or 1) end
return {title = string.upper(t), score = n, len = #t}
`

// credentials are the root user's.
type credentials struct {
	Email    string
	Password string
}

// result is one workload's outcome.
type result struct {
	Name       string    `json:"name"`
	Title      string    `json:"title"`
	Requests   int64     `json:"requests"`
	RPS        float64   `json:"rps"`
	P50ms      float64   `json:"p50ms"`
	P99ms      float64   `json:"p99ms"`
	Errors     int64     `json:"errors"`
	FirstError string    `json:"firstError,omitempty"`
	Seconds    float64   `json:"seconds"`
	Drain      *drain    `json:"drain,omitempty"`
	Fairness   *fairness `json:"fairness,omitempty"`
	Seed       *seed     `json:"seed,omitempty"`
	PeakRSS    *int64    `json:"serverPeakRSSBytes,omitempty"` // the server's VmHWM after the workload
	Notes      []string  `json:"notes,omitempty"`
	// ServerCPUus and ClientCPUus are the CPU time (user + system) the server and the bench
	// process used in the measured window per request counted, in µs; for W3 the window
	// ends when the queued executions have finished. Nil when unknown.
	ServerCPUus *float64 `json:"serverCPUMicrosPerRequest,omitempty"`
	ClientCPUus *float64 `json:"clientCPUMicrosPerRequest,omitempty"`
	// PostgresCPUus is the CPU time of the PostgreSQL cluster per request, in µs (a local
	// cluster only); RetriesPerSec the store's conflict retries per second, summed over
	// the nodes, in the same window.
	PostgresCPUus *float64 `json:"postgresCPUMicrosPerRequest,omitempty"`
	RetriesPerSec *float64 `json:"conflictRetriesPerSec,omitempty"`
	// Check is W3's executions checked against its records (with several nodes); Kill is
	// W3K's outcome.
	Check *execCheck `json:"check,omitempty"`
	Kill  *killDrain `json:"kill,omitempty"`
}

// seed is how W4's records were made.
type seed struct {
	Records int     `json:"records"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"perSec"`
}

// target is the servers a run drives: one, or several nodes on one store.
type target struct {
	bases []string   // the nodes' base URLs
	pids  []int      // their processes when they are our children, else nil
	pg    *pgCluster // the local PostgreSQL cluster of their store, else nil
	kill  func(node int) error
}

// session is a signed-in benchmark against one server or several nodes.
type session struct {
	c        *client   // the node the bench prepares and checks through
	nodes    []*client // every node; load worker w uses nodes[w % len(nodes)]
	opts     options
	run      string // prefix of the names this run makes
	root     string // root's token
	member   string // the member user's token, for the load
	pids     []int  // the servers' processes when they are our children, else nil
	pg       *pgCluster
	kill     func(node int) error
	progress io.Writer
}

// runWorkloads signs in at the first node, makes a member user, and runs the named
// workloads one after another, each in its own collections, spreading the load across
// the nodes. With tg.pids (our children) the first node's peak RSS is read after each
// workload, and the nodes' CPU time around each measured window.
func runWorkloads(ctx context.Context, tg target, opts options, cred credentials, names []string, progress io.Writer) ([]result, error) {
	s := &session{opts: opts, run: "bench" + randomSecret(3), pids: tg.pids, pg: tg.pg, kill: tg.kill, progress: progress}
	for _, base := range tg.bases {
		c, err := newClient(base, opts.Concurrency/len(tg.bases)+5)
		if err != nil {
			return nil, err
		}
		s.nodes = append(s.nodes, c)
	}
	s.c = s.nodes[0]
	c := s.c
	var err error
	if s.root, err = c.signIn(ctx, cred.Email, cred.Password); err != nil {
		return nil, fmt.Errorf("sign in as root: %w", err)
	}
	email, pw := s.run+"@bench.local", randomSecret(12)
	user := map[string]any{"email": email, "nickname": "bench member", "password": pw, "roles": []string{"member"}}
	if _, err := c.call(ctx, "POST", "/api/users:create", s.root, user); err != nil {
		return nil, fmt.Errorf("make the member user: %w", err)
	}
	if s.member, err = c.signIn(ctx, email, pw); err != nil {
		return nil, fmt.Errorf("sign in as the member user: %w", err)
	}
	var out []result
	for _, name := range names {
		r, err := s.workload(ctx, name)
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		if len(s.pids) > 0 {
			if n, err := peakRSS(s.pids[0]); err == nil {
				r.PeakRSS = &n
			}
		}
		out = append(out, r)
		s.logf("%s done: %.0f req/s, %d errors", name, r.RPS, r.Errors)
	}
	return out, nil
}

// across says how many nodes the load goes to, when more than one.
func (s *session) across() string {
	if len(s.nodes) < 2 {
		return ""
	}
	return fmt.Sprintf(" across %d nodes", len(s.nodes))
}

func (s *session) logf(format string, args ...any) {
	if s.progress != nil {
		fmt.Fprintf(s.progress, "actionflow-bench: "+format+"\n", args...)
	}
}

func (s *session) workload(ctx context.Context, name string) (result, error) {
	switch name {
	case "W1":
		return s.createWorkload(ctx, name, "create", "")
	case "W2":
		return s.createWorkload(ctx, name, "create + sync Lua", "sync")
	case "W2N":
		return s.createWorkload(ctx, name, "create + sync Lua, no history", "sync, no history")
	case "W3":
		return s.createWorkload(ctx, name, "create + async Lua", "async")
	case "W4":
		return s.listWorkload(ctx, name)
	case "W5":
		return s.createWorkload(ctx, name, "create, durable", "")
	case "W5A":
		return s.createWorkload(ctx, name, "create + async Lua, durable", "async")
	case "W6":
		return s.fairnessWorkload(ctx, name)
	case "W3K":
		return s.killWorkload(ctx, name)
	}
	return result{}, fmt.Errorf("unknown workload %q", name)
}

func (s *session) loadConfig() loadConfig {
	return loadConfig{Warmup: s.opts.Warmup, Duration: s.opts.Duration, Concurrency: s.opts.Concurrency,
		CPU: s.read}
}

// read reads the CPU times (readCPU) and the nodes' store conflict retries (from /metrics).
func (s *session) read() cpuReading {
	c := readCPU(s.pids, s.pg)
	var sum float64
	for _, n := range s.nodes {
		v, ok := n.metric(context.Background(), "actionflow_store_conflict_retries_total")
		if !ok {
			return c
		}
		sum += v
	}
	c.Retries = &sum
	return c
}

// node is the client of load worker w.
func (s *session) node(w int) *client { return s.nodes[w%len(s.nodes)] }

// measured turns a load run into a result.
func measured(name, title string, lr loadResult) result {
	return result{
		Name: name, Title: title, Requests: lr.OK, RPS: lr.RPS(),
		P50ms: ms(lr.Latency.Quantile(0.50)), P99ms: ms(lr.Latency.Quantile(0.99)),
		Errors: lr.Errors, FirstError: lr.FirstError, Seconds: lr.Window.Seconds(),
		ServerCPUus:   perRequest(lr.CPUStart.Server, lr.CPUEnd.Server, lr.OK),
		ClientCPUus:   perRequest(lr.CPUStart.Client, lr.CPUEnd.Client, lr.OK),
		PostgresCPUus: perRequest(lr.CPUStart.Postgres, lr.CPUEnd.Postgres, lr.OK),
		RetriesPerSec: retriesPerSec(lr.CPUStart, lr.CPUEnd),
	}
}

// createWorkload is W1 (and W5, on the durable server): create a 3-field record as the
// member user; with mode "sync" or "async" one workflow of benchScript is bound via
// ?triggerWorkflows= (W2, W3); with "sync, no history" a sync one whose resolved
// executions are not kept (W2N).
func (s *session) createWorkload(ctx context.Context, name, title, mode string) (result, error) {
	coll := s.run + "_" + name
	def := map[string]any{"name": coll, "fields": []map[string]any{
		{"name": "title", "type": "string"},
		{"name": "body", "type": "text"},
		{"name": "views", "type": "integer"},
	}}
	if _, err := s.c.call(ctx, "POST", "/api/collections:create", s.root, def); err != nil {
		return result{}, fmt.Errorf("make collection: %w", err)
	}
	path := "/api/" + coll + ":create"
	var key string
	if mode != "" {
		wf := map[string]any{
			"title": "bench " + name, "key": coll, "type": "action", "sync": mode != "async", "enabled": true,
			"config": map[string]any{"collection": coll}, "script": benchScript,
		}
		if mode == "sync, no history" {
			wf["options"] = map[string]any{"deleteExecutionOnStatus": []int{1}}
		}
		var out struct {
			Key string `json:"key"`
		}
		if _, err := s.c.callInto(ctx, "POST", "/api/workflows:create", s.root, wf, &out); err != nil {
			return result{}, fmt.Errorf("make workflow: %w", err)
		}
		key = out.Key
		path += "?triggerWorkflows=" + url.QueryEscape(key)
	}
	lr := s.createLoad(ctx, name, title, path)
	r := measured(name, title, lr)
	if mode != "" && mode != "async" && r.Errors > 0 {
		why, err := s.failure(ctx, key)
		if err != nil {
			return r, err
		}
		if why != "" {
			r.Notes = append(r.Notes, "a failed execution: "+why)
		}
	}
	if mode == "async" {
		// The CPU time runs until the executions have finished, so that it includes the
		// workers': W3's figures cover a request and its execution.
		var cpuEnd cpuReading
		d, err := s.drain(ctx, key, lr.WarmEnd, lr.End, func() { cpuEnd = s.read() })
		if err != nil {
			return r, fmt.Errorf("drain: %w", err)
		}
		r.Drain = d
		// The executions queued in the warm-up and run in the window count as requests:
		// their runs are in the window's CPU time.
		n := lr.OK + int64(d.Backlog)
		r.ServerCPUus = perRequest(lr.CPUStart.Server, cpuEnd.Server, n)
		r.ClientCPUus = perRequest(lr.CPUStart.Client, cpuEnd.Client, n)
		r.PostgresCPUus = perRequest(lr.CPUStart.Postgres, cpuEnd.Postgres, n)
		r.RetriesPerSec = retriesPerSec(lr.CPUStart, cpuEnd)
		if d.Unfinished > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d executions not finished after %v", d.Unfinished, s.opts.DrainTimeout))
		}
		if int64(d.Executions) < r.Requests {
			r.Notes = append(r.Notes, fmt.Sprintf("only %d executions found for %d requests: the server pruned some (it keeps 100000 by default)", d.Executions, r.Requests))
		}
		if d.Failed > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d executions did not resolve, e.g. %s", d.Failed, d.FailedWhy))
		}
		if len(s.nodes) > 1 {
			if r.Check, err = s.checkExecutions(ctx, coll, key); err != nil {
				return r, err
			}
			if r.Check.Lost > 0 || r.Check.Doubled > 0 {
				r.Notes = append(r.Notes, fmt.Sprintf("%d records without an execution, %d with more than one", r.Check.Lost, r.Check.Doubled))
			}
		}
	}
	return r, ctx.Err()
}

// createLoad runs the load of W1's creates (3-field records, as the member user) on path,
// spread across the nodes.
func (s *session) createLoad(ctx context.Context, name, title, path string) loadResult {
	auth := "Bearer " + s.member
	s.logf("%s: %s for %v after %v warm-up, %d connections%s", name, title, s.opts.Duration, s.opts.Warmup, s.opts.Concurrency, s.across())
	return loadOn(ctx, s.loadConfig(), s.node, func(w int) requestFiller {
		uri := s.node(w).base + path
		var seq int
		var body []byte
		return func(req *fasthttp.Request) {
			seq++
			req.SetRequestURI(uri)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.Header.Set(fasthttp.HeaderAuthorization, auth)
			req.Header.SetContentType("application/json")
			body = appendRecordBody(body[:0], w, seq)
			req.SetBodyRaw(body)
		}
	})
}

// appendRecordBody appends the JSON of a record of worker w, number seq.
func appendRecordBody(b []byte, w, seq int) []byte {
	b = append(b, `{"title":"post `...)
	b = strconv.AppendInt(b, int64(w), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `","body":"a short body of a benchmark record","views":`...)
	b = strconv.AppendInt(b, int64(seq%100), 10)
	return append(b, '}')
}

// listWorkload is W4: seed --records records (title, views, category of 10) through the
// API, then list 20 of one category, newest first.
func (s *session) listWorkload(ctx context.Context, name string) (result, error) {
	cats, posts := s.run+"_W4_categories", s.run+"_W4_posts"
	defs := []map[string]any{
		{"name": cats, "fields": []map[string]any{{"name": "name", "type": "string"}}},
		{"name": posts, "fields": []map[string]any{
			{"name": "title", "type": "string"},
			{"name": "views", "type": "integer"},
			{"name": "category", "type": "belongsTo", "target": cats},
		}},
	}
	for _, def := range defs {
		if _, err := s.c.call(ctx, "POST", "/api/collections:create", s.root, def); err != nil {
			return result{}, fmt.Errorf("make collection: %w", err)
		}
	}
	catIDs := make([]int64, 10)
	for i := range catIDs {
		var out struct {
			ID int64 `json:"id"`
		}
		if _, err := s.c.callInto(ctx, "POST", "/api/"+cats+":create", s.member, map[string]any{"name": fmt.Sprintf("category %d", i+1)}, &out); err != nil {
			return result{}, fmt.Errorf("make category: %w", err)
		}
		catIDs[i] = out.ID
	}
	sd, err := s.seed(ctx, posts, catIDs)
	if err != nil {
		return result{}, err
	}
	cat := catIDs[2]
	q := url.Values{"pageSize": {"20"}, "sort": {"-id"}, "filter": {fmt.Sprintf(`{"categoryId":%d}`, cat)}}
	path := listPath(posts, q)
	var page []map[string]any
	env, err := s.c.callInto(ctx, "GET", path, s.member, nil, &page)
	if err != nil {
		return result{}, fmt.Errorf("check the query: %w", err)
	}
	if want := min(20, s.opts.Records/10); len(page) < want || env.Meta.Count < s.opts.Records/10 {
		return result{}, fmt.Errorf("check the query: got %d records of %d, want %d of at least %d", len(page), env.Meta.Count, want, s.opts.Records/10)
	}
	title := "list 20 of " + humanCount(s.opts.Records)
	auth := "Bearer " + s.member
	s.logf("%s: %s for %v after %v warm-up, %d connections%s", name, title, s.opts.Duration, s.opts.Warmup, s.opts.Concurrency, s.across())
	lr := loadOn(ctx, s.loadConfig(), s.node, func(w int) requestFiller {
		uri := s.node(w).base + path
		return func(req *fasthttp.Request) {
			req.SetRequestURI(uri)
			req.Header.SetMethod(fasthttp.MethodGet)
			req.Header.Set(fasthttp.HeaderAuthorization, auth)
		}
	})
	r := measured(name, title, lr)
	r.Seed = sd
	return r, ctx.Err()
}

// seed creates the W4 records with concurrent creates (there is no batch endpoint).
func (s *session) seed(ctx context.Context, posts string, catIDs []int64) (*seed, error) {
	n := s.opts.Records
	s.logf("W4: seeding %d records with %d connections", n, s.opts.Concurrency)
	start := time.Now()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for g := range s.opts.Concurrency {
		c := s.node(g) // each goroutine keeps to one node: its connections are the node's
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				rec := map[string]any{"title": fmt.Sprintf("post %d", i), "views": i % 1000, "categoryId": catIDs[i%int64(len(catIDs))]}
				if _, err := c.call(ctx, "POST", "/api/"+posts+":create", s.member, rec); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("seed: %w", firstErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	secs := time.Since(start).Seconds()
	s.logf("W4: seeded %d records in %.1fs (%.0f/s)", n, secs, float64(n)/secs)
	return &seed{Records: n, Seconds: secs, PerSec: float64(n) / secs}, nil
}

// humanCount writes 100000 as 100k.
func humanCount(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// execution is the part of an execution the drain looks at.
type execution struct {
	ID         int64  `json:"id"`
	Status     *int   `json:"status"`
	CreatedAt  string `json:"createdAt"`
	StartedAt  string `json:"startedAt"`
	FinishedAt string `json:"finishedAt"`
}

// final reports whether the execution has ended (status neither null nor 0).
func (e execution) final() bool { return e.Status != nil && *e.Status != 0 }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
