// Package coretest serves an actionflow App over an in-memory listener for tests, with a
// small JSON client: the way plugin and example tests talk to the HTTP API. ServeTCP serves
// one on loopback for tests that run a real client or process.
package coretest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/store/storetest"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// RootPassword is the root user's password in test servers.
const RootPassword = "root-secret"

// Server is an App served over an in-memory listener.
type Server struct {
	t      testing.TB
	App    *core.App
	Client *fasthttp.Client
	Root   string // root's token
}

// StoreEnv selects the store of test servers: unset, in-memory badger; "postgres", a fresh
// schema on the PostgreSQL server of ACTIONFLOW_TEST_POSTGRES (see storetest.Postgres).
const StoreEnv = "ACTIONFLOW_TEST_STORE"

// OnPostgres reports whether New builds its apps on PostgreSQL (ACTIONFLOW_TEST_STORE).
func OnPostgres() bool { return os.Getenv(StoreEnv) == "postgres" }

// New serves an App built from cfg (in memory, with RootPassword and a cheap bcrypt cost)
// and signs root in. With ACTIONFLOW_TEST_STORE=postgres the App's store is a fresh
// PostgreSQL schema.
func New(t testing.TB, cfg core.Config, opts ...core.Option) *Server {
	t.Helper()
	url := ""
	switch v := os.Getenv(StoreEnv); v {
	case "", "badger":
	case "postgres":
		url = storetest.Postgres(t)
	default:
		t.Fatalf("coretest: %s=%q: want postgres or nothing", StoreEnv, v)
	}
	return NewOn(t, cfg, url, opts...)
}

// NewOn is New on the store at url: "" for an in-memory badger store, or a postgres:// URL
// (storetest.Postgres makes a fresh one). Servers made on one PostgreSQL URL are nodes of
// one deployment, sharing its store.
func NewOn(t testing.TB, cfg core.Config, url string, opts ...core.Option) *Server {
	t.Helper()
	cfg.InMemory, cfg.Store = true, url
	return serve(t, cfg, opts...)
}

// NewNodes serves n Apps on one fresh PostgreSQL schema, as n nodes of one deployment,
// started in order; opts(i, started) are the options of node i, called once the nodes
// before it (started) serve, so it may prepare the store through them. Without
// ACTIONFLOW_TEST_POSTGRES the test is skipped (fails when CI=true).
func NewNodes(t testing.TB, n int, cfg core.Config, opts func(i int, started []*Server) []core.Option) []*Server {
	t.Helper()
	cfg.InMemory, cfg.Store = true, storetest.Postgres(t)
	nodes := make([]*Server, n)
	for i := range nodes {
		nodes[i] = serve(t, cfg, opts(i, nodes[:i])...)
	}
	return nodes
}

func serve(t testing.TB, cfg core.Config, opts ...core.Option) *Server {
	t.Helper()
	cfg.BcryptCost = 4
	cfg.RootPassword = RootPassword
	app, err := core.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = app.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.Shutdown(ctx)
		_ = app.Close(ctx)
	})
	s := &Server{t: t, App: app, Client: &fasthttp.Client{
		Dial:                func(string) (net.Conn, error) { return ln.Dial() },
		MaxConnsPerHost:     512,
		MaxResponseBodySize: 64 << 20,
	}}
	s.Root = s.SignIn("root@actionflow.local", RootPassword)
	return s
}

// Response is a decoded response.
type Response struct {
	Status int
	Body   map[string]any
	Raw    string
	// Header holds the response headers.
	Header http.Header
}

// Do sends a request; body may be nil, a string (sent as is) or a value (sent as JSON).
func (s *Server) Do(method, path, token string, body any, headers ...string) Response {
	s.t.Helper()
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://actionflow" + path)
	req.Header.SetMethod(method)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	switch b := body.(type) {
	case nil:
	case string:
		req.SetBodyString(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		req.SetBody(j)
	}
	if err := s.Client.DoTimeout(req, res, 30*time.Second); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := Response{Status: res.StatusCode(), Raw: string(res.Body()), Header: http.Header{}}
	res.Header.VisitAll(func(k, v []byte) { r.Header.Add(string(k), string(v)) })
	if ct := string(res.Header.ContentType()); !strings.HasPrefix(ct, "application/json") {
		s.t.Fatalf("%s %s: content type %q, body %s", method, path, ct, r.Raw)
	}
	d := json.NewDecoder(bytes.NewReader(res.Body()))
	d.UseNumber()
	if err := d.Decode(&r.Body); err != nil {
		s.t.Fatalf("%s %s: response is not a JSON object: %v: %s", method, path, err, r.Raw)
	}
	return r
}

// Post sends a POST.
func (s *Server) Post(path, token string, body any, headers ...string) Response {
	s.t.Helper()
	return s.Do("POST", path, token, body, headers...)
}

// Get sends a GET.
func (s *Server) Get(path, token string, headers ...string) Response {
	s.t.Helper()
	return s.Do("GET", path, token, nil, headers...)
}

// Must asserts the status and returns the response.
func (r Response) Must(t testing.TB, status int) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// Obj returns the "data" member as an object.
func (r Response) Obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.Body["data"].(map[string]any)
	if !ok {
		t.Fatalf("data is not an object: %s", r.Raw)
	}
	return m
}

// List returns the "data" member as a list of objects.
func (r Response) List(t testing.TB) []map[string]any {
	t.Helper()
	a, ok := r.Body["data"].([]any)
	if !ok {
		t.Fatalf("data is not a list: %s", r.Raw)
	}
	out := make([]map[string]any, len(a))
	for i, e := range a {
		out[i], _ = e.(map[string]any)
	}
	return out
}

// ErrMsg returns the first error message.
func (r Response) ErrMsg(t testing.TB) string {
	t.Helper()
	errs, ok := r.Body["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("no errors in %s", r.Raw)
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

// SignIn signs in and returns the token.
func (s *Server) SignIn(email, password string) string {
	s.t.Helper()
	r := s.Post("/api/auth:signIn", "", map[string]any{"email": email, "password": password}).Must(s.t, 200)
	tok, _ := r.Obj(s.t)["token"].(string)
	if tok == "" {
		s.t.Fatalf("no token: %s", r.Raw)
	}
	return tok
}

// User makes a user with the roles and returns its token.
func (s *Server) User(email string, roles ...string) string {
	s.t.Helper()
	rs := make([]any, len(roles))
	for i, r := range roles {
		rs[i] = r
	}
	s.Post("/api/users:create", s.Root, map[string]any{"email": email, "password": "pw-" + email, "roles": rs}).Must(s.t, 200)
	return s.SignIn(email, "pw-"+email)
}

// Collection creates a collection from a JSON definition.
func (s *Server) Collection(def string) {
	s.t.Helper()
	s.Post("/api/collections:create", s.Root, def).Must(s.t, 200)
}

// Num reads a JSON number as an integer.
func Num(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			f, _ := x.Float64()
			return int64(f)
		}
		return n
	case float64:
		return int64(x)
	}
	panic(fmt.Sprintf("not a number: %#v", v))
}

// ID reads a record's id.
func ID(t testing.TB, m map[string]any) int64 {
	t.Helper()
	return Num(m["id"])
}

// ServeTCP serves app on a loopback TCP port until the test ends (then it shuts the app
// down and closes it) and returns its base URL, for tests that drive a real client or
// process against it.
func ServeTCP(t testing.TB, app *core.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = app.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = app.Shutdown(ctx)
		<-served
		_ = app.Close(ctx)
	})
	return "http://" + ln.Addr().String()
}

// Raw sends a request without a body and returns the response as it is, for answers that
// are not JSON (/metrics, a backup).
func (s *Server) Raw(method, path string, headers ...string) (status int, header http.Header, body []byte) {
	s.t.Helper()
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://actionflow" + path)
	req.Header.SetMethod(method)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if err := s.Client.DoTimeout(req, res, 30*time.Second); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	header = http.Header{}
	res.Header.VisitAll(func(k, v []byte) { header.Add(string(k), string(v)) })
	return res.StatusCode(), header, append([]byte(nil), res.Body()...)
}
