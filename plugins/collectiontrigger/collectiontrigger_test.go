package collectiontrigger_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/collectiontrigger"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

type env struct{ *workflowtest.Env }

func newEnv(t *testing.T) *env {
	t.Helper()
	wf := workflow.New(workflow.Config{Workers: 2, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(wf, collectiontrigger.New(wf)))
	s.Collection(`{"name":"categories","fields":[{"name":"name","type":"string"},{"name":"posts","type":"hasMany","target":"posts","foreignKey":"categoryId"}]}`)
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string","required":true},{"name":"views","type":"integer"},{"name":"status","type":"string"},{"name":"meta","type":"json"},{"name":"category","type":"belongsTo","target":"categories"}]}`)
	s.Collection(`{"name":"logs","fields":[{"name":"text","type":"string"}]}`)
	return &env{&workflowtest.Env{Server: s, T: t, Type: collectiontrigger.Type}}
}

// count is the number of records of a collection.
func (e *env) count(coll string) int {
	e.T.Helper()
	r := e.Get("/api/"+coll+":list?pageSize=1", e.Root).Must(e.T, 200)
	return int(coretest.Num(r.Body["meta"].(map[string]any)["count"]))
}

func (e *env) create(values map[string]any) int64 {
	e.T.Helper()
	return coretest.ID(e.T, e.Post("/api/posts:create", e.Root, values).Must(e.T, 200).Obj(e.T))
}

func (e *env) update(id int64, values map[string]any) {
	e.T.Helper()
	e.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", id), e.Root, values).Must(e.T, 200)
}

func (e *env) destroy(id int64) {
	e.T.Helper()
	e.Post(fmt.Sprintf("/api/posts:destroy?filterByTk=%d", id), e.Root, nil).Must(e.T, 200)
}

// at is e for a subtest: helpers fail t, not the parent test.
func (e *env) at(t *testing.T) *env { return &env{e.Env.At(t)} }

func ctxOf(x map[string]any) map[string]any {
	c, _ := x["context"].(map[string]any)
	return c
}

func ctxData(x map[string]any) map[string]any {
	d, _ := ctxOf(x)["data"].(map[string]any)
	return d
}

// logText joins the messages an execution logged.
func logText(x map[string]any) string {
	var b strings.Builder
	list, _ := x["logs"].([]any)
	for _, l := range list {
		m, _ := l.(map[string]any)
		fmt.Fprintf(&b, "%v: %v\n", m["level"], m["message"])
	}
	return b.String()
}

func cfg(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestModes(t *testing.T) {
	e := newEnv(t)
	// Classify each execution: update carries ctx.previous; create sees "t1"; destroy
	// carries the removed record, last written as "t2".
	cases := []struct {
		name string
		mode int
		want []string
	}{
		{"create", 1, []string{"create"}},
		{"update", 2, []string{"update"}},
		{"destroy", 4, []string{"destroy"}},
		{"create and update", 3, []string{"create", "update"}},
		{"create and destroy", 5, []string{"create", "destroy"}},
		{"update and destroy", 6, []string{"update", "destroy"}},
		{"every write", 7, []string{"create", "update", "destroy"}},
	}
	keys := make([]string, len(cases))
	for i, c := range cases {
		keys[i] = e.Workflow(map[string]any{"title": c.name, "config": cfg("collection", "posts", "mode", c.mode), "script": `return ctx.data.title`})
	}
	other := e.Workflow(map[string]any{"config": cfg("collection", "categories", "mode", 7), "script": `return 1`})

	p := e.Post("/api/posts:create", e.Root, map[string]any{"title": "t1"}).Must(t, 200).Obj(t)
	id := coretest.ID(t, p)
	e.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", id), e.Root, map[string]any{"title": "t2"}).Must(t, 200)
	e.Post(fmt.Sprintf("/api/posts:destroy?filterByTk=%d", id), e.Root, nil).Must(t, 200)

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.at(t)
			list := e.WaitFinal(keys[i], len(c.want))
			var got []string
			for _, x := range list {
				if workflowtest.Status(x) != 1 {
					t.Fatalf("status %v: %v", x["status"], x)
				}
				d := ctxData(x)
				if coretest.Num(d["id"]) != id {
					t.Fatalf("ctx.data = %v", d)
				}
				_, hasPrev := ctxOf(x)["previous"]
				switch {
				case hasPrev:
					got = append(got, "update")
				case d["title"] == "t1":
					got = append(got, "create")
				default:
					got = append(got, "destroy")
				}
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("fired on %v, want %v", got, c.want)
			}
		})
	}
	t.Run("another collection's workflow does not fire", func(t *testing.T) {
		e := e.at(t)
		if n := len(e.Executions(other)); n != 0 {
			t.Fatalf("%d executions", n)
		}
	})
}

func TestChangedAndCondition(t *testing.T) {
	e := newEnv(t)
	news := coretest.ID(t, e.Post("/api/categories:create", e.Root, map[string]any{"name": "news"}).Must(t, 200).Obj(t))
	misc := coretest.ID(t, e.Post("/api/categories:create", e.Root, map[string]any{"name": "misc"}).Must(t, 200).Obj(t))

	cases := []struct {
		name   string
		config map[string]any
		writes func(e *env)
		want   int
	}{
		{"changed: a listed field changes", cfg("mode", 2, "changed", []any{"status"}), func(e *env) {
			e.update(e.create(map[string]any{"title": "a", "status": "draft"}), map[string]any{"status": "published"})
		}, 1},
		{"changed: only other fields change", cfg("mode", 2, "changed", []any{"status", "title"}), func(e *env) {
			e.update(e.create(map[string]any{"title": "a", "status": "draft"}), map[string]any{"views": 5})
		}, 0},
		{"changed: a listed field is set to its own value", cfg("mode", 2, "changed", []any{"status"}), func(e *env) {
			e.update(e.create(map[string]any{"title": "a", "status": "draft"}), map[string]any{"status": "draft", "views": 1})
		}, 0},
		{"changed: a number set to its own value", cfg("mode", 2, "changed", []any{"views"}), func(e *env) {
			id := e.create(map[string]any{"title": "a", "views": 5})
			e.update(id, map[string]any{"views": 5})
			e.update(id, map[string]any{"views": 5.0})
			e.update(id, map[string]any{"views": 6})
		}, 1},
		{"changed: a json field changes deep inside", cfg("mode", 2, "changed", []any{"meta"}), func(e *env) {
			id := e.create(map[string]any{"title": "a", "meta": map[string]any{"tags": []any{"x"}}})
			e.update(id, map[string]any{"meta": map[string]any{"tags": []any{"x"}}})
			e.update(id, map[string]any{"meta": map[string]any{"tags": []any{"x", "y"}}})
		}, 1},
		{"changed: a belongsTo field by its name", cfg("mode", 2, "changed", []any{"category"}), func(e *env) {
			id := e.create(map[string]any{"title": "a", "categoryId": news})
			e.update(id, map[string]any{"title": "b"})
			e.update(id, map[string]any{"categoryId": misc})
		}, 1},
		{"changed: does not apply to create", cfg("mode", 3, "changed", []any{"status"}), func(e *env) {
			e.create(map[string]any{"title": "a"})
		}, 1},
		{"condition: the record matches", cfg("mode", 1, "condition", map[string]any{"views": map[string]any{"$gte": 10}}), func(e *env) {
			e.create(map[string]any{"title": "a", "views": 20})
		}, 1},
		{"condition: the record does not match", cfg("mode", 1, "condition", map[string]any{"views": map[string]any{"$gte": 10}}), func(e *env) {
			e.create(map[string]any{"title": "a", "views": 5})
			e.create(map[string]any{"title": "b"})
		}, 0},
		{"condition: through an association", cfg("mode", 1, "condition", map[string]any{"category.name": "news"}), func(e *env) {
			e.create(map[string]any{"title": "a", "categoryId": news})
			e.create(map[string]any{"title": "b", "categoryId": misc})
			e.create(map[string]any{"title": "c"})
		}, 1},
		{"condition: on update, the record as written", cfg("mode", 2, "condition", map[string]any{"status": "published"}), func(e *env) {
			id := e.create(map[string]any{"title": "a", "status": "draft"})
			e.update(id, map[string]any{"views": 1})
			e.update(id, map[string]any{"status": "published"})
		}, 1},
		{"condition: on destroy, the record removed", cfg("mode", 4, "condition", map[string]any{"status": "published"}), func(e *env) {
			for _, st := range []string{"draft", "published"} {
				id := e.create(map[string]any{"title": "a", "status": st})
				e.destroy(id)
			}
		}, 1},
		{"changed and condition together", cfg("mode", 2, "changed", []any{"status"}, "condition", map[string]any{"views": map[string]any{"$gt": 0}}), func(e *env) {
			a := e.create(map[string]any{"title": "a", "status": "draft", "views": 0})
			e.update(a, map[string]any{"status": "published"}) // changed, condition fails
			b := e.create(map[string]any{"title": "b", "status": "draft", "views": 3})
			e.update(b, map[string]any{"views": 4})            // condition holds, nothing listed changed
			e.update(b, map[string]any{"status": "published"}) // both
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.at(t)
			c.config["collection"] = "posts"
			key := e.Workflow(map[string]any{"config": c.config, "script": `return ctx.data.id`})
			c.writes(e)
			// Async executions are queued in the transaction of the write, so the count
			// is complete as soon as the writes have answered.
			if n := len(e.Executions(key)); n != c.want {
				t.Fatalf("fired %d times, want %d", n, c.want)
			}
			for _, x := range e.WaitFinal(key, c.want) {
				if workflowtest.Status(x) != 1 {
					t.Fatalf("status %v: %v", x["status"], x)
				}
			}
		})
	}
}

func TestContext(t *testing.T) {
	e := newEnv(t)
	cat := coretest.ID(t, e.Post("/api/categories:create", e.Root, map[string]any{"name": "news"}).Must(t, 200).Obj(t))

	t.Run("appends", func(t *testing.T) {
		e := e.at(t)
		key := e.Workflow(map[string]any{
			"config": cfg("collection", "posts", "mode", 3, "appends", []any{"category", "createdBy"}),
			"script": `return ctx.data.category.name .. "/" .. ctx.data.createdBy.email`,
		})
		e.Post("/api/posts:create", e.Root, map[string]any{"title": "a", "categoryId": cat}).Must(t, 200)
		x := e.WaitFinal(key, 1)[0]
		if x["output"] != "news/root@actionflow.local" {
			t.Fatalf("output = %v (%v)", x["output"], x)
		}
		if strings.Contains(fmt.Sprint(x["context"]), "$2a$") {
			t.Fatal("the appended user carries the password hash")
		}
	})
	t.Run("previous on update", func(t *testing.T) {
		e := e.at(t)
		key := e.Workflow(map[string]any{
			"config": cfg("collection", "posts", "mode", 2, "changed", []any{"status"}),
			"script": `return {prev = ctx.previous.status, cur = ctx.data.status, same = ctx.previous.id == ctx.data.id}`,
		})
		id := coretest.ID(t, e.Post("/api/posts:create", e.Root, map[string]any{"title": "b", "status": "draft"}).Must(t, 200).Obj(t))
		e.Post(fmt.Sprintf("/api/posts:update/%d", id), e.Root, map[string]any{"status": "published"}).Must(t, 200)
		x := e.WaitFinal(key, 1)[0]
		out, _ := x["output"].(map[string]any)
		if out["prev"] != "draft" || out["cur"] != "published" || out["same"] != true {
			t.Fatalf("output = %v", out)
		}
	})
	t.Run("no previous on create", func(t *testing.T) {
		e := e.at(t)
		key := e.Workflow(map[string]any{"config": cfg("collection", "posts", "mode", 1), "script": `return ctx.previous == nil`})
		e.Post("/api/posts:create", e.Root, map[string]any{"title": "c"}).Must(t, 200)
		if x := e.WaitFinal(key, 1)[0]; x["output"] != true {
			t.Fatalf("ctx.previous on create: %v", x)
		}
	})
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("destroy carries the removed record (sync %v)", sync), func(t *testing.T) {
			e := e.at(t)
			key := e.Workflow(map[string]any{
				"sync":   sync,
				"config": cfg("collection", "posts", "mode", 4, "appends", []any{"category"}),
				"script": `local db = require("db")
local still = db.get("posts", ctx.data.id)
return {title = ctx.data.title, views = ctx.data.views, category = ctx.data.category.name, gone = still == nil}`,
			})
			id := coretest.ID(t, e.Post("/api/posts:create", e.Root, map[string]any{"title": "doomed", "views": 7, "categoryId": cat}).Must(t, 200).Obj(t))
			e.Post(fmt.Sprintf("/api/posts:destroy?filterByTk=%d", id), e.Root, nil).Must(t, 200)
			x := e.WaitFinal(key, 1)[0]
			out, _ := x["output"].(map[string]any)
			if out["title"] != "doomed" || coretest.Num(out["views"]) != 7 || out["category"] != "news" || out["gone"] != true {
				t.Fatalf("output = %v (%v)", out, x)
			}
			if coretest.Num(ctxData(x)["id"]) != id {
				t.Fatalf("ctx.data = %v", ctxData(x))
			}
		})
	}
}

func TestWriteSources(t *testing.T) {
	e := newEnv(t)
	posts, err := e.App.Data().Collection("posts")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a workflow's db write fires a collection workflow", func(t *testing.T) {
		for _, sync := range []bool{false, true} {
			t.Run(fmt.Sprintf("sync %v", sync), func(t *testing.T) {
				e := e.at(t)
				title := fmt.Sprintf("db-%v", sync)
				writer := e.Workflow(map[string]any{
					"sync":   sync,
					"config": cfg("collection", "posts", "mode", 1, "condition", map[string]any{"title": title}),
					"script": `local db = require("db")
local row, err = db.create("logs", {text = "post " .. ctx.data.title})
if not row then error(err) end
return row.id`,
				})
				reader := e.Workflow(map[string]any{
					"sync":   sync,
					"config": cfg("collection", "logs", "mode", 1, "condition", map[string]any{"text": "post " + title}),
					"script": `return ctx.data.text`,
				})
				e.Post("/api/posts:create", e.Root, map[string]any{"title": title}).Must(t, 200)
				if sync {
					// Both ran, nested, before the create answered.
					for _, k := range []string{writer, reader} {
						if list := e.Executions(k); len(list) != 1 || workflowtest.Status(list[0]) != 1 {
							t.Fatalf("executions of %s: %v", k, list)
						}
					}
				}
				w := e.WaitFinal(writer, 1)[0]
				r := e.WaitFinal(reader, 1)[0]
				if workflowtest.Status(w) != 1 || workflowtest.Status(r) != 1 || r["output"] != "post "+title {
					t.Fatalf("writer %v\nreader %v", w, r)
				}
				stack, _ := r["stack"].([]any)
				if len(stack) != 1 {
					t.Fatalf("stack = %v", r["stack"])
				}
				f := stack[0].(map[string]any)
				if coretest.Num(f["execution"]) != coretest.ID(t, w) || coretest.Num(f["workflow"]) != coretest.Num(w["workflowId"]) {
					t.Fatalf("stack = %v, writer %v", stack, w)
				}
			})
		}
	})

	t.Run("a plugin write fires collection workflows", func(t *testing.T) {
		e := e.at(t)
		async := e.Workflow(map[string]any{"config": cfg("collection", "posts", "mode", 1, "condition", map[string]any{"title": "from go"}), "script": `return ctx.data.title`})
		sync := e.Workflow(map[string]any{"sync": true, "config": cfg("collection", "posts", "mode", 1, "condition", map[string]any{"title": "from go"}), "script": `return ctx.data.title`})
		err := e.App.Update(context.Background(), func(tx *core.Tx) error {
			_, err := e.App.Data().Create(tx, posts, map[string]any{"title": "from go"}, core.WriteOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(e.Executions(async)); n != 1 {
			t.Fatalf("async: %d executions queued with the write", n)
		}
		if list := e.Executions(sync); len(list) != 1 || workflowtest.Status(list[0]) != 1 || list[0]["output"] != "from go" {
			t.Fatalf("sync: %v", list)
		}
		if x := e.WaitFinal(async, 1)[0]; workflowtest.Status(x) != 1 || x["output"] != "from go" {
			t.Fatalf("async: %v", x)
		}
	})

	t.Run("a write that rolls back fires nothing", func(t *testing.T) {
		e := e.at(t)
		async := e.Workflow(map[string]any{"config": cfg("collection", "posts", "mode", 1, "condition", map[string]any{"title": "rolled back"}), "script": `return 1`})
		sync := e.Workflow(map[string]any{"sync": true, "config": cfg("collection", "posts", "mode", 1, "condition", map[string]any{"title": "rolled back"}), "script": `return 1`})
		boom := errors.New("boom")
		err := e.App.Update(context.Background(), func(tx *core.Tx) error {
			if _, err := e.App.Data().Create(tx, posts, map[string]any{"title": "rolled back"}, core.WriteOptions{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		f := url.QueryEscape(`{"title":"rolled back"}`)
		if n := len(e.Get("/api/posts:list?filter="+f, e.Root).Must(t, 200).List(t)); n != 0 {
			t.Fatalf("%d records", n)
		}
		if n := len(e.Executions(async)) + len(e.Executions(sync)); n != 0 {
			t.Fatalf("%d executions for a write that rolled back", n)
		}
	})

	t.Run("a failed action fires nothing", func(t *testing.T) {
		e := e.at(t)
		key := e.Workflow(map[string]any{"config": cfg("collection", "posts", "mode", 7), "script": `return 1`})
		e.Post("/api/posts:create", e.Root, map[string]any{"views": 1}).Must(t, 400)
		e.Post("/api/posts:update?filterByTk=999", e.Root, map[string]any{"views": 1}).Must(t, 404)
		if n := len(e.Executions(key)); n != 0 {
			t.Fatalf("%d executions", n)
		}
	})

	t.Run("a bulk update fires once per record", func(t *testing.T) {
		e := e.at(t)
		key := e.Workflow(map[string]any{"config": cfg("collection", "posts", "mode", 2, "changed", []any{"status"}), "script": `return ctx.data.id`})
		var ids []string
		for i := 0; i < 3; i++ {
			id := coretest.ID(t, e.Post("/api/posts:create", e.Root, map[string]any{"title": "bulk"}).Must(t, 200).Obj(t))
			ids = append(ids, fmt.Sprint(id))
		}
		f := url.QueryEscape(`{"id":{"$in":[` + strings.Join(ids, ",") + `]}}`)
		e.Post("/api/posts:update?filter="+f, e.Root, map[string]any{"status": "bulk"}).Must(t, 200)
		got := map[string]bool{}
		for _, x := range e.WaitFinal(key, 3) {
			got[fmt.Sprint(coretest.Num(x["output"]))] = true
		}
		for _, id := range ids {
			if !got[id] {
				t.Fatalf("record %s did not fire: %v", id, got)
			}
		}
	})
}

func TestAsyncQueuedWithTheWrite(t *testing.T) {
	e := newEnv(t)
	key := e.Workflow(map[string]any{"config": cfg("collection", "posts", "mode", 1), "script": `return ctx.data.title`})
	p := e.Post("/api/posts:create", e.Root, map[string]any{"title": "q"}).Must(t, 200).Obj(t)
	list := e.Executions(key)
	if len(list) != 1 {
		t.Fatalf("the write answered without its queued execution: %v", list)
	}
	if coretest.Num(ctxData(list[0])["id"]) != coretest.ID(t, p) {
		t.Fatalf("ctx.data = %v", ctxData(list[0]))
	}
	x := e.WaitFinal(key, 1)[0]
	if workflowtest.Status(x) != 1 || x["output"] != "q" || x["startedAt"] == nil || x["finishedAt"] == nil {
		t.Fatalf("execution = %v", x)
	}
	if _, hasUser := ctxOf(x)["user"]; hasUser {
		t.Fatalf("a collection event carries a user: %v", ctxOf(x))
	}
}

func TestSyncCannotRollBack(t *testing.T) {
	cases := []struct {
		name   string
		script string
		status int64
		errMsg string
	}{
		{"flow.fail", `flow.fail("refused")`, -1, "refused"},
		{"lua error", `error("broken")`, -2, "broken"},
		{"flow.finish", `flow.message("hi") flow.finish()`, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			key := e.Workflow(map[string]any{"sync": true, "config": cfg("collection", "posts", "mode", 3), "script": c.script})
			r := e.Post("/api/posts:create", e.Root, map[string]any{"title": "kept"}).Must(t, 200)
			id := coretest.ID(t, r.Obj(t))
			if r.Body["errors"] != nil || r.Body["messages"] != nil {
				t.Fatalf("a collection workflow changed the response: %s", r.Raw)
			}
			list := e.Executions(key)
			if len(list) != 1 || workflowtest.Status(list[0]) != c.status {
				t.Fatalf("executions = %v", list)
			}
			if c.errMsg != "" {
				em, _ := list[0]["error"].(map[string]any)
				if m, _ := em["message"].(string); !strings.Contains(m, c.errMsg) {
					t.Fatalf("error = %v", list[0]["error"])
				}
			}
			if got := e.Get(fmt.Sprintf("/api/posts:get?filterByTk=%d", id), e.Root).Must(t, 200).Obj(t); got["title"] != "kept" {
				t.Fatalf("record = %v", got)
			}
			e.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", id), e.Root, map[string]any{"title": "changed"}).Must(t, 200)
			if got := e.Get(fmt.Sprintf("/api/posts:get?filterByTk=%d", id), e.Root).Must(t, 200).Obj(t); got["title"] != "changed" {
				t.Fatalf("record = %v", got)
			}
			if n := len(e.Executions(key)); n != 2 {
				t.Fatalf("%d executions after the update", n)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		config any
		want   string // part of the 400 message; "" means accepted
	}{
		{"valid", cfg("collection", "posts", "mode", 7), ""},
		{"valid with everything", cfg("collection", "posts", "mode", 3, "changed", []any{"status", "category", "categoryId"}, "condition", map[string]any{"category.name": "x"}, "appends", []any{"category.posts"}), ""},
		{"no config", nil, "collection is required"},
		{"no collection", cfg("mode", 1), "collection is required"},
		{"unknown collection", cfg("collection", "nope", "mode", 1), `"nope" does not exist`},
		{"system collection", cfg("collection", "users", "mode", 1), "system collection"},
		{"collection not a string", cfg("collection", 5, "mode", 1), "collection is required"},
		{"no mode", cfg("collection", "posts"), "mode"},
		{"mode 0", cfg("collection", "posts", "mode", 0), "mode"},
		{"mode 8", cfg("collection", "posts", "mode", 8), "mode"},
		{"mode negative", cfg("collection", "posts", "mode", -1), "mode"},
		{"mode a string", cfg("collection", "posts", "mode", "1"), "mode"},
		{"mode a fraction", cfg("collection", "posts", "mode", 1.5), "mode"},
		{"changed with an unknown field", cfg("collection", "posts", "mode", 2, "changed", []any{"status", "nope"}), "nope is not a field"},
		{"changed with a to-many field", cfg("collection", "categories", "mode", 2, "changed", []any{"posts"}), "posts is not a field"},
		{"changed not a list", cfg("collection", "posts", "mode", 2, "changed", "status"), "changed must be a list"},
		{"changed with a number", cfg("collection", "posts", "mode", 2, "changed", []any{5}), "is not a field"},
		{"condition on an unknown field", cfg("collection", "posts", "mode", 1, "condition", map[string]any{"nope": 1}), "condition"},
		{"condition with an unknown operator", cfg("collection", "posts", "mode", 1, "condition", map[string]any{"views": map[string]any{"$like": 1}}), "condition"},
		{"condition not an object", cfg("collection", "posts", "mode", 1, "condition", "views > 1"), "condition"},
		{"appends of a plain field", cfg("collection", "posts", "mode", 1, "appends", []any{"title"}), "title"},
		{"appends of an unknown path", cfg("collection", "posts", "mode", 1, "appends", []any{"category.nope"}), "nope"},
		{"appends not a list", cfg("collection", "posts", "mode", 1, "appends", "category"), "appends must be a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := map[string]any{"type": collectiontrigger.Type, "config": c.config, "script": "return 1"}
			r := e.Post("/api/workflows:create", e.Root, body)
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
	t.Run("update with a bad config", func(t *testing.T) {
		e := e.at(t)
		w := e.Post("/api/workflows:create", e.Root, map[string]any{"type": collectiontrigger.Type, "config": cfg("collection", "posts", "mode", 1), "script": "return 1"}).Must(t, 200).Obj(t)
		r := e.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", coretest.ID(t, w)), e.Root, map[string]any{"config": cfg("collection", "posts", "mode", 9)}).Must(t, 400)
		if !strings.Contains(r.ErrMsg(t), "mode") {
			t.Fatal(r.Raw)
		}
	})
}

func TestManualExecute(t *testing.T) {
	e := newEnv(t)
	w := e.Post("/api/workflows:create", e.Root, map[string]any{
		"type": collectiontrigger.Type, "config": cfg("collection", "posts", "mode", 1, "appends", []any{"category"}),
		"script": `return ctx.data.title .. "/" .. tostring(ctx.data.category and ctx.data.category.name)`,
	}).Must(t, 200).Obj(t)
	cat := coretest.ID(t, e.Post("/api/categories:create", e.Root, map[string]any{"name": "news"}).Must(t, 200).Obj(t))
	p := coretest.ID(t, e.Post("/api/posts:create", e.Root, map[string]any{"title": "m", "categoryId": cat}).Must(t, 200).Obj(t))
	wid := coretest.ID(t, w)
	for _, data := range []any{p, map[string]any{"id": p}, fmt.Sprint(p)} {
		r := e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", wid), e.Root, map[string]any{"data": data}).Must(t, 200)
		x := r.Obj(t)["execution"].(map[string]any)
		if coretest.Num(x["status"]) != 1 {
			t.Fatalf("execute with %v: %s", data, r.Raw)
		}
		got := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(x["id"])), e.Root).Must(t, 200).Obj(t)
		if got["output"] != "m/news" || got["manually"] != true {
			t.Fatalf("execution = %v", got)
		}
	}
	e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", wid), e.Root, map[string]any{"data": 999}).Must(t, 400)
	e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", wid), e.Root, map[string]any{}).Must(t, 400)

	// An update event: ctx.previous is the record before.
	upd := coretest.ID(t, e.Post("/api/workflows:create", e.Root, map[string]any{
		"type": collectiontrigger.Type, "config": cfg("collection", "posts", "mode", 2),
		"script": `return ctx.previous.title .. "->" .. ctx.data.title`,
	}).Must(t, 200).Obj(t))
	url := fmt.Sprintf("/api/workflows:execute?filterByTk=%d", upd)
	x := e.Post(url, e.Root, map[string]any{"data": p, "previous": map[string]any{"id": p, "title": "old"}}).Must(t, 200).Obj(t)["execution"].(map[string]any)
	if got := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(x["id"])), e.Root).Must(t, 200).Obj(t); got["output"] != "old->m" {
		t.Fatalf("execution with previous = %v", got)
	}
	bad := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"previous not an object", map[string]any{"data": p, "previous": 1}, "previous"},
		{"unknown fields", map[string]any{"data": p, "prev": map[string]any{}, "x": 1}, "prev, x"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if msg := e.Post(url, e.Root, tc.body).Must(t, 400).ErrMsg(t); !strings.Contains(msg, tc.msg) {
				t.Fatalf("error %q lacks %q", msg, tc.msg)
			}
		})
	}
}

// TestLoopProtection: workflows that write through db fire collection workflows, which
// write again; a workflow already on the execution stack stackLimit times is not started
// again, and the skip is logged on the execution whose write caused it.
func TestLoopProtection(t *testing.T) {
	type shape int
	const (
		pingPong shape = iota // A on a (create) creates b; B on b (create) creates a
		self                  // W on a (update) updates the same record
	)
	cases := []struct {
		name       string
		shape      shape
		sync       bool
		stackLimit int
		runs       int // executions of each workflow
	}{
		{"ping-pong async", pingPong, false, 0, 1},
		{"ping-pong sync", pingPong, true, 0, 1},
		{"ping-pong async stackLimit 2", pingPong, false, 2, 2},
		{"ping-pong sync stackLimit 2", pingPong, true, 2, 2},
		{"self-trigger async", self, false, 0, 1},
		{"self-trigger sync", self, true, 0, 1},
		{"self-trigger async stackLimit 2", self, false, 2, 2},
		{"self-trigger sync stackLimit 2", self, true, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wf := workflow.New(workflow.Config{Workers: 2, SweepInterval: time.Hour})
			s := coretest.New(t, core.Config{}, core.WithPlugins(wf, collectiontrigger.New(wf)))
			e := &env{&workflowtest.Env{Server: s, T: t, Type: collectiontrigger.Type}}
			e.Collection(`{"name":"a","fields":[{"name":"n","type":"integer"}]}`)
			e.Collection(`{"name":"b","fields":[{"name":"n","type":"integer"}]}`)
			options := map[string]any{}
			if c.stackLimit > 0 {
				options["stackLimit"] = c.stackLimit
			}
			def := func(coll string, mode int, script string) map[string]any {
				return map[string]any{"sync": c.sync, "options": options, "config": cfg("collection", coll, "mode", mode), "script": script}
			}
			switch c.shape {
			case pingPong:
				a := e.Workflow(def("a", 1, `local db = require("db")
local row, err = db.create("b", {n = ctx.data.n + 1})
if not row then error(err) end`))
				b := e.Workflow(def("b", 1, `local db = require("db")
local row, err = db.create("a", {n = ctx.data.n + 1})
if not row then error(err) end`))
				e.Post("/api/a:create", e.Root, map[string]any{"n": 0}).Must(t, 200)
				as := e.WaitFinal(a, c.runs)
				bs := e.WaitFinal(b, c.runs)
				// Every round wrote one a and one b; the last b write was the skipped one.
				if na, nb := e.count("a"), e.count("b"); na != c.runs+1 || nb != c.runs {
					t.Fatalf("a has %d records, b %d", na, nb)
				}
				checkRuns(t, append(as, bs...))
				if l := logText(bs[c.runs-1]); !strings.Contains(l, "loop protection") || !strings.Contains(l, a) {
					t.Fatalf("the last B execution does not note the skipped A: %q", l)
				}
				for _, x := range append(as, bs[:c.runs-1]...) {
					if strings.Contains(logText(x), "loop protection") {
						t.Fatalf("execution %v notes a skip it did not cause", x)
					}
				}
			case self:
				w := e.Workflow(def("a", 2, `local db = require("db")
local rows, err = db.update("a", ctx.data.id, {n = ctx.data.n + 1})
if not rows then error(err) end
return ctx.data.n`))
				id := coretest.ID(t, e.Post("/api/a:create", e.Root, map[string]any{"n": 0}).Must(t, 200).Obj(t))
				e.Post(fmt.Sprintf("/api/a:update?filterByTk=%d", id), e.Root, map[string]any{"n": 1}).Must(t, 200)
				xs := e.WaitFinal(w, c.runs)
				checkRuns(t, xs)
				rec := e.Get(fmt.Sprintf("/api/a:get?filterByTk=%d", id), e.Root).Must(t, 200).Obj(t)
				if coretest.Num(rec["n"]) != int64(1+c.runs) {
					t.Fatalf("n = %v after %d runs", rec["n"], c.runs)
				}
				for i, x := range xs {
					if coretest.Num(x["output"]) != int64(1+i) {
						t.Fatalf("run %d saw n = %v", i, x["output"])
					}
					noted := strings.Contains(logText(x), "loop protection")
					if noted != (i == c.runs-1) {
						t.Fatalf("run %d of %d: logs %q", i+1, c.runs, logText(x))
					}
				}
			}
		})
	}
}

// checkRuns checks that every execution resolved and that each one's stack is as deep as
// the executions before it in the chain.
func checkRuns(t *testing.T, xs []map[string]any) {
	t.Helper()
	depths := map[int]bool{}
	for _, x := range xs {
		if workflowtest.Status(x) != 1 {
			t.Fatalf("status %v: %v", x["status"], x)
		}
		stack, _ := x["stack"].([]any)
		depths[len(stack)] = true
	}
	for i := range xs {
		if !depths[i] {
			t.Fatalf("no execution at depth %d: %v", i, xs)
		}
	}
}

// TestEnabledOnceCreated: a workflow fires on the first write after workflows:create has
// answered, even while executions of other workflows finish (their first run writes the
// workflow version, which reloads the set of enabled workflows concurrently).
func TestEnabledOnceCreated(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 100; i++ {
		title := fmt.Sprintf("round %d", i)
		key := e.Workflow(map[string]any{"config": cfg("collection", "posts", "mode", 1, "condition", map[string]any{"title": title}), "script": `return 1`})
		e.create(map[string]any{"title": title})
		if n := len(e.Executions(key)); n != 1 {
			t.Fatalf("%s: a workflow created before the write fired %d times", title, n)
		}
	}
}
