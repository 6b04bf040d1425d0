package core_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/store"
	"github.com/valyala/fasthttp"
)

// readyPlugin adds a readiness check that fails while its flag is set.
type readyPlugin struct{ down *atomic.Bool }

func (readyPlugin) Name() string { return "readytest" }
func (p readyPlugin) Init(h *core.Host) error {
	h.Ready("readytest", func(context.Context) error {
		if p.down.Load() {
			return errors.New("down for the test")
		}
		return nil
	})
	return nil
}

func TestHealthAndReadiness(t *testing.T) {
	down := &atomic.Bool{}
	s := coretest.New(t, core.Config{}, core.WithPlugins(readyPlugin{down}))
	tests := []struct {
		name    string
		path    string
		down    bool
		status  int
		wantHas string
	}{
		{"healthz needs no token", "/healthz", false, 200, `"status":"ok"`},
		{"readyz: store and checks answer", "/readyz", false, 200, `"status":"ready"`},
		{"readyz names what is not ready", "/readyz", true, 503, "readytest: down for the test"},
		{"healthz while not ready", "/healthz", true, 200, `"status":"ok"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			down.Store(tc.down)
			r := s.Get(tc.path, "").Must(t, tc.status)
			if !strings.Contains(r.Raw, tc.wantHas) {
				t.Fatalf("body %s, want it to hold %s", r.Raw, tc.wantHas)
			}
		})
	}
}

func TestRequestIDs(t *testing.T) {
	s := coretest.New(t, core.Config{})
	t.Run("every response carries one", func(t *testing.T) {
		for _, p := range []string{"/api/auth:check", "/healthz", "/nowhere", "/api/nothing:here"} {
			if id := s.Get(p, s.Root).Header.Get("X-Request-Id"); id == "" {
				t.Fatalf("%s: no X-Request-Id", p)
			}
		}
	})
	t.Run("the client's is echoed", func(t *testing.T) {
		if id := s.Get("/api/auth:check", s.Root, "X-Request-Id", "abc-123.x").Header.Get("X-Request-Id"); id != "abc-123.x" {
			t.Fatalf("got %q", id)
		}
	})
	t.Run("an odd or long client id is replaced", func(t *testing.T) {
		for _, bad := range []string{"has space", "quote\"d", strings.Repeat("a", 65)} {
			if id := s.Get("/api/auth:check", s.Root, "X-Request-Id", bad).Header.Get("X-Request-Id"); id == bad || id == "" {
				t.Fatalf("sent %q, got %q", bad, id)
			}
		}
	})
	t.Run("unique across restarts", func(t *testing.T) {
		other := coretest.New(t, core.Config{}) // a second process start: its counter starts again
		a := s.Get("/healthz", "").Header.Get("X-Request-Id")
		b := other.Get("/healthz", "").Header.Get("X-Request-Id")
		c := s.Get("/healthz", "").Header.Get("X-Request-Id")
		if a == b || a == c || b == c {
			t.Fatalf("ids repeat: %q %q %q", a, b, c)
		}
	})
}

// scrape reads /metrics into name{labels} → value.
func scrape(t *testing.T, s *coretest.Server) map[string]float64 {
	t.Helper()
	status, h, body := s.Raw("GET", "/metrics")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s: %s", status, h.Get("Content-Type"), body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("not a sample line: %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"}]}`)
	s.Post("/api/posts:create", s.Root, map[string]any{"title": "a"}).Must(t, 200)
	s.Post("/api/posts:create", s.Root, map[string]any{"title": "b"}).Must(t, 200)
	s.Get("/api/posts:list", s.Root).Must(t, 200)
	s.Get("/api/random-9f3a:zzz", s.Root).Must(t, 404)
	s.Get("/api/posts:list", "").Must(t, 401)
	m := scrape(t, s)
	tests := []struct {
		name   string
		series string
		want   float64 // -1: present with any value
	}{
		{"creates by action and code", `actionflow_http_requests_total{action="posts:create",code="200"}`, 2},
		{"lists", `actionflow_http_requests_total{action="posts:list",code="200"}`, 1},
		{"unknown resources share one label", `actionflow_http_requests_total{action="unknown",code="404"}`, 1},
		{"unauthenticated requests are unknown too", `actionflow_http_requests_total{action="unknown",code="401"}`, 1},
		{"duration histogram", `actionflow_http_request_duration_seconds_count`, -1},
		{"duration buckets", `actionflow_http_request_duration_seconds_bucket{le="+Inf"}`, -1},
		{"lua states", `actionflow_lua_states_in_use`, 0},
		{"store conflict retries", `actionflow_store_conflict_retries_total`, -1},
		{"go runtime", `go_goroutines`, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := m[tc.series]
			if !ok || (tc.want >= 0 && v != tc.want) {
				t.Fatalf("%s = %v (present %v), want %v", tc.series, v, ok, tc.want)
			}
		})
	}
	t.Run("client paths never become labels", func(t *testing.T) {
		for k := range m {
			if strings.Contains(k, "random-9f3a") || strings.Contains(k, "zzz") {
				t.Fatalf("label from a client path: %s", k)
			}
		}
	})
	t.Run("off with DisableMetrics", func(t *testing.T) {
		off := coretest.New(t, core.Config{DisableMetrics: true})
		if status, _, _ := off.Raw("GET", "/metrics"); status != 404 {
			t.Fatalf("status %d, want 404", status)
		}
	})
	t.Run("on its own listener with MetricsAddr", func(t *testing.T) {
		sep := coretest.New(t, core.Config{MetricsAddr: "127.0.0.1:0"})
		if status, _, _ := sep.Raw("GET", "/metrics"); status != 404 {
			t.Fatalf("main listener: status %d, want 404", status)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = sep.App.ServeMetrics(ln) }()
		status, body, err := fasthttp.Get(nil, "http://"+ln.Addr().String()+"/metrics")
		if err != nil || status != 200 || !bytes.Contains(body, []byte("actionflow_lua_states_in_use")) {
			t.Fatalf("metrics listener: %d %v %.200s", status, err, body)
		}
	})
}

// jsonLogs keeps an app's JSON log lines (lockedBuffer, server_test.go).
type jsonLogs struct{ lockedBuffer }

// requests returns the access log lines.
func (l *jsonLogs) requests(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

func TestAccessLog(t *testing.T) {
	logs := &jsonLogs{}
	s := coretest.New(t, core.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	s.Get("/api/auth:check", s.Root, "X-Request-Id", "req-7").Must(t, 200)
	s.Post("/api/auth:signIn", "", map[string]any{"email": "root@actionflow.local", "password": "wrong"}).Must(t, 401)
	lines := logs.requests(t)
	// The first lines are the sign-in of coretest.New.
	var check map[string]any
	for _, l := range lines {
		if l["request"] == "req-7" {
			check = l
		}
	}
	if check == nil {
		t.Fatalf("no access line for req-7 in %v", lines)
	}
	for k, want := range map[string]any{"method": "GET", "path": "/api/auth:check", "status": float64(200), "user": float64(1)} {
		if check[k] != want {
			t.Errorf("%s = %v, want %v (line %v)", k, check[k], want, check)
		}
	}
	if _, ok := check["duration"]; !ok {
		t.Errorf("no duration: %v", check)
	}
	last := lines[len(lines)-1]
	if last["status"] != float64(401) || last["path"] != "/api/auth:signIn" {
		t.Errorf("failed sign-in line: %v", last)
	}
	t.Run("no token or password in the log", func(t *testing.T) {
		all := logs.String()
		if strings.Contains(all, s.Root) || strings.Contains(all, coretest.RootPassword) || strings.Contains(all, "wrong") {
			t.Fatalf("secret in the log: %s", all)
		}
	})
	t.Run("off with DisableAccessLog", func(t *testing.T) {
		quiet := &jsonLogs{}
		q := coretest.New(t, core.Config{DisableAccessLog: true, Logger: slog.New(slog.NewJSONHandler(quiet, nil))})
		q.Get("/api/auth:check", q.Root).Must(t, 200)
		if n := len(quiet.requests(t)); n != 0 {
			t.Fatalf("%d access lines", n)
		}
	})
}

func TestCORS(t *testing.T) {
	exact := coretest.New(t, core.Config{CORSOrigins: []string{"https://app.example"}})
	star := coretest.New(t, core.Config{CORSOrigins: []string{"*"}})
	none := coretest.New(t, core.Config{})
	preflight := []string{"Origin", "https://app.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"}
	tests := []struct {
		name        string
		s           *coretest.Server
		method      string
		headers     []string
		status      int
		allowOrigin string
		credentials string
		vary        string
	}{
		{"preflight of an allowed origin, before auth", exact, "OPTIONS", preflight, 204, "https://app.example", "true", "Origin"},
		{"preflight with *: no credentials", star, "OPTIONS", preflight, 204, "*", "", "Origin"},
		{"preflight of another origin", exact, "OPTIONS", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"}, 403, "", "", "Origin"},
		{"without CORS configured, no headers", none, "OPTIONS", preflight, 401, "", "", ""},
		{"a simple request of an allowed origin", exact, "GET", []string{"Origin", "https://app.example"}, 401, "https://app.example", "true", "Origin"},
		{"a simple request of another origin", exact, "GET", []string{"Origin", "https://evil.example"}, 401, "", "", "Origin"},
		{"a request without Origin still varies on it", exact, "GET", nil, 401, "", "", "Origin"},
		{"a request without Origin, with *", star, "GET", nil, 401, "", "", "Origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := tc.s.Raw(tc.method, "/api/posts:list", tc.headers...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.allowOrigin)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != tc.credentials {
				t.Fatalf("Access-Control-Allow-Credentials %q, want %q", got, tc.credentials)
			}
			if got := h.Get("Vary"); got != tc.vary {
				t.Fatalf("Vary %q, want %q", got, tc.vary)
			}
			if tc.status == 204 && !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Fatalf("preflight allows headers %q", h.Get("Access-Control-Allow-Headers"))
			}
		})
	}
}

// TestBackupUnderWriteLoad backs a running server up while clients create records,
// restores the backup into a new data directory and finds there every record whose
// create was acknowledged before the backup started, whole.
func TestBackupUnderWriteLoad(t *testing.T) {
	if coretest.OnPostgres() {
		t.Skip("backups are badger's; a PostgreSQL store is backed up with PostgreSQL's own tools (TestBackupAccess checks the answer)")
	}
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"notes","fields":[{"name":"n","type":"integer"},{"name":"text","type":"string"}]}`)
	var (
		mu    sync.Mutex
		acked = map[int64]int64{} // id → n
		stop  atomic.Bool
		wg    sync.WaitGroup
		seq   atomic.Int64
		// underWay is closed at the 80th acknowledged create: 50 before the writers start.
		underWay = make(chan struct{})
	)
	write := func() {
		n := seq.Add(1)
		r := s.Post("/api/notes:create", s.Root, map[string]any{"n": n, "text": fmt.Sprintf("note %d", n)})
		if r.Status != 200 {
			t.Errorf("create: %d %s", r.Status, r.Raw)
			return
		}
		mu.Lock()
		acked[coretest.ID(t, r.Obj(t))] = n
		if len(acked) == 80 {
			close(underWay)
		}
		mu.Unlock()
	}
	for range 50 {
		write()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				write()
			}
		}()
	}
	<-underWay // the writers have added acknowledged records of their own
	mu.Lock()
	before := make(map[int64]int64, len(acked))
	for id, n := range acked {
		before[id] = n
	}
	mu.Unlock()
	status, h, backup := s.Raw("GET", "/api/app:backup", "Authorization", "Bearer "+s.Root)
	stop.Store(true)
	wg.Wait()
	if status != 200 || h.Get("Content-Type") != "application/octet-stream" || len(backup) == 0 {
		t.Fatalf("backup: %d %s, %d bytes", status, h.Get("Content-Type"), len(backup))
	}

	dir := filepath.Join(t.TempDir(), "restored")
	if err := store.Restore(dir, bytes.NewReader(backup)); err != nil {
		t.Fatal(err)
	}
	app, err := core.New(core.Config{DataDir: dir, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	base := coretest.ServeTCP(t, app)
	token := signInAt(t, base)
	restored := map[int64]int64{}
	for page := 1; ; page++ {
		var out struct {
			Data []map[string]any `json:"data"`
		}
		getJSON(t, base+fmt.Sprintf("/api/notes:list?pageSize=1000&sort=id&page=%d", page), token, &out)
		for _, rec := range out.Data {
			id, n := coretest.Num(rec["id"]), coretest.Num(rec["n"])
			if rec["text"] != fmt.Sprintf("note %d", n) {
				t.Fatalf("torn record %v", rec)
			}
			restored[id] = n
		}
		if len(out.Data) < 1000 {
			break
		}
	}
	for id, n := range before {
		if restored[id] != n {
			t.Fatalf("acknowledged record %d (n=%d) missing from the restore (%d restored, %d acknowledged before)", id, n, len(restored), len(before))
		}
	}
	t.Logf("%d acknowledged before the backup, %d restored", len(before), len(restored))
}

func TestBackupAccess(t *testing.T) {
	s := coretest.New(t, core.Config{})
	admin := s.User("a@x.io", "admin")
	member := s.User("m@x.io", "member")
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"no token", "", 401},
		{"member", member, 403},
		{"admin", admin, 403},
		{"root", s.Root, 200},
	}
	if coretest.OnPostgres() {
		tests[len(tests)-1].status = 400 // NOT_SUPPORTED: PostgreSQL's own tools back it up
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.token != "" {
				hdr = []string{"Authorization", "Bearer " + tc.token}
			}
			if status, _, body := s.Raw("GET", "/api/app:backup", hdr...); status != tc.status {
				t.Fatalf("status %d, want %d: %.200s", status, tc.status, body)
			}
		})
	}
}

func TestRestoreRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(dir, bytes.NewReader(nil)); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("err %v, want ErrNotEmpty", err)
	}
}

// signInAt signs root in on the server at base and returns the token.
func signInAt(t *testing.T, base string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": "root@actionflow.local", "password": coretest.RootPassword})
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI(base + "/api/auth:signIn")
	req.Header.SetMethod("POST")
	req.SetBody(body)
	if err := fasthttp.DoTimeout(req, res, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(res.Body(), &out); err != nil || out.Data.Token == "" {
		t.Fatalf("sign in: %d %s", res.StatusCode(), res.Body())
	}
	return out.Data.Token
}

// getJSON GETs url with token and decodes the answer into out.
func getJSON(t *testing.T, url, token string, out any) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI(url)
	req.Header.Set("Authorization", "Bearer "+token)
	if err := fasthttp.DoTimeout(req, res, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(res.Body()))
	d.UseNumber()
	if res.StatusCode() != 200 || d.Decode(out) != nil {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode(), res.Body())
	}
}
