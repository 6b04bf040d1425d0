package hello_test

import (
	"net/url"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/examples/hello-plugin/hello"
	"github.com/actionflow/actionflow/plugins/standard"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime/lib"
)

// TestHello serves what "standard.Main(hello.New())" serves — the standard plugins, then
// hello — over an in-memory listener.
func TestHello(t *testing.T) {
	s := coretest.New(t, core.Config{LuaModules: lib.Standard(lib.StdConfig{})},
		core.WithPlugins(append(standard.Plugins(workflow.Config{Workers: 1}), hello.New())...))
	s.Collection(`{"name":"notes","fields":[{"name":"text","type":"string"}]}`)
	s.Post("/api/workflows:create", s.Root, map[string]any{
		"key": "greet-note", "type": "action", "sync": true, "enabled": true,
		"config": map[string]any{"collection": "notes"},
		"script": `local hello = require("hello")
flow.message(hello.greet(ctx.data.text))
return hello.greet("workflow")`,
	}).Must(t, 200)

	tests := []struct {
		name, method, path string
		body               any
		status             int
		check              func(t *testing.T, m map[string]any)
	}{
		{"greet", "GET", "/api/hello:greet?name=Ada", nil, 200, func(t *testing.T, m map[string]any) {
			if g := m["data"].(map[string]any)["greeting"]; g != "hello, Ada" {
				t.Fatalf("greeting %v", g)
			}
		}},
		{"greet without name", "GET", "/api/hello:greet", nil, 400, nil},
		{"create carries the hook's message", "POST", "/api/notes:create", map[string]any{"text": "hi"}, 200, func(t *testing.T, m map[string]any) {
			if got := messages(m); len(got) != 1 || got[0] != "hello from the hello plugin" {
				t.Fatalf("messages %v", got)
			}
		}},
		{"a workflow uses the Lua module", "POST", "/api/notes:create?triggerWorkflows=greet-note", map[string]any{"text": "Ada"}, 200, func(t *testing.T, m map[string]any) {
			// The sync workflow's message, then the hook's (the hook runs after the workflows).
			if got := messages(m); len(got) != 2 || got[0] != "hello, Ada" || got[1] != "hello from the hello plugin" {
				t.Fatalf("messages %v", got)
			}
		}},
		{"the execution's output", "GET", "/api/executions:list?filter=" + url.QueryEscape(`{"key":"greet-note"}`), nil, 200, func(t *testing.T, m map[string]any) {
			list := m["data"].([]any)
			if len(list) != 1 {
				t.Fatalf("executions %v", list)
			}
			x := list[0].(map[string]any)
			if coretest.Num(x["status"]) != 1 || x["output"] != "hello, workflow" {
				t.Fatalf("execution %v", x)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(tc.method, tc.path, s.Root, tc.body).Must(t, tc.status)
			if tc.check != nil {
				tc.check(t, res.Body)
			}
		})
	}
}

func messages(m map[string]any) []string {
	var out []string
	list, _ := m["messages"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any)["message"].(string))
	}
	return out
}
