package interceptor_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core/coretest"
)

// spy is a script that leaves a trace when it runs: a category named after the request.
const spy = `local db = require("db")
db.create("categories", {name = "spy saw " .. tostring(ctx.params.values.title)})
return ctx.params.values`

// TestTypedValues: pre-action scripts see values already type-checked (API.md §2): a
// client's wrong type, an unknown field or a body that is not an object is a 400 before
// any script runs.
func TestTypedValues(t *testing.T) {
	e := newEnv(t)
	e.Collection(`{"name":"events","fields":[{"name":"name","type":"string"},{"name":"at","type":"date"},{"name":"n","type":"integer"},{"name":"data","type":"json"}]}`)
	e.workflow("spy", spy, nil)
	e.workflow("spy-global", spy, map[string]any{"global": true, "actions": []any{"update"}})
	e.workflow("echo", `return ctx.params.values`, map[string]any{"collection": "events"})
	id := e.post("kept")

	spied := func(t *testing.T) int {
		t.Helper()
		n := 0
		for _, c := range e.Get("/api/categories:list?pageSize=1000", e.Root).Must(t, 200).List(t) {
			if strings.HasPrefix(fmt.Sprint(c["name"]), "spy saw") {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name string
		path string
		body any
		msg  string
	}{
		{"a number for a string field", "/api/posts:create?triggerWorkflows=spy", map[string]any{"title": 42}, "title: must be a string"},
		{"an object for an integer field", "/api/posts:create?triggerWorkflows=spy", map[string]any{"title": "t", "views": map[string]any{"a": 1}}, "views: must be an integer"},
		{"an unknown field", "/api/posts:create?triggerWorkflows=spy", map[string]any{"title": "t", "nope": 1}, "nope: unknown field"},
		{"a bad association id", "/api/posts:create?triggerWorkflows=spy", map[string]any{"title": "t", "category": "x"}, "category:"},
		{"a JSON array body", "/api/posts:create?triggerWorkflows=spy", `[{"title":"t"}]`, "body: must be a JSON object"},
		{"a JSON string body", "/api/posts:create?triggerWorkflows=spy", `"t"`, "body: must be a JSON object"},
		{"a global one on update", fmt.Sprintf("/api/posts:update?filterByTk=%d", id), map[string]any{"title": true}, "title: must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(tc.path, e.Root, tc.body).Must(t, 400)
			if !strings.HasPrefix(r.ErrMsg(t), tc.msg) {
				t.Fatalf("message %q, want %q…", r.ErrMsg(t), tc.msg)
			}
			if n := spied(t); n != 0 {
				t.Fatalf("the script ran (%d traces)", n)
			}
			if n := len(e.Executions("spy")) + len(e.Executions("spy-global")); n != 0 {
				t.Fatalf("%d executions", n)
			}
		})
	}
	t.Run("the script sees the checked form", func(t *testing.T) {
		e.Post("/api/events:create?triggerWorkflows=echo", e.Root,
			`{"name":"e","at":"2024-03-01","n":4.0,"data":{"k":[1,2.5]}}`).Must(t, 200)
		x := e.Executions("echo")
		out, _ := x[len(x)-1]["output"].(map[string]any)
		if out["at"] != "2024-03-01T00:00:00.000Z" || coretest.Num(out["n"]) != 4 || fmt.Sprint(out["data"]) != "map[k:[1 2.5]]" {
			t.Fatalf("values %v", out)
		}
	})
	t.Run("required is checked after the scripts", func(t *testing.T) {
		e.workflow("fill", `ctx.params.values.title = "filled"`, nil)
		rec := e.Post("/api/posts:create?triggerWorkflows=fill", e.Root, map[string]any{"views": 1}).Must(t, 200).Obj(t)
		if rec["title"] != "filled" {
			t.Fatalf("record %v", rec)
		}
	})
}

// TestRolesAndIgnored: config.roles limits who fires a pre-action workflow, and a key is
// reported ignored only when no trigger of the request fired it.
func TestRolesAndIgnored(t *testing.T) {
	e := newEnv(t)
	e.workflow("admins-only", `flow.fail("stopped")`, map[string]any{"roles": []any{"admin"}})
	e.workflow("admins-only-global", `flow.fail("stopped by a global")`, map[string]any{"global": true, "actions": []any{"create"}, "roles": []any{"admin"}})
	e.workflow("members", `ctx.params.values.title = "checked"`, map[string]any{"roles": []any{"member"}})
	e.Post("/api/workflows:create", e.Root, map[string]any{"key": "after", "type": "action", "enabled": true, "sync": true,
		"config": map[string]any{"collection": "posts"}, "script": `flow.message("after")`}).Must(t, 200)
	member := e.User("m@x.io", "member")
	admin := e.User("a@x.io", "admin")
	id := e.post("kept")

	tests := []struct {
		name    string
		token   string
		path    string
		status  int
		ignored string
	}{
		{"a role left out is not stopped", member, "/api/posts:create?triggerWorkflows=admins-only", 200, "admins-only"},
		{"a listed role fires it", admin, "/api/posts:create?triggerWorkflows=admins-only", 400, ""},
		{"a global one fires for its roles only", admin, "/api/posts:create", 400, ""},
		{"allowed, with a post-action key: nothing ignored", member, "/api/posts:create?triggerWorkflows=members,after", 200, ""},
		{"a post-action key on destroy", e.Root, fmt.Sprintf("/api/posts:destroy?filterByTk=%d&triggerWorkflows=after", id), 200, "after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any = map[string]any{"title": "x"}
			if strings.Contains(tc.path, "destroy") {
				body = nil
			}
			r := e.Post(tc.path, tc.token, body).Must(t, tc.status)
			meta, _ := r.Body["meta"].(map[string]any)
			if got := fmt.Sprint(meta["ignoredWorkflows"]); tc.ignored != "" && got != "["+tc.ignored+"]" || tc.ignored == "" && meta != nil {
				t.Fatalf("meta %v, want ignoredWorkflows [%s]", meta, tc.ignored)
			}
		})
	}
	t.Run("the allowed one changed the values", func(t *testing.T) {
		if n := e.count(`{"title":"checked"}`); n != 1 {
			t.Fatalf("%d checked posts", n)
		}
	})
}
