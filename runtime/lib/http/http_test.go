package http_test

import (
	"context"
	"errors"
	"io"
	gohttp "net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/runtime"
	luahttp "github.com/actionflow/actionflow/runtime/lib/http"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := gohttp.NewServeMux()
	mux.HandleFunc("/echo", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(201)
		io.WriteString(w, r.Header.Get("X-Token")+"|"+string(b))
	})
	mux.HandleFunc("/big", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		io.WriteString(w, strings.Repeat("x", 2000))
	})
	mux.HandleFunc("/slow", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/redirect-out", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		gohttp.Redirect(w, r, "http://example.invalid/", gohttp.StatusFound)
	})
	mux.HandleFunc("/redirect-in", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		gohttp.Redirect(w, r, "/echo", gohttp.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func engine(t *testing.T, cfg luahttp.Config, timeout time.Duration) *runtime.Engine {
	t.Helper()
	e, err := runtime.New(runtime.Config{Workers: 1, Timeout: timeout}, luahttp.Module(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func run(t *testing.T, e *runtime.Engine, src string, globals map[string]any) *runtime.Result {
	t.Helper()
	s, err := e.Compile("http", src)
	if err != nil {
		t.Fatal(err)
	}
	return e.Run(context.Background(), runtime.Request{Script: s, Globals: globals})
}

func TestRequests(t *testing.T) {
	srv := server(t)
	u, _ := url.Parse(srv.URL)
	e := engine(t, luahttp.Config{AllowHosts: []string{u.Hostname()}, MaxBody: 1000, Timeout: 5 * time.Second}, 10*time.Second)
	g := map[string]any{"base": srv.URL}
	cases := []struct {
		name string
		src  string
		want any
	}{
		{"get", `local r = require("http").get(base .. "/echo", {["X-Token"] = "t1"}) return {r.status, r.body, r.headers["x-method"], r.headers["x-multi"]}`,
			[]any{int64(201), "t1|", "GET", "a, b"}},
		{"post", `local r = require("http").post(base .. "/echo", "payload") return {r.status, r.body, r.headers["x-method"]}`,
			[]any{int64(201), "|payload", "POST"}},
		{"request", `local r = require("http").request{method = "put", url = base .. "/echo", body = "b", headers = {["X-Token"] = 7}} return {r.body, r.headers["x-method"]}`,
			[]any{"7|b", "PUT"}},
		{"redirect to an allowed host", `return require("http").get(base .. "/redirect-in").body`, "|"},
		{"redirect to another host", `local r, err = require("http").get(base .. "/redirect-out") return err`,
			`http: GET ` + srv.URL + `/redirect-out: host "example.invalid" is not allowed`},
		{"body over the cap", `local r, err = require("http").get(base .. "/big") return err`,
			`http: GET ` + srv.URL + `/big: response body larger than 1000 bytes`},
		{"host not allowed", `local r, err = require("http").get("http://example.com/") return err`, `http: host "example.com" is not allowed`},
		{"scheme not allowed", `local r, err = require("http").get("file:///etc/passwd") return err`, `http: scheme "file" not allowed (http or https only)`},
		{"bad method", `local r, err = require("http").request{method = "TRACE", url = base} return err`, `http: method "TRACE" not supported`},
		{"request timeout", `local r, err = require("http").request{url = base .. "/slow", timeout = 0.05} return err ~= nil and err:find("deadline") ~= nil`, true},
		{"bad headers raise", `return pcall(require("http").get, base, {1, 2})`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, e, tc.src, g)
			if res.Err != nil || !reflect.DeepEqual(res.Output, tc.want) {
				t.Fatalf("got %#v (%v), want %#v", res.Output, res.Err, tc.want)
			}
		})
	}
}

func TestDisabledByDefault(t *testing.T) {
	srv := server(t)
	e := engine(t, luahttp.Config{}, time.Second)
	res := run(t, e, `local r, err = require("http").get(base .. "/echo") return err`, map[string]any{"base": srv.URL})
	if res.Err != nil || res.Output != "http: outbound requests are disabled (no allowed hosts configured)" {
		t.Fatalf("got %#v (%v)", res.Output, res.Err)
	}
}

func TestRunDeadline(t *testing.T) {
	srv := server(t)
	u, _ := url.Parse(srv.URL)
	e := engine(t, luahttp.Config{AllowHosts: []string{u.Host}}, 100*time.Millisecond)
	start := time.Now()
	res := run(t, e, `local r, err = require("http").get(base .. "/slow") return err`, map[string]any{"base": srv.URL})
	if !errors.Is(res.Err, runtime.ErrTimeout) {
		t.Fatalf("err = %v (output %#v), want ErrTimeout", res.Err, res.Output)
	}
	if d := time.Since(start); d > 100*time.Millisecond+2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// offline is a transport that never touches the network.
type offline struct{}

func (offline) RoundTrip(*gohttp.Request) (*gohttp.Response, error) {
	return nil, errors.New("offline")
}

func TestAllowList(t *testing.T) {
	e := engine(t, luahttp.Config{AllowHosts: []string{"api.example.com", "*.hooks.test", "127.0.0.1:9"}, Transport: offline{}}, time.Second)
	cases := []struct {
		url     string
		allowed bool
	}{
		{"https://api.example.com/x", true},
		{"http://API.example.com:8080/x", true},
		{"https://evil.com/api.example.com", false},
		{"https://api.example.com.evil.com/", false},
		{"https://a.hooks.test/", true},
		{"https://hooks.test/", false},
		{"http://127.0.0.1:9/", true},
		{"http://127.0.0.1:10/", false},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			res := run(t, e, `local r, err = require("http").get(u) return err`, map[string]any{"u": tc.url})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			msg := res.Output.(string)
			refused := strings.Contains(msg, "not allowed")
			if !refused && !strings.HasSuffix(msg, "offline") {
				t.Fatalf("unexpected error %q", msg)
			}
			if refused == tc.allowed {
				t.Fatalf("allowed = %v, want %v (%v)", !refused, tc.allowed, res.Output)
			}
		})
	}
}
