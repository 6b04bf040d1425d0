package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

const rootPassword = "root-secret"

// server is an App served over an in-memory listener.
type server struct {
	t      testing.TB
	app    *core.App
	client *fasthttp.Client
	root   string // root's token
}

func newServer(t testing.TB, cfg core.Config, opts ...core.Option) *server {
	t.Helper()
	cfg.InMemory = true
	cfg.BcryptCost = 4
	cfg.RootPassword = rootPassword
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
	s := &server{t: t, app: app, client: &fasthttp.Client{
		Dial:               func(string) (net.Conn, error) { return ln.Dial() },
		MaxConnsPerHost:    512,
		MaxResponseBodySize: 64 << 20,
	}}
	s.root = s.signIn("root@actionflow.local", rootPassword)
	return s
}

// resp is a decoded response.
type resp struct {
	Status int
	Body   map[string]any
	Raw    string
}

// do sends a request; body may be nil, a string (sent as is) or a value (sent as JSON).
func (s *server) do(method, path, token string, body any, headers ...string) resp {
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
	if err := s.client.DoTimeout(req, res, 30*time.Second); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := resp{Status: res.StatusCode(), Raw: string(res.Body())}
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

func (s *server) post(path, token string, body any, headers ...string) resp {
	s.t.Helper()
	return s.do("POST", path, token, body, headers...)
}

func (s *server) get(path, token string, headers ...string) resp {
	s.t.Helper()
	return s.do("GET", path, token, nil, headers...)
}

// must asserts the status and returns the response.
func (r resp) must(t testing.TB, status int) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// data returns the "data" member as an object.
func (r resp) obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.Body["data"].(map[string]any)
	if !ok {
		t.Fatalf("data is not an object: %s", r.Raw)
	}
	return m
}

// list returns the "data" member as a list of objects.
func (r resp) list(t testing.TB) []map[string]any {
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

// errMsg returns the first error message.
func (r resp) errMsg(t testing.TB) string {
	t.Helper()
	errs, ok := r.Body["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("no errors in %s", r.Raw)
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

func (s *server) signIn(email, password string) string {
	s.t.Helper()
	r := s.post("/api/auth:signIn", "", map[string]any{"email": email, "password": password}).must(s.t, 200)
	tok, _ := r.obj(s.t)["token"].(string)
	if tok == "" {
		s.t.Fatalf("no token: %s", r.Raw)
	}
	return tok
}

// user makes a user with the roles and returns its token.
func (s *server) user(email string, roles ...string) string {
	s.t.Helper()
	rs := make([]any, len(roles))
	for i, r := range roles {
		rs[i] = r
	}
	s.post("/api/users:create", s.root, map[string]any{"email": email, "password": "pw-" + email, "roles": rs}).must(s.t, 200)
	return s.signIn(email, "pw-"+email)
}

// collection creates a collection from a JSON definition.
func (s *server) collection(def string) {
	s.t.Helper()
	s.post("/api/collections:create", s.root, def).must(s.t, 200)
}

func num(v any) int64 {
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

func idOf(t testing.TB, m map[string]any) int64 {
	t.Helper()
	return num(m["id"])
}

func coreConfigBody(n int) core.Config { return core.Config{MaxBodyBytes: n} }
