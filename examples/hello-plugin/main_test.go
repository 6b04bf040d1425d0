package main

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

func TestHelloPlugin(t *testing.T) {
	app, err := core.New(core.Config{InMemory: true, BcryptCost: 4, RootPassword: "pw"}, core.WithPlugins(Hello{}))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = app.Serve(ln) }()
	defer app.Shutdown(context.Background())
	client := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}

	call := func(method, path, token, body string) (int, map[string]any) {
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		req.SetRequestURI("http://x" + path)
		req.Header.SetMethod(method)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.SetBodyString(body)
		if err := client.Do(req, res); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(res.Body(), &m); err != nil {
			t.Fatalf("%s: %s", path, res.Body())
		}
		return res.StatusCode(), m
	}
	_, m := call("POST", "/api/auth:signIn", "", `{"email":"root@actionflow.local","password":"pw"}`)
	token := m["data"].(map[string]any)["token"].(string)

	tests := []struct {
		name, method, path, body string
		status                   int
		check                    func(map[string]any) bool
	}{
		{"greet", "GET", "/api/hello:greet?name=Ada", "", 200, func(m map[string]any) bool {
			return m["data"].(map[string]any)["greeting"] == "hello, Ada"
		}},
		{"greet without name", "GET", "/api/hello:greet", "", 400, nil},
		{"collection", "POST", "/api/collections:create", `{"name":"notes","fields":[{"name":"text","type":"string"}]}`, 200, nil},
		{"create carries the hook's message", "POST", "/api/notes:create", `{"text":"hi"}`, 200, func(m map[string]any) bool {
			msgs, _ := m["messages"].([]any)
			return len(msgs) == 1 && msgs[0].(map[string]any)["message"] == "hello from the hello plugin"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, m := call(tc.method, tc.path, token, tc.body)
			if status != tc.status {
				t.Fatalf("status %d: %v", status, m)
			}
			if tc.check != nil && !tc.check(m) {
				t.Fatalf("unexpected body %v", m)
			}
		})
	}
}
