package actiontrigger_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
	"github.com/actionflow/actionflow/runtime"
)

type env struct{ *workflowtest.Env }

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, workflow.Config{Workers: 2, SweepInterval: time.Hour}, core.Config{},
		`{"name":"categories","fields":[{"name":"name","type":"string"},{"name":"parent","type":"belongsTo","target":"categories"},{"name":"posts","type":"hasMany","target":"posts","foreignKey":"categoryId"}]}`,
		`{"name":"posts","fields":[{"name":"title","type":"string","required":true},{"name":"views","type":"integer"},{"name":"category","type":"belongsTo","target":"categories"}]}`,
		`{"name":"logs","fields":[{"name":"text","type":"string"}]}`)
}

// newEnvWith is an env over a server with the workflow engine of wcfg and the action
// trigger, the app config cfg and the collections given.
func newEnvWith(t *testing.T, wcfg workflow.Config, cfg core.Config, collections ...string) *env {
	t.Helper()
	wf := workflow.New(wcfg)
	s := coretest.New(t, cfg, core.WithPlugins(wf, actiontrigger.New(wf)))
	for _, c := range collections {
		s.Collection(c)
	}
	return &env{&workflowtest.Env{Server: s, T: t, Type: actiontrigger.Type}}
}

// titledPosts is a posts collection of titles only.
const titledPosts = `{"name":"posts","fields":[{"name":"title","type":"string"}]}`

func ctxData(t *testing.T, x map[string]any) map[string]any {
	t.Helper()
	c, _ := x["context"].(map[string]any)
	d, _ := c["data"].(map[string]any)
	return d
}

const echo = `return {title = ctx.data and ctx.data.title, user = ctx.user.email, role = ctx.roleName}`

func TestLocalAndGlobalBinding(t *testing.T) {
	e := newEnv(t)
	local := e.Workflow(map[string]any{"title": "local", "config": map[string]any{"collection": "posts"}, "script": echo})
	global := e.Workflow(map[string]any{"title": "global", "config": map[string]any{"collection": "posts", "global": true, "actions": []any{"create"}}, "script": echo})
	noActions := e.Workflow(map[string]any{"title": "global without actions", "config": map[string]any{"collection": "posts", "global": true}, "script": echo})
	otherColl := e.Workflow(map[string]any{"config": map[string]any{"collection": "categories"}, "script": echo})
	member := e.User("m@x.io", "member")

	t.Run("bound, global, duplicates and unknown keys", func(t *testing.T) {
		q := "?triggerWorkflows=" + strings.Join([]string{local, "nope", local, noActions, otherColl}, ",")
		p := e.Post("/api/posts:create"+q, member, map[string]any{"title": "one"}).Must(t, 200).Obj(t)
		x := e.WaitFinal(local, 1)[0]
		if workflowtest.Status(x) != 1 {
			t.Fatalf("status %v: %v", x["status"], x)
		}
		out, _ := x["output"].(map[string]any)
		if out["title"] != "one" || out["user"] != "m@x.io" || out["role"] != "member" {
			t.Fatalf("output = %v", out)
		}
		d := ctxData(t, x)
		if coretest.Num(d["id"]) != coretest.ID(t, p) || d["createdAt"] == nil {
			t.Fatalf("ctx.data = %v", d)
		}
		u := x["context"].(map[string]any)["user"].(map[string]any)
		if _, leak := u["password"]; leak {
			t.Fatal("ctx.user carries the password")
		}
		e.WaitFinal(global, 1)
		if n := len(e.Executions(noActions)); n != 0 {
			t.Fatalf("global workflow without actions fired %d times", n)
		}
		if n := len(e.Executions(otherColl)); n != 0 {
			t.Fatalf("workflow of another collection fired %d times", n)
		}
	})
	t.Run("not listed: only the global fires", func(t *testing.T) {
		e.Post("/api/posts:create", member, map[string]any{"title": "two"}).Must(t, 200)
		e.WaitFinal(global, 2)
		if n := len(e.Executions(local)); n != 1 {
			t.Fatalf("unbound local workflow fired: %d", n)
		}
	})
	t.Run("global for create does not fire on update", func(t *testing.T) {
		e.Post("/api/posts:update/1", member, map[string]any{"views": 3}).Must(t, 200)
		time.Sleep(50 * time.Millisecond)
		if n := len(e.Executions(global)); n != 2 {
			t.Fatalf("global create workflow fired on update: %d", n)
		}
	})
	t.Run("bulk update gives one execution per record", func(t *testing.T) {
		bulk := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "script": echo})
		r := e.Post("/api/posts:update?triggerWorkflows="+bulk+"&filter="+url.QueryEscape(`{"id":{"$in":[1,2]}}`), e.Root, map[string]any{"views": 9}).Must(t, 200)
		if len(r.List(t)) != 2 {
			t.Fatal(r.Raw)
		}
		got := map[string]bool{}
		for _, x := range e.WaitFinal(bulk, 2) {
			got[ctxData(t, x)["title"].(string)] = true
			if coretest.Num(ctxData(t, x)["views"]) != 9 {
				t.Fatalf("ctx.data is not the updated record: %v", ctxData(t, x))
			}
		}
		if !got["one"] || !got["two"] {
			t.Fatalf("records = %v", got)
		}
	})
	t.Run("a failed action fires nothing", func(t *testing.T) {
		before := len(e.Executions(local))
		e.Post("/api/posts:create?triggerWorkflows="+local, member, map[string]any{"views": 1}).Must(t, 400)
		time.Sleep(50 * time.Millisecond)
		if len(e.Executions(local)) != before {
			t.Fatal("a failed create fired a workflow")
		}
	})
	t.Run("association resources fire workflows of the target collection", func(t *testing.T) {
		c := e.Post("/api/categories:create", e.Root, map[string]any{"name": "news"}).Must(t, 200).Obj(t)
		e.Post(fmt.Sprintf("/api/categories/%d/posts:create?triggerWorkflows=%s", coretest.ID(t, c), local), e.Root, map[string]any{"title": "nested"}).Must(t, 200)
		list := e.WaitFinal(local, 2)
		if d := ctxData(t, list[1]); d["title"] != "nested" || coretest.Num(d["categoryId"]) != coretest.ID(t, c) {
			t.Fatalf("ctx.data = %v", d)
		}
	})
	t.Run("malformed triggerWorkflows never fails the action", func(t *testing.T) {
		for _, q := range []string{",,", "!", local + "!", "!category", local + "!nope", local + "!category.posts", local + "!title", ",,,," + local + "!!"} {
			e.Post("/api/posts:create?triggerWorkflows="+url.QueryEscape(q), e.Root, map[string]any{"title": "m"}).Must(t, 200)
		}
	})
}

func TestPathBindingAndAppends(t *testing.T) {
	e := newEnv(t)
	parent := e.Post("/api/categories:create", e.Root, map[string]any{"name": "root"}).Must(t, 200).Obj(t)
	cat := e.Post("/api/categories:create", e.Root, map[string]any{"name": "child", "parentId": coretest.ID(t, parent)}).Must(t, 200).Obj(t)
	onCat := e.Workflow(map[string]any{"config": map[string]any{"collection": "categories"}, "script": `return ctx.data and ctx.data.name`})
	onPost := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts", "appends": []any{"category", "createdBy"}}, "script": `return ctx.data.category.name .. "/" .. ctx.data.createdBy.email`})

	e.Post("/api/posts:create?triggerWorkflows="+onCat+"!category,"+onPost, e.Root, map[string]any{"title": "p", "categoryId": coretest.ID(t, cat)}).Must(t, 200)
	x := e.WaitFinal(onCat, 1)[0]
	if x["output"] != "child" {
		t.Fatalf("path binding output = %v (%v)", x["output"], x)
	}
	y := e.WaitFinal(onPost, 1)[0]
	if y["output"] != "child/root@actionflow.local" {
		t.Fatalf("appends output = %v", y)
	}
	if strings.Contains(fmt.Sprint(y["context"]), "$2a$") {
		t.Fatal("appended user carries the password hash")
	}

	t.Run("nested path", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+onCat+"!category.parent", e.Root, map[string]any{"title": "q", "categoryId": coretest.ID(t, cat)}).Must(t, 200)
		if out := e.WaitFinal(onCat, 2)[1]["output"]; out != "root" {
			t.Fatalf("output = %v", out)
		}
	})
	t.Run("empty association gives null data", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+onCat+"!category", e.Root, map[string]any{"title": "r"}).Must(t, 200)
		x := e.WaitFinal(onCat, 3)[2]
		if ctxData(t, x) != nil || x["output"] != nil {
			t.Fatalf("execution = %v", x)
		}
	})
	t.Run("a path to another collection than the workflow's does not fire", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+onPost+"!category", e.Root, map[string]any{"title": "s", "categoryId": coretest.ID(t, cat)}).Must(t, 200)
		time.Sleep(50 * time.Millisecond)
		if n := len(e.Executions(onPost)); n != 1 {
			t.Fatalf("fired %d", n)
		}
	})
}

func TestSync(t *testing.T) {
	e := newEnv(t)
	msg := func(text string) string {
		return e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": fmt.Sprintf(`flow.message(%q) return %q`, text, text)})
	}
	a, b := msg("a"), msg("b")
	fail := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "flow.message('before fail')\nif ctx.data.views == nil then\n  flow.fail('views are required')\nend"})
	boom := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "local x = nil\nreturn x.secret_field_name"})
	slow := e.Workflow(map[string]any{"sync": true, "options": map[string]any{"timeout": 100}, "config": map[string]any{"collection": "posts"}, "script": "while true do end"})
	finish := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "flow.message('done') flow.finish()"})
	async := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "script": "return 1"})
	countPosts := func(title string) int {
		return len(e.Get("/api/posts:list?filter="+url.QueryEscape(fmt.Sprintf(`{"title":%q}`, title)), e.Root).Must(t, 200).List(t))
	}

	t.Run("messages in order", func(t *testing.T) {
		r := e.Post("/api/posts:create?triggerWorkflows="+b+","+a, e.Root, map[string]any{"title": "m"}).Must(t, 200)
		if fmt.Sprint(r.Body["messages"]) != "[map[message:b] map[message:a]]" {
			t.Fatalf("messages = %v", r.Body["messages"])
		}
		if r.Obj(t)["title"] != "m" {
			t.Fatal("data is not the action's result")
		}
	})
	t.Run("fail gives 400 with the messages, the record stays", func(t *testing.T) {
		r := e.Post("/api/posts:create?triggerWorkflows="+a+","+fail+","+async, e.Root, map[string]any{"title": "f"}).Must(t, 400)
		errs := fmt.Sprint(r.Body["errors"])
		if !strings.Contains(errs, "views are required") || !strings.Contains(errs, "before fail") || !strings.Contains(errs, "message:a") {
			t.Fatalf("errors = %s", errs)
		}
		if countPosts("f") != 1 {
			t.Fatal("record not saved")
		}
		x := e.WaitFinal(fail, 1)[0]
		if errv, _ := x["error"].(map[string]any); workflowtest.Status(x) != -1 || coretest.Num(errv["line"]) != 3 {
			t.Fatalf("status = %v, error = %v (flow.fail is on line 3)", x["status"], x["error"])
		}
		// The async workflow after it was queued with the record, then canceled.
		y := e.WaitFinal(async, 1)[0]
		if workflowtest.Status(y) != -4 || y["reason"] == "" {
			t.Fatalf("async execution = %v", y)
		}
		e.Post("/api/posts:create?triggerWorkflows="+fail, e.Root, map[string]any{"title": "f2", "views": 1}).Must(t, 200)
	})
	t.Run("a Lua error is a generic 500, details in the execution", func(t *testing.T) {
		r := e.Post("/api/posts:create?triggerWorkflows="+boom, e.Root, map[string]any{"title": "e"}).Must(t, 500)
		if strings.Contains(r.Raw, "secret_field_name") || strings.Contains(r.Raw, "nil") {
			t.Fatalf("error details leaked: %s", r.Raw)
		}
		if countPosts("e") != 1 {
			t.Fatal("record not saved")
		}
		x := e.WaitFinal(boom, 1)[0]
		er, _ := x["error"].(map[string]any)
		if workflowtest.Status(x) != -2 || coretest.Num(er["line"]) != 2 {
			t.Fatalf("execution = %v", x)
		}
	})
	t.Run("a timeout is a 500 and status -3", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+slow, e.Root, map[string]any{"title": "t"}).Must(t, 500)
		if x := e.WaitFinal(slow, 1)[0]; workflowtest.Status(x) != -3 || x["reason"] != "timeout" {
			t.Fatalf("execution = %v", x)
		}
		if countPosts("t") != 1 {
			t.Fatal("record not saved")
		}
	})
	t.Run("finish skips every later workflow", func(t *testing.T) {
		r := e.Post("/api/posts:create?triggerWorkflows="+a+","+finish+","+b+","+async, e.Root, map[string]any{"title": "fin"}).Must(t, 200)
		if fmt.Sprint(r.Body["messages"]) != "[map[message:a] map[message:done]]" {
			t.Fatalf("messages = %v", r.Body["messages"])
		}
		if n := len(e.Executions(b)); n != 1 { // from the first subtest only
			t.Fatalf("workflow after finish ran: %d", n)
		}
		list := e.WaitFinal(async, 2)
		if workflowtest.Status(list[1]) != -4 || !strings.Contains(fmt.Sprint(list[1]["reason"]), finish) {
			t.Fatalf("async after finish = %v", list[1])
		}
	})
	t.Run("errors in one request never block others", func(t *testing.T) {
		done := make(chan int, 4)
		for i := 0; i < 4; i++ {
			go func(i int) {
				path := "/api/posts:create"
				if i%2 == 0 {
					path += "?triggerWorkflows=" + slow
				}
				done <- e.Post(path, e.Root, map[string]any{"title": "c"}).Status
			}(i)
		}
		got := map[int]int{}
		for i := 0; i < 4; i++ {
			got[<-done]++
		}
		if got[200] != 2 || got[500] != 2 {
			t.Fatalf("statuses = %v", got)
		}
	})
}

func TestDBModuleAndContext(t *testing.T) {
	e := newEnv(t)
	key := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": `
local db = require("db")
local row, err = db.create("logs", {text = "post " .. ctx.data.title .. " by " .. ctx.user.email})
if not row then flow.fail(err) end
local bad, err2 = db.create("logs", {nope = 1})
local list = db.list("logs", {filter = {text = {["$includes"] = ctx.data.title}}, sort = "-id", pageSize = 5})
local got = db.get("posts", ctx.data.id)
local n = db.update("posts", ctx.data.id, {views = 42})
return {log = row.id, bad = bad == nil, err2 = err2, count = #list, same = got.title == ctx.data.title,
        updated = n[1].views, wf = ctx.workflow.key, exec = ctx.execution.id}
`})
	e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": "hello"}).Must(t, 200)
	x := e.WaitFinal(key, 1)[0]
	out, _ := x["output"].(map[string]any)
	if workflowtest.Status(x) != 1 || out["bad"] != true || !strings.Contains(fmt.Sprint(out["err2"]), "nope") || coretest.Num(out["count"]) != 1 ||
		out["same"] != true || coretest.Num(out["updated"]) != 42 || out["wf"] != key || coretest.Num(out["exec"]) != coretest.ID(t, x) {
		t.Fatalf("execution = %v", x)
	}
	logs := e.Get("/api/logs:list", e.Root).Must(t, 200).List(t)
	if len(logs) != 1 || logs[0]["text"] != "post hello by root@actionflow.local" || coretest.Num(logs[0]["createdById"]) != 1 {
		t.Fatalf("logs = %v", logs)
	}
	t.Run("db cannot write system collections", func(t *testing.T) {
		k := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": `local r, err = require("db").create("users", {email = "x@y.z"}) return err`})
		e.Post("/api/posts:create?triggerWorkflows="+k, e.Root, map[string]any{"title": "x"}).Must(t, 200)
		if out := e.WaitFinal(k, 1)[0]["output"]; !strings.Contains(fmt.Sprint(out), "system collection") {
			t.Fatalf("output = %v", out)
		}
	})
}

func TestWorkflowsResource(t *testing.T) {
	e := newEnv(t)
	bad := []struct {
		name  string
		def   map[string]any
		field string
	}{
		{"compile error names the line", map[string]any{"type": "action", "config": map[string]any{"collection": "posts"}, "script": "local a = 1\nlocal = 2"}, "line 2"},
		{"unknown type", map[string]any{"type": "nope", "config": map[string]any{}}, "type"},
		{"missing type", map[string]any{"config": map[string]any{}}, "type"},
		{"unknown collection", map[string]any{"type": "action", "config": map[string]any{"collection": "nope"}}, "nope"},
		{"no collection", map[string]any{"type": "action", "config": map[string]any{}}, "collection"},
		{"bad actions", map[string]any{"type": "action", "config": map[string]any{"collection": "posts", "global": true, "actions": []any{"destroy"}}}, "actions"},
		{"bad appends", map[string]any{"type": "action", "config": map[string]any{"collection": "posts", "appends": []any{"title"}}}, "appends"},
		{"bad options", map[string]any{"type": "action", "config": map[string]any{"collection": "posts"}, "options": map[string]any{"timeout": -1}}, "options"},
		{"unknown field", map[string]any{"type": "action", "config": map[string]any{"collection": "posts"}, "color": "red"}, "color"},
		{"bad key", map[string]any{"type": "action", "key": "a b", "config": map[string]any{"collection": "posts"}}, "key"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post("/api/workflows:create", e.Root, tc.def).Must(t, 400)
			if !strings.Contains(r.ErrMsg(t), tc.field) {
				t.Fatalf("%q does not mention %q", r.ErrMsg(t), tc.field)
			}
		})
	}
	t.Run("members may not manage workflows", func(t *testing.T) {
		m := e.User("m@x.io", "member")
		e.Post("/api/workflows:create", m, map[string]any{"type": "action", "config": map[string]any{"collection": "posts"}}).Must(t, 403)
		e.Get("/api/workflows:list", m).Must(t, 403)
		e.Get("/api/executions:list", m).Must(t, 403)
	})

	v1 := e.Post("/api/workflows:create", e.Root, map[string]any{"type": "action", "key": "wf", "title": "W", "enabled": true,
		"config": map[string]any{"collection": "posts"}, "script": "return 'v1'"}).Must(t, 200).Obj(t)
	id1 := coretest.ID(t, v1)
	if v1["current"] != true || v1["enabled"] != true || v1["key"] != "wf" || coretest.Num(v1["createdById"]) != 1 {
		t.Fatalf("created = %v", v1)
	}
	t.Run("an unexecuted version can be edited", func(t *testing.T) {
		e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", id1), e.Root, map[string]any{"script": "return 'v1b'"}).Must(t, 200)
		e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", id1), e.Root, map[string]any{"sync": true}).Must(t, 400)
		e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", id1), e.Root, map[string]any{"script": "return +"}).Must(t, 400)
	})
	e.Post("/api/posts:create?triggerWorkflows=wf", e.Root, map[string]any{"title": "a"}).Must(t, 200)
	if out := e.WaitFinal("wf", 1)[0]["output"]; out != "v1b" {
		t.Fatalf("output = %v", out)
	}
	t.Run("an executed version is frozen", func(t *testing.T) {
		r := e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", id1), e.Root, map[string]any{"script": "return 'v1c'"}).Must(t, 400)
		if !strings.Contains(r.ErrMsg(t), "revision") {
			t.Fatal(r.Raw)
		}
		e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", id1), e.Root, map[string]any{"config": map[string]any{"collection": "logs"}}).Must(t, 400)
		e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", id1), e.Root, map[string]any{"title": "renamed"}).Must(t, 200)
	})
	var id2 int64
	t.Run("revision with the key makes a disabled version", func(t *testing.T) {
		v2 := e.Post(fmt.Sprintf("/api/workflows:revision?filterByTk=%d&filter[key]=wf", id1), e.Root, nil).Must(t, 200).Obj(t)
		id2 = coretest.ID(t, v2)
		if v2["key"] != "wf" || v2["enabled"] != false || v2["current"] != false || v2["script"] != "return 'v1b'" {
			t.Fatalf("revision = %v", v2)
		}
		e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", id2), e.Root, map[string]any{"script": "return 'v2'", "enabled": true}).Must(t, 200)
		old := e.Get(fmt.Sprintf("/api/workflows:get?filterByTk=%d", id1), e.Root).Must(t, 200).Obj(t)
		if old["enabled"] != false || old["current"] != false {
			t.Fatalf("old version = %v", old)
		}
		e.Post("/api/posts:create?triggerWorkflows=wf", e.Root, map[string]any{"title": "b"}).Must(t, 200)
		list := e.WaitFinal("wf", 2)
		if list[1]["output"] != "v2" || coretest.Num(list[1]["workflowId"]) != id2 {
			t.Fatalf("second run = %v", list[1])
		}
		l := e.Get("/api/workflows:list?filter="+url.QueryEscape(`{"key":"wf","current":true}`), e.Root).Must(t, 200).List(t)
		if len(l) != 1 || coretest.ID(t, l[0]) != id2 {
			t.Fatalf("current versions = %v", l)
		}
	})
	t.Run("revision without a key is a copy", func(t *testing.T) {
		c := e.Post(fmt.Sprintf("/api/workflows:revision?filterByTk=%d", id1), e.Root, nil).Must(t, 200).Obj(t)
		if c["key"] == "wf" || !strings.HasSuffix(c["title"].(string), " copy") {
			t.Fatalf("copy = %v", c)
		}
	})
	t.Run("manual execute, even disabled", func(t *testing.T) {
		r := e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", id1), e.Root, map[string]any{"data": 1, "userId": 1}).Must(t, 200).Obj(t)
		ex := r["execution"].(map[string]any)
		if coretest.Num(ex["status"]) != 1 {
			t.Fatalf("execute = %v", r)
		}
		x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(ex["id"])), e.Root).Must(t, 200).Obj(t)
		if x["manually"] != true || ctxData(t, x)["title"] != "a" || x["context"].(map[string]any)["roleName"] != "root" {
			t.Fatalf("execution = %v", x)
		}
		e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", id1), e.Root, map[string]any{"data": map[string]any{"id": 1}, "userId": 999}).Must(t, 400)
		e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", id1), e.Root, map[string]any{"userId": 1}).Must(t, 400)
		e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", id1), e.Root, map[string]any{"data": 999, "userId": 1}).Must(t, 400)
	})
	t.Run("executions list filters by workflowId", func(t *testing.T) {
		l := e.Get("/api/executions:list?filter="+url.QueryEscape(fmt.Sprintf(`{"workflowId":%d}`, id2)), e.Root).Must(t, 200).List(t)
		if len(l) != 1 {
			t.Fatalf("list = %v", l)
		}
	})
	t.Run("retry and destroy executions", func(t *testing.T) {
		x := e.WaitFinal("wf", 3)[0]
		r := e.Post(fmt.Sprintf("/api/executions:retry?filterByTk=%d", coretest.ID(t, x)), e.Root, nil).Must(t, 200).Obj(t)
		list := e.WaitFinal("wf", 4)
		if coretest.ID(t, list[3]) != coretest.Num(r["id"]) || list[3]["output"] != "v1b" {
			t.Fatalf("retried = %v", list[3])
		}
		e.Post(fmt.Sprintf("/api/executions:cancel?filterByTk=%d", coretest.ID(t, x)), e.Root, nil).Must(t, 400)
		e.Post(fmt.Sprintf("/api/executions:destroy?filterByTk=%d", coretest.ID(t, x)), e.Root, nil).Must(t, 200)
		e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.ID(t, x)), e.Root).Must(t, 404)
	})
	t.Run("destroying the current version removes every version", func(t *testing.T) {
		r := e.Post(fmt.Sprintf("/api/workflows:destroy?filterByTk=%d", id2), e.Root, nil).Must(t, 200)
		if coretest.Num(r.Body["data"]) != 2 {
			t.Fatalf("destroyed = %s", r.Raw)
		}
		if l := e.Get("/api/workflows:list?filter="+url.QueryEscape(`{"key":"wf"}`), e.Root).Must(t, 200).List(t); len(l) != 0 {
			t.Fatalf("left = %v", l)
		}
		if n := len(e.Executions("wf")); n != 0 {
			t.Fatalf("executions left = %d", n)
		}
	})
}

func TestRetention(t *testing.T) {
	e := newEnv(t)
	key := e.Workflow(map[string]any{"sync": true, "options": map[string]any{"deleteExecutionOnStatus": []any{1}}, "config": map[string]any{"collection": "posts"},
		"script": "if ctx.data.views then flow.fail('no') end"})
	e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": "kept? no"}).Must(t, 200)
	e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": "kept", "views": 1}).Must(t, 400)
	list := e.Executions(key)
	if len(list) != 1 || workflowtest.Status(list[0]) != -1 {
		t.Fatalf("executions = %v", list)
	}
}

func TestHistoryCap(t *testing.T) {
	e := newEnvWith(t, workflow.Config{Workers: 1, MaxExecutions: 5, SweepInterval: time.Hour}, core.Config{}, titledPosts)
	key := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "return 1"})
	for i := 0; i < 30; i++ {
		e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": "x"}).Must(t, 200)
	}
	// Pruning runs in the background: wait for it.
	deadline := time.Now().Add(20 * time.Second)
	list := e.Executions(key)
	for len(list) > 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		list = e.Executions(key)
	}
	if len(list) > 5 || len(list) == 0 {
		t.Fatalf("%d executions kept, cap 5", len(list))
	}
	if coretest.ID(t, list[len(list)-1]) < 25 {
		t.Fatalf("the newest executions were not kept: %v", list)
	}
}

// TestHistoryCapKeepsRunning: pruning skips an execution that is still running, however
// old, and deletes it once it has ended (a later prune starts no further than it).
func TestHistoryCapKeepsRunning(t *testing.T) {
	e := newEnvWith(t, workflow.Config{Workers: 1, MaxExecutions: 5, SweepInterval: time.Hour}, core.Config{}, titledPosts)
	spin := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "options": map[string]any{"timeout": 60000},
		"script": "while true do end"})
	quick := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "return 1"})
	e.Post("/api/posts:create?triggerWorkflows="+spin, e.Root, map[string]any{"title": "spin"}).Must(t, 200)
	running := coretest.ID(t, e.Executions(spin)[0])
	(&env{e.At(t)}).waitStatus(running, 0)

	burst := func(n int) {
		for i := 0; i < n; i++ {
			e.Post("/api/posts:create?triggerWorkflows="+quick, e.Root, map[string]any{"title": "x"}).Must(t, 200)
		}
	}
	// waitKept waits for the background prune to leave at most want executions of key.
	waitKept := func(key string, want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(e.Executions(key)) > want {
			if time.Now().After(deadline) {
				t.Fatalf("%d executions of %s kept, want at most %d", len(e.Executions(key)), key, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	burst(20)
	waitKept(quick, 5) // the running one is kept besides: the cap is not exact
	if list := e.Executions(spin); len(list) != 1 || workflowtest.Status(list[0]) != 0 {
		t.Fatalf("the running execution was pruned: %v", list)
	}
	// Once ended it is the oldest final execution: the next prunes delete it (maybe as
	// soon as its worker is done, before it can be read with status -3).
	e.Post(fmt.Sprintf("/api/executions:cancel?filterByTk=%d", running), e.Root, nil).Must(t, 200)
	burst(10)
	waitKept(spin, 0)
	waitKept(quick, 5)
}

// TestHistoryCapLateLowID: a sync execution takes its id when its run starts and is
// written when it ends; pruning meanwhile moves past that id, and still deletes the
// execution later (not only after a restart).
func TestHistoryCapLateLowID(t *testing.T) {
	// Two Lua states for requests: the quick runs go on while the slow one holds one.
	e := newEnvWith(t, workflow.Config{Workers: 1, MaxExecutions: 5, SweepInterval: time.Hour},
		core.Config{Lua: runtime.Config{Workers: 2}}, titledPosts)
	slow := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"},
		"options": map[string]any{"timeout": 300}, "script": "while true do end"})
	quick := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "return 1"})
	done := make(chan int)
	go func() {
		// Answers 500 when the run times out; its execution (status -3) is written then.
		st := 0
		defer func() { done <- st }() // also when a failed request ends this goroutine
		st = e.Do("POST", "/api/posts:create?triggerWorkflows="+slow, e.Root, map[string]any{"title": "slow"}).Status
	}()
	for i := 0; i < 20; i++ { // newer executions, pruned past the slow one's id meanwhile
		e.Post("/api/posts:create?triggerWorkflows="+quick, e.Root, map[string]any{"title": "x"}).Must(t, 200)
	}
	if st := <-done; st != 500 {
		t.Fatalf("slow workflow answered %d, want 500", st)
	}
	if n := len(e.Executions(slow)); n != 1 {
		t.Fatalf("%d executions of the slow workflow, want 1", n)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(e.Executions(slow)) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the late execution with a low id was never pruned")
		}
		e.Post("/api/posts:create?triggerWorkflows="+quick, e.Root, map[string]any{"title": "x"}).Must(t, 200)
	}
}

// TestDestroyWorkflowWithLongHistory: a workflow with more executions than one
// transaction can delete is destroyed with all of them, and another workflow's history
// stays.
func TestDestroyWorkflowWithLongHistory(t *testing.T) {
	e := newEnv(t)
	gone := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "return 1"})
	kept := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "return 2"})
	count := func(key string) int {
		f := url.QueryEscape(fmt.Sprintf(`{"key":%q}`, key))
		r := e.Get("/api/executions:list?pageSize=1&filter="+f, e.Root).Must(t, 200)
		return int(coretest.Num(r.Body["meta"].(map[string]any)["count"]))
	}
	// Four writes to delete each execution (record and three index entries): 900 of them
	// are over one transaction's 3,200 writes.
	const n = 900
	for i := 0; i < n; i++ {
		e.Post("/api/posts:create?triggerWorkflows="+gone, e.Root, map[string]any{"title": "p"}).Must(t, 200)
	}
	e.Post("/api/posts:create?triggerWorkflows="+kept, e.Root, map[string]any{"title": "q"}).Must(t, 200)
	if c := count(gone); c != n {
		t.Fatalf("%d executions before, want %d", c, n)
	}
	w := e.Get("/api/workflows:list?filter="+url.QueryEscape(fmt.Sprintf(`{"key":%q}`, gone)), e.Root).Must(t, 200).List(t)
	e.Post(fmt.Sprintf("/api/workflows:destroy?filterByTk=%d", coretest.ID(t, w[0])), e.Root, nil).Must(t, 200)
	if c := count(gone); c != 0 {
		t.Fatalf("%d executions of the destroyed workflow left", c)
	}
	if c := count(kept); c != 1 {
		t.Fatalf("%d executions of the other workflow, want 1", c)
	}
}
