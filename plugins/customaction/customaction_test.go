package customaction_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/customaction"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

// writes counts record writes to data (non-system) collections: a custom action writes none.
type writes struct{ n atomic.Int64 }

func (w *writes) Name() string { return "writecounter" }

func (w *writes) Init(h *core.Host) error {
	h.OnRecord(func(_ *core.Tx, ev *core.RecordEvent) error {
		if !ev.Collection.System {
			w.n.Add(1)
		}
		return nil
	})
	return nil
}

type env struct {
	*workflowtest.Env
	writes *writes
}

func newEnv(t *testing.T) *env {
	t.Helper()
	wf := workflow.New(workflow.Config{Workers: 2, SweepInterval: time.Hour})
	w := &writes{}
	s := coretest.New(t, core.Config{}, core.WithPlugins(wf, customaction.New(wf), w))
	s.Collection(`{"name":"customers","fields":[{"name":"name","type":"string"}]}`)
	s.Collection(`{"name":"orders","fields":[{"name":"title","type":"string","required":true},{"name":"total","type":"integer"},{"name":"customer","type":"belongsTo","target":"customers"}]}`)
	s.Collection(`{"name":"notes","fields":[{"name":"text","type":"string"}]}`)
	e := &env{Env: &workflowtest.Env{Server: s, T: t, Type: customaction.Type}, writes: w}
	c := coretest.ID(t, s.Post("/api/customers:create", s.Root, map[string]any{"name": "Ada"}).Must(t, 200).Obj(t))
	for i, title := range []string{"first", "second", "third"} {
		s.Post("/api/orders:create", s.Root, map[string]any{"title": title, "total": (i + 1) * 10, "customerId": c}).Must(t, 200)
	}
	return e
}

// at is e for a subtest: helpers fail t, not the parent test.
func (e *env) at(t *testing.T) *env { return &env{Env: e.Env.At(t), writes: e.writes} }

// order reads an order as stored.
func (e *env) order(id int) map[string]any {
	e.T.Helper()
	return e.Get(fmt.Sprintf("/api/orders:get?filterByTk=%d", id), e.Root).Must(e.T, 200).Obj(e.T)
}

// answered reads the executions of a :trigger answer.
func answered(t *testing.T, r coretest.Response) []map[string]any {
	t.Helper()
	list, ok := r.Obj(t)["executions"].([]any)
	if !ok {
		t.Fatalf("no executions in %s", r.Raw)
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = x.(map[string]any)
	}
	return out
}

func messages(r coretest.Response) []string {
	var out []string
	list, _ := r.Body["messages"].([]any)
	for _, m := range list {
		s, _ := m.(map[string]any)["message"].(string)
		out = append(out, s)
	}
	return out
}

func TestOneRecord(t *testing.T) {
	e := newEnv(t)
	key := e.Workflow(map[string]any{
		"sync":   true,
		"config": map[string]any{"collection": "orders", "appends": []any{"customer"}},
		"script": `flow.message("handled " .. ctx.data.title)
return {id = ctx.data.id, title = ctx.data.title, total = ctx.data.total, note = ctx.data.note,
  customer = ctx.data.customer.name, user = ctx.user.email, role = ctx.roleName}`,
	})
	before := e.order(1)
	cases := []struct {
		name  string
		path  string
		body  any
		title string
		note  any
	}{
		{"filterByTk", "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + key, nil, "first", nil},
		{"path segment", "/api/orders:trigger/1?triggerWorkflows=" + key, nil, "first", nil},
		{"values merged over the record", "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + key, map[string]any{"title": "renamed", "note": "rush"}, "renamed", "rush"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.at(t)
			w0 := e.writes.n.Load()
			r := e.Post(c.path, e.Root, c.body).Must(t, 200)
			xs := answered(t, r)
			if len(xs) != 1 || workflowtest.Status(xs[0]) != 1 {
				t.Fatalf("executions = %v", xs)
			}
			if m := messages(r); len(m) != 1 || m[0] != "handled "+c.title {
				t.Fatalf("messages = %v", m)
			}
			x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(xs[0]["id"])), e.Root).Must(t, 200).Obj(t)
			out, _ := x["output"].(map[string]any)
			if coretest.Num(out["id"]) != 1 || out["title"] != c.title || coretest.Num(out["total"]) != 10 || out["note"] != c.note ||
				out["customer"] != "Ada" || out["user"] != "root@actionflow.local" || out["role"] != "root" {
				t.Fatalf("output = %v", out)
			}
			if strings.Contains(fmt.Sprint(x["context"]), "$2a$") {
				t.Fatal("ctx.user carries the password hash")
			}
			if n := e.writes.n.Load() - w0; n != 0 {
				t.Fatalf("the custom action wrote %d records", n)
			}
			if after := e.order(1); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("record changed: %v → %v", before, after)
			}
		})
	}
}

func TestSeveralRecords(t *testing.T) {
	e := newEnv(t)
	key := e.Workflow(map[string]any{
		"sync":   true,
		"config": map[string]any{"collection": "orders"},
		"script": `local out = {}
for i, r in ipairs(ctx.data) do out[i] = r.title .. ":" .. tostring(r.flag) end
return table.concat(out, ",")`,
	})
	cases := []struct {
		name    string
		query   string
		segment string // the ids as the last path segment instead
		want    string
	}{
		{"path segment", "", "3,1", "third:true,first:true"},
		{"comma-separated", "filterByTk=1,3", "", "first:true,third:true"},
		{"array", "filterByTk[]=2&filterByTk[]=1", "", "second:true,first:true"},
		{"repeated", "filterByTk=3&filterByTk=2", "", "third:true,second:true"},
		{"a record listed twice counts once", "filterByTk=2,1,2", "", "second:true,first:true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.at(t)
			w0 := e.writes.n.Load()
			path := "/api/orders:trigger?triggerWorkflows=" + key + "&" + c.query
			if c.segment != "" {
				path = "/api/orders:trigger/" + c.segment + "?triggerWorkflows=" + key
			}
			r := e.Post(path, e.Root, map[string]any{"flag": true}).Must(t, 200)
			xs := answered(t, r)
			if len(xs) != 1 || workflowtest.Status(xs[0]) != 1 {
				t.Fatalf("executions = %v", xs)
			}
			x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(xs[0]["id"])), e.Root).Must(t, 200).Obj(t)
			if x["output"] != c.want {
				t.Fatalf("output = %v, want %v", x["output"], c.want)
			}
			if n := e.writes.n.Load() - w0; n != 0 {
				t.Fatalf("the custom action wrote %d records", n)
			}
		})
	}
	t.Run("a missing record is a 404 and runs nothing", func(t *testing.T) {
		e := e.at(t)
		n := len(e.Executions(key))
		e.Post("/api/orders:trigger?triggerWorkflows="+key+"&filterByTk=1,99", e.Root, nil).Must(t, 404)
		if len(e.Executions(key)) != n {
			t.Fatal("a workflow ran")
		}
	})
	t.Run("a bad id is a 400", func(t *testing.T) {
		e := e.at(t)
		e.Post("/api/orders:trigger?triggerWorkflows="+key+"&filterByTk=1,x", e.Root, nil).Must(t, 400)
	})
}

func TestFreeContext(t *testing.T) {
	e := newEnv(t)
	key := e.Workflow(map[string]any{
		"sync": true, "config": map[string]any{"roles": []any{"member"}},
		"script": `flow.message("hi " .. ctx.user.email)
return {a = ctx.data.a, c = ctx.data.b.c, role = ctx.roleName}`,
	})
	member := e.User("m@x.io", "member")
	r := e.Post("/api/workflows:trigger?triggerWorkflows="+key, member, map[string]any{"a": 1, "b": map[string]any{"c": "x"}}).Must(t, 200)
	xs := answered(t, r)
	if len(xs) != 1 || workflowtest.Status(xs[0]) != 1 {
		t.Fatalf("executions = %v", xs)
	}
	if m := messages(r); len(m) != 1 || m[0] != "hi m@x.io" {
		t.Fatalf("messages = %v", m)
	}
	x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(xs[0]["id"])), e.Root).Must(t, 200).Obj(t)
	out, _ := x["output"].(map[string]any)
	if coretest.Num(out["a"]) != 1 || out["c"] != "x" || out["role"] != "member" {
		t.Fatalf("output = %v", out)
	}
	t.Run("no body", func(t *testing.T) {
		e.Post("/api/workflows:trigger?triggerWorkflows="+key, member, nil).Must(t, 500) // ctx.data.b is nil: a Lua error
		k2 := e.at(t).Workflow(map[string]any{"sync": true, "config": map[string]any{"roles": []any{"member"}}, "script": `return next(ctx.data) == nil`})
		r := e.Post("/api/workflows:trigger?triggerWorkflows="+k2, member, nil).Must(t, 200)
		x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(answered(t, r)[0]["id"])), e.Root).Must(t, 200).Obj(t)
		if x["output"] != true {
			t.Fatalf("ctx.data without a body: %v", x)
		}
	})
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	onOrders := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": `return 1`})
	free := e.Workflow(map[string]any{"sync": true, "script": `return 1`})
	disabled := e.Workflow(map[string]any{"sync": true, "enabled": false, "config": map[string]any{"collection": "orders"}, "script": `return 1`})
	fails := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": `flow.message("checked") flow.fail("not allowed: " .. ctx.data.title)`})
	errs := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": `error("secret detail")`})
	finishes := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": `flow.message("done") flow.finish()`})
	later := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": `flow.message("later") return 1`})
	laterAsync := e.Workflow(map[string]any{"config": map[string]any{"collection": "orders"}, "script": `return 1`})

	cases := []struct {
		name   string
		path   string
		status int
		msg    string // part of the first error message
	}{
		{"no key on a collection", "/api/orders:trigger?filterByTk=1", 400, "triggerWorkflows"},
		{"empty key", "/api/orders:trigger?filterByTk=1&triggerWorkflows=", 400, "triggerWorkflows"},
		{"no key on workflows:trigger", "/api/workflows:trigger", 400, "triggerWorkflows"},
		{"unknown key", "/api/orders:trigger?filterByTk=1&triggerWorkflows=nope", 400, "no enabled custom-action workflow"},
		{"a workflow of another collection", "/api/notes:trigger?filterByTk=1&triggerWorkflows=" + onOrders, 400, "collection notes"},
		{"a collection workflow on workflows:trigger", "/api/workflows:trigger?triggerWorkflows=" + onOrders, 400, "no enabled custom-action workflow"},
		{"a free workflow on a collection", "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + free, 400, "no enabled custom-action workflow"},
		{"a disabled workflow", "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + disabled, 400, "no enabled custom-action workflow"},
		{"no filterByTk", "/api/orders:trigger?triggerWorkflows=" + onOrders, 400, "filterByTk"},
		{"flow.fail", "/api/orders:trigger?filterByTk=2&triggerWorkflows=" + fails, 400, "not allowed: second"},
		{"lua error", "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + errs, 500, workflow.GenericFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Post(c.path, e.Root, nil).Must(t, c.status)
			if msg := r.ErrMsg(t); !strings.Contains(msg, c.msg) {
				t.Fatalf("message %q does not contain %q", msg, c.msg)
			}
			if strings.Contains(r.Raw, "secret detail") {
				t.Fatalf("the response leaks the error: %s", r.Raw)
			}
		})
	}
	t.Run("fail carries the messages", func(t *testing.T) {
		e := e.at(t)
		r := e.Post("/api/orders:trigger?filterByTk=1&triggerWorkflows="+fails, e.Root, nil).Must(t, 400)
		if !strings.Contains(r.Raw, "checked") {
			t.Fatalf("messages missing: %s", r.Raw)
		}
		if x := e.Executions(fails); len(x) != 2 || workflowtest.Status(x[1]) != -1 {
			t.Fatalf("executions = %v", x)
		}
	})
	t.Run("the error stays in the execution", func(t *testing.T) {
		e := e.at(t)
		x := e.Executions(errs)
		if len(x) != 1 || workflowtest.Status(x[0]) != -2 || !strings.Contains(fmt.Sprint(x[0]["error"]), "secret detail") {
			t.Fatalf("executions = %v", x)
		}
	})
	t.Run("flow.finish skips the later ones", func(t *testing.T) {
		e := e.at(t)
		r := e.Post("/api/orders:trigger?filterByTk=1&triggerWorkflows="+strings.Join([]string{onOrders, finishes, later, laterAsync}, ","), e.Root, nil).Must(t, 200)
		// Two sync ones ran; the async one was kept as canceled, the later sync one never ran.
		if xs := answered(t, r); len(xs) != 3 || workflowtest.Status(xs[2]) != -4 {
			t.Fatalf("executions = %v", xs)
		}
		if m := messages(r); len(m) != 1 || m[0] != "done" {
			t.Fatalf("messages = %v", m)
		}
		if n := len(e.Executions(later)); n != 0 {
			t.Fatalf("%d later sync executions", n)
		}
		if x := e.Executions(laterAsync); len(x) != 1 || workflowtest.Status(x[0]) != -4 || !strings.Contains(fmt.Sprint(x[0]["reason"]), "finished") {
			t.Fatalf("skipped async executions = %v", x)
		}
	})
	t.Run("a failure skips the async ones", func(t *testing.T) {
		e := e.at(t)
		e.Post("/api/orders:trigger?filterByTk=1&triggerWorkflows="+fails+","+laterAsync, e.Root, nil).Must(t, 400)
		x := e.Executions(laterAsync)
		if last := x[len(x)-1]; len(x) != 2 || workflowtest.Status(last) != -4 || !strings.Contains(fmt.Sprint(last["reason"]), "failed") {
			t.Fatalf("skipped async executions = %v", x)
		}
	})
	t.Run("a listed key runs once, unknown keys are ignored", func(t *testing.T) {
		e := e.at(t)
		n := len(e.Executions(onOrders))
		r := e.Post("/api/orders:trigger?filterByTk=1&triggerWorkflows="+onOrders+",nope,"+onOrders+"!customer", e.Root, nil).Must(t, 200)
		if xs := answered(t, r); len(xs) != 1 {
			t.Fatalf("executions = %v", xs)
		}
		if len(e.Executions(onOrders)) != n+1 {
			t.Fatal("the key ran more than once")
		}
	})
	t.Run("a body that is not an object is a 400", func(t *testing.T) {
		e := e.at(t)
		n := len(e.Executions(onOrders)) + len(e.Executions(free))
		for _, body := range []string{`[1,2]`, `"x"`, `{"a":`} {
			e.Post("/api/orders:trigger?filterByTk=1&triggerWorkflows="+onOrders, e.Root, body).Must(t, 400)
			e.Post("/api/workflows:trigger?triggerWorkflows="+free, e.Root, body).Must(t, 400)
		}
		if len(e.Executions(onOrders))+len(e.Executions(free)) != n {
			t.Fatal("a workflow ran")
		}
	})
	t.Run("the action is POST only", func(t *testing.T) {
		e := e.at(t)
		e.Get("/api/orders:trigger?filterByTk=1&triggerWorkflows="+onOrders, e.Root).Must(t, 405)
	})
}

func TestPermission(t *testing.T) {
	e := newEnv(t)
	key := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": `return ctx.data.title`})
	e.Post("/api/roles:create", e.Root, map[string]any{"name": "lister", "permissions": map[string]any{"orders": []any{"list"}}}).Must(t, 200)
	e.Post("/api/roles:create", e.Root, map[string]any{"name": "getter", "permissions": map[string]any{"orders": []any{"get"}}}).Must(t, 200)
	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"without get", e.User("l@x.io", "lister"), 403},
		{"with get", e.User("g@x.io", "getter"), 200},
		{"member", e.User("m@x.io", "member"), 200},
		{"admin", e.User("a@x.io", "admin"), 200},
		{"anonymous", "", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.Post("/api/orders:trigger?filterByTk=1&triggerWorkflows="+key, c.token, nil).Must(t, c.status)
		})
	}
	t.Run("nothing ran for the refused ones", func(t *testing.T) {
		if n := len(e.at(t).Executions(key)); n != 3 {
			t.Fatalf("%d executions", n)
		}
	})
	t.Run("workflows:trigger is open to the roles in config.roles", func(t *testing.T) {
		e := e.at(t)
		free := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"roles": []any{"lister"}}, "script": `return 1`})
		e.Post("/api/workflows:trigger?triggerWorkflows="+free, cases[0].token, nil).Must(t, 200)
		e.Post("/api/workflows:trigger?triggerWorkflows="+free, "", nil).Must(t, 401)
	})
}

func TestAsync(t *testing.T) {
	e := newEnv(t)
	sync := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": `flow.message("sync") return 1`})
	async := e.Workflow(map[string]any{
		"config": map[string]any{"collection": "orders", "appends": []any{"customer"}},
		"script": `local db = require("db")
local row, err = db.create("notes", {text = ctx.data.title .. " for " .. ctx.data.customer.name .. " by " .. ctx.user.email})
if not row then error(err) end
return row.text`,
	})
	r := e.Post("/api/orders:trigger?filterByTk=3&triggerWorkflows="+async+","+sync, e.Root, map[string]any{"title": "merged"}).Must(t, 200)
	xs := answered(t, r)
	if len(xs) != 2 || workflowtest.Status(xs[0]) != 1 || xs[1]["status"] != nil {
		t.Fatalf("sync first, then the queued async one: %v", xs)
	}
	if m := messages(r); len(m) != 1 || m[0] != "sync" {
		t.Fatalf("messages = %v", m)
	}
	if list := e.Executions(async); len(list) != 1 || coretest.Num(list[0]["id"]) != coretest.Num(xs[1]["id"]) {
		t.Fatalf("the async execution is not queued: %v", list)
	}
	x := e.WaitFinal(async, 1)[0]
	if workflowtest.Status(x) != 1 || x["output"] != "merged for Ada by root@actionflow.local" {
		t.Fatalf("execution = %v", x)
	}
	if got := e.order(3); got["title"] != "third" {
		t.Fatalf("the record was written: %v", got)
	}
	t.Run("free context", func(t *testing.T) {
		e := e.at(t)
		free := e.Workflow(map[string]any{"script": `return ctx.data.n * 2`})
		r := e.Post("/api/workflows:trigger?triggerWorkflows="+free, e.Root, map[string]any{"n": 21}).Must(t, 200)
		if xs := answered(t, r); len(xs) != 1 || xs[0]["status"] != nil {
			t.Fatalf("executions = %v", xs)
		}
		if x := e.WaitFinal(free, 1)[0]; workflowtest.Status(x) != 1 || coretest.Num(x["output"]) != 42 {
			t.Fatalf("execution = %v", x)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		config any
		want   string // part of the 400 message; "" means accepted
	}{
		{"no config: workflows:trigger", nil, ""},
		{"a collection", map[string]any{"collection": "orders", "appends": []any{"customer"}}, ""},
		{"unknown collection", map[string]any{"collection": "nope"}, `"nope" does not exist`},
		{"system collection", map[string]any{"collection": "users"}, "system collection"},
		{"appends without a collection", map[string]any{"appends": []any{"customer"}}, "appends need a collection"},
		{"appends of a plain field", map[string]any{"collection": "orders", "appends": []any{"title"}}, "title"},
		{"appends not a list", map[string]any{"collection": "orders", "appends": "customer"}, "appends must be a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Post("/api/workflows:create", e.Root, map[string]any{"type": customaction.Type, "config": c.config, "script": "return 1"})
			if c.want == "" {
				r.Must(t, 200)
				return
			}
			r.Must(t, 400)
			if msg := r.ErrMsg(t); !strings.Contains(msg, c.want) {
				t.Fatalf("message %q does not contain %q", msg, c.want)
			}
		})
	}
}

func TestManualExecute(t *testing.T) {
	e := newEnv(t)
	onOrders := e.Post("/api/workflows:create", e.Root, map[string]any{"type": customaction.Type, "config": map[string]any{"collection": "orders"}, "script": `return ctx.data.title .. "/" .. ctx.user.email`}).Must(t, 200).Obj(t)
	free := e.Post("/api/workflows:create", e.Root, map[string]any{"type": customaction.Type, "script": `return ctx.data.x`}).Must(t, 200).Obj(t)
	run := func(w map[string]any, body map[string]any) map[string]any {
		t.Helper()
		r := e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, w)), e.Root, body).Must(t, 200)
		id := coretest.Num(r.Obj(t)["execution"].(map[string]any)["id"])
		return e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", id), e.Root).Must(t, 200).Obj(t)
	}
	if x := run(onOrders, map[string]any{"data": 2, "userId": 1}); x["output"] != "second/root@actionflow.local" {
		t.Fatalf("execution = %v", x)
	}
	if x := run(free, map[string]any{"data": map[string]any{"x": "y"}, "userId": 1}); x["output"] != "y" {
		t.Fatalf("execution = %v", x)
	}
	e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, onOrders)), e.Root, map[string]any{"data": 2}).Must(t, 400)
	e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, onOrders)), e.Root, map[string]any{"data": 99, "userId": 1}).Must(t, 400)
}
