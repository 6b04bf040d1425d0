package interceptor_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

type env struct{ *workflowtest.Env }

func newEnv(t *testing.T) *env {
	t.Helper()
	wf := workflow.New(workflow.Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(wf, interceptor.New(wf), actiontrigger.New(wf)))
	s.Collection(`{"name":"categories","fields":[{"name":"name","type":"string"},{"name":"posts","type":"hasMany","target":"posts","foreignKey":"categoryId"}]}`)
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string","required":true},{"name":"views","type":"integer"},{"name":"category","type":"belongsTo","target":"categories"}]}`)
	return &env{&workflowtest.Env{Server: s, T: t, Type: interceptor.Type}}
}

// workflow creates an enabled request-interception workflow on posts and returns its key.
func (e *env) workflow(key, script string, cfg map[string]any) string {
	e.T.Helper()
	config := map[string]any{"collection": "posts"}
	for k, v := range cfg {
		config[k] = v
	}
	w := e.Post("/api/workflows:create", e.Root, map[string]any{"key": key, "type": interceptor.Type,
		"enabled": true, "config": config, "script": script}).Must(e.T, 200).Obj(e.T)
	return w["key"].(string)
}

func (e *env) count(filter string) int64 {
	e.T.Helper()
	return int64(len(e.Get("/api/posts:list?pageSize=1000&filter="+url.QueryEscape(filter), e.Root).Must(e.T, 200).List(e.T)))
}

func (e *env) post(title string) int64 {
	e.T.Helper()
	return coretest.ID(e.T, e.Post("/api/posts:create", e.Root, map[string]any{"title": title}).Must(e.T, 200).Obj(e.T))
}

func TestBlocking(t *testing.T) {
	e := newEnv(t)
	e.workflow("deny", `flow.fail("not allowed: " .. (ctx.params.values.title or "-"))`, nil)
	e.workflow("stop", `flow.message("nothing to do") flow.finish()`, nil)
	e.workflow("boom", `local x = nil; return x.y -- secret detail`, nil)
	e.workflow("deny-update", `flow.fail("frozen")`, map[string]any{"global": true, "actions": []any{"update"}})
	e.workflow("deny-destroy", `flow.fail("keep it")`, map[string]any{"global": true, "actions": []any{"destroy"}})
	id := e.post("kept")

	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		msg    string
		key    string
		// check reports what was written, if anything
		check func() bool
	}{
		{"fail blocks create", "/api/posts:create?triggerWorkflows=deny", map[string]any{"title": "x"}, 400, "not allowed: x", "deny",
			func() bool { return e.count(`{"title":"x"}`) == 0 }},
		{"finish answers without writing", "/api/posts:create?triggerWorkflows=stop", map[string]any{"title": "y"}, 200, "", "stop",
			func() bool { return e.count(`{"title":"y"}`) == 0 }},
		{"error is a generic 500", "/api/posts:create?triggerWorkflows=boom", map[string]any{"title": "z"}, 500, workflow.GenericFailure, "boom",
			func() bool { return e.count(`{"title":"z"}`) == 0 }},
		{"global blocks update", fmt.Sprintf("/api/posts:update?filterByTk=%d", id), map[string]any{"title": "changed"}, 400, "frozen", "deny-update",
			func() bool { return e.count(`{"title":"kept"}`) == 1 }},
		{"global blocks destroy", fmt.Sprintf("/api/posts:destroy?filterByTk=%d", id), nil, 400, "keep it", "deny-destroy",
			func() bool { return e.count(`{"title":"kept"}`) == 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(tc.path, e.Root, tc.body).Must(t, tc.status)
			switch {
			case tc.status == 200:
				if r.Body["data"] != nil || fmt.Sprint(r.Body["messages"]) != "[map[message:nothing to do]]" {
					t.Fatalf("finish response %s", r.Raw)
				}
			case r.ErrMsg(t) != tc.msg:
				t.Fatalf("message %q, want %q", r.ErrMsg(t), tc.msg)
			}
			if strings.Contains(string(r.Raw), "secret") || strings.Contains(string(r.Raw), "attempt to index") {
				t.Fatalf("script error leaked: %s", r.Raw)
			}
			if !tc.check() {
				t.Fatal("the intercepted action wrote")
			}
			if n := len(e.Executions(tc.key)); n != 1 {
				t.Fatalf("%d executions of %s", n, tc.key)
			}
		})
	}
}

func TestValues(t *testing.T) {
	e := newEnv(t)
	e.workflow("fix", `local v = ctx.params.values
		v.title = string.upper(v.title or "untitled")
		v.views = (v.views or 0) + 1`, nil)
	e.workflow("bad-type", `ctx.params.values.views = "many"`, nil)
	e.workflow("drop-required", `ctx.params.values.title = nil`, nil)
	e.workflow("list", `ctx.params.values = {1, 2}`, nil)
	e.workflow("a", `ctx.params.values.title = ctx.params.values.title .. "a"`, nil)
	e.workflow("b", `ctx.params.values.title = ctx.params.values.title .. "b"`, nil)
	e.workflow("g", `local v = ctx.params.values
		if type(v.title) == "string" then v.title = v.title .. "g" end`, map[string]any{"global": true, "actions": []any{"create"}})

	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		want   map[string]any // fields of the created record
		msg    string
	}{
		{"fixed and filled", "/api/posts:create?triggerWorkflows=fix", map[string]any{"title": "hello"}, 200,
			map[string]any{"title": "HELLOg", "views": "1"}, ""},
		{"filled a missing required field", "/api/posts:create?triggerWorkflows=fix", map[string]any{"views": 41}, 200,
			map[string]any{"title": "UNTITLEDg", "views": "42"}, ""},
		{"wrong type rejected by validation", "/api/posts:create?triggerWorkflows=bad-type", map[string]any{"title": "t1"}, 400, nil, "views"},
		{"required field removed", "/api/posts:create?triggerWorkflows=drop-required", map[string]any{"title": "t2"}, 400, nil, "title"},
		{"values left as a list", "/api/posts:create?triggerWorkflows=list", map[string]any{"title": "t3"}, 400, nil, "values"},
		{"locals in list order then globals", "/api/posts:create?triggerWorkflows=b,a,b,unknown", map[string]any{"title": "x"}, 200,
			map[string]any{"title": "xbag"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(tc.path, e.Root, tc.body).Must(t, tc.status)
			if tc.status != 200 {
				if !strings.Contains(r.ErrMsg(t)+fmt.Sprint(r.Body["errors"]), tc.msg) {
					t.Fatalf("error %s does not name %q", r.Raw, tc.msg)
				}
				if n := e.count(fmt.Sprintf(`{"title":%q}`, tc.body["title"])); n != 0 {
					t.Fatal("a rejected request wrote")
				}
				return
			}
			rec := r.Obj(t)
			for k, v := range tc.want {
				if fmt.Sprint(rec[k]) != v {
					t.Fatalf("%s = %v, want %v (record %v)", k, rec[k], v, rec)
				}
			}
		})
	}
}

func TestContextAndScope(t *testing.T) {
	e := newEnv(t)
	e.workflow("seen", `flow.message(ctx.roleName) return ctx`, map[string]any{"global": true, "actions": []any{"update"}})
	e.workflow("other", `flow.fail("wrong collection")`, map[string]any{"collection": "categories"})
	e.Post("/api/workflows:create", e.Root, map[string]any{"key": "post", "type": "action", "enabled": true, "sync": true,
		"config": map[string]any{"collection": "posts"}, "script": `flow.message("after")`}).Must(t, 200)
	id := e.post("a")

	t.Run("params, user and role", func(t *testing.T) {
		f := url.QueryEscape(`{"title":"a"}`)
		r := e.Post("/api/posts:update?filter="+f+"&triggerWorkflows=post", e.Root, map[string]any{"views": 3}).Must(t, 200)
		if fmt.Sprint(r.Body["messages"]) != "[map[message:root] map[message:after]]" {
			t.Fatalf("messages %v: the interceptor's come first, then the post-action ones", r.Body["messages"])
		}
		x := e.Executions("seen")
		out := x[len(x)-1]["output"].(map[string]any)
		params := out["params"].(map[string]any)
		if fmt.Sprint(params["filter"]) != "map[title:a]" || params["filterByTk"] != nil || fmt.Sprint(params["values"]) != "map[views:3]" {
			t.Fatalf("params %v", params)
		}
		user := out["user"].(map[string]any)
		if user["email"] != "root@actionflow.local" || user["password"] != nil || out["roleName"] != "root" {
			t.Fatalf("user %v role %v", user, out["roleName"])
		}
	})
	t.Run("filterByTk", func(t *testing.T) {
		e.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", id), e.Root, map[string]any{"views": 4}).Must(t, 200)
		x := e.Executions("seen")
		if v := x[len(x)-1]["output"].(map[string]any)["params"].(map[string]any)["filterByTk"]; coretest.Num(v) != id {
			t.Fatalf("filterByTk %v", v)
		}
	})
	t.Run("a workflow of another collection does not fire", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows=other", e.Root, map[string]any{"title": "b"}).Must(t, 200)
		if n := len(e.Executions("other")); n != 0 {
			t.Fatalf("%d executions", n)
		}
	})
	t.Run("association resource", func(t *testing.T) {
		e.workflow("assoc", `ctx.params.values.title = "via category"`, nil)
		cat := coretest.ID(t, e.Post("/api/categories:create", e.Root, map[string]any{"name": "c"}).Must(t, 200).Obj(t))
		rec := e.Post(fmt.Sprintf("/api/categories/%d/posts:create?triggerWorkflows=assoc", cat), e.Root, map[string]any{"title": "x"}).Must(t, 200).Obj(t)
		if rec["title"] != "via category" {
			t.Fatalf("record %v", rec)
		}
	})
	t.Run("permissions are checked before any script", func(t *testing.T) {
		e.workflow("never", `flow.fail("ran")`, nil)
		e.Post("/api/roles:create", e.Root, map[string]any{"name": "readonly", "permissions": map[string]any{"posts": []any{"list"}}}).Must(t, 200)
		ro := e.User("ro@x.io", "readonly")
		e.Post("/api/posts:create?triggerWorkflows=never", ro, map[string]any{"title": "no"}).Must(t, 403)
		if n := len(e.Executions("never")); n != 0 {
			t.Fatalf("the interceptor ran for a forbidden request (%d executions)", n)
		}
	})
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		config map[string]any
		msg    string
	}{
		{"no collection", map[string]any{}, "collection is required"},
		{"unknown collection", map[string]any{"collection": "nope"}, "does not exist"},
		{"system collection", map[string]any{"collection": "users"}, "system"},
		{"bad action", map[string]any{"collection": "posts", "global": true, "actions": []any{"list"}}, "actions"},
		{"bad global", map[string]any{"collection": "posts", "global": "yes"}, "global"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post("/api/workflows:create", e.Root, map[string]any{"type": interceptor.Type, "config": tc.config, "script": "return 1"}).Must(t, 400)
			if !strings.Contains(r.ErrMsg(t), tc.msg) {
				t.Fatalf("error %q lacks %q", r.ErrMsg(t), tc.msg)
			}
		})
	}
	t.Run("manual execute", func(t *testing.T) {
		w := e.Post("/api/workflows:create", e.Root, map[string]any{"type": interceptor.Type,
			"config": map[string]any{"collection": "posts"}, "script": "ctx.params.values.n = ctx.params.values.n + 1 return ctx.params"}).Must(t, 200).Obj(t)
		r := e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, w)), e.Root,
			map[string]any{"userId": 1, "values": map[string]any{"n": 1}, "filterByTk": 7}).Must(t, 200).Obj(t)
		x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.ID(t, r["execution"].(map[string]any))), e.Root).Must(t, 200).Obj(t)
		out, _ := x["output"].(map[string]any)
		if fmt.Sprint(out["values"]) != "map[n:2]" || coretest.Num(out["filterByTk"]) != 7 || x["manually"] != true {
			t.Fatalf("execution %v", x)
		}
		e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, w)), e.Root, map[string]any{"values": map[string]any{}}).Must(t, 400)
	})
	t.Run("manual execute with params", func(t *testing.T) {
		w := e.Post("/api/workflows:create", e.Root, map[string]any{"type": interceptor.Type,
			"config": map[string]any{"collection": "posts"}, "script": "ctx.params.values.n = ctx.params.values.n + 1 return ctx.params"}).Must(t, 200).Obj(t)
		url := fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, w))
		r := e.Post(url, e.Root, map[string]any{"userId": 1, "params": map[string]any{"values": map[string]any{"n": 1}, "filterByTk": 7}}).Must(t, 200).Obj(t)
		x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.ID(t, r["execution"].(map[string]any))), e.Root).Must(t, 200).Obj(t)
		out, _ := x["output"].(map[string]any)
		if fmt.Sprint(out["values"]) != "map[n:2]" || coretest.Num(out["filterByTk"]) != 7 {
			t.Fatalf("execution %v", x)
		}
		bad := []struct {
			name string
			body map[string]any
			msg  string
		}{
			{"params not an object", map[string]any{"userId": 1, "params": 3}, "params"},
			{"unknown params field", map[string]any{"userId": 1, "params": map[string]any{"vals": 1}}, "params.vals"},
			{"unknown field", map[string]any{"userId": 1, "parms": map[string]any{}}, "parms"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				if msg := e.Post(url, e.Root, tc.body).Must(t, 400).ErrMsg(t); !strings.Contains(msg, tc.msg) {
					t.Fatalf("error %q lacks %q", msg, tc.msg)
				}
			})
		}
	})
	t.Run("always sync", func(t *testing.T) {
		w := e.Post("/api/workflows:create", e.Root, map[string]any{"type": interceptor.Type, "sync": false,
			"config": map[string]any{"collection": "posts"}, "script": "return 1"}).Must(t, 200).Obj(t)
		if w["sync"] != true {
			t.Fatalf("sync = %v", w["sync"])
		}
	})
}
