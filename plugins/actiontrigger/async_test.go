package actiontrigger_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
	"github.com/actionflow/actionflow/runtime"
)

// newSerialEnv is newEnv with a single async worker, so that queue order is observable.
func newSerialEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, workflow.Config{Workers: 1, SweepInterval: time.Hour}, core.Config{},
		`{"name":"posts","fields":[{"name":"title","type":"string"},{"name":"views","type":"integer"}]}`,
		`{"name":"logs","fields":[{"name":"text","type":"string"}]}`)
}

// waitStatus waits until execution id has status want (nil for queued).
func (e *env) waitStatus(id int64, want int64) map[string]any {
	e.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", id), e.Root).Must(e.T, 200).Obj(e.T)
		if workflowtest.Status(x) == want {
			return x
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("execution %d has status %v, want %d", id, x["status"], want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAsyncRunsInEnqueueOrder(t *testing.T) {
	e := newSerialEnv(t)
	key := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"},
		"script": `require("db").create("logs", {text = ctx.data.title})`})
	for i := 0; i < 20; i++ {
		e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": fmt.Sprint(i)}).Must(t, 200)
	}
	e.WaitFinal(key, 20)
	logs := e.Get("/api/logs:list?sort=id&pageSize=100", e.Root).Must(t, 200).List(t)
	for i, l := range logs {
		if l["text"] != fmt.Sprint(i) {
			t.Fatalf("run %d wrote %v: not FIFO (%v)", i, l["text"], logs)
		}
	}
}

func TestAsyncOutcomesAndCancel(t *testing.T) {
	e := newSerialEnv(t)
	spin := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "options": map[string]any{"timeout": 60000},
		"script": "while true do end"})
	slow := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "options": map[string]any{"timeout": 50},
		"script": "while true do end"})
	broken := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"},
		"script": "local n = 1\nlocal x = nil\nreturn x.field"})
	after := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "script": "return 'ran'"})

	execID := func(key string) int64 {
		list := e.Executions(key)
		return coretest.ID(t, list[len(list)-1])
	}
	cancel := func(id int64) {
		t.Helper()
		e.Post(fmt.Sprintf("/api/executions:cancel?filterByTk=%d", id), e.Root, nil).Must(t, 200)
	}

	t.Run("cancel a queued and a running execution", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+spin, e.Root, map[string]any{"title": "a"}).Must(t, 200)
		e.Post("/api/posts:create?triggerWorkflows="+after, e.Root, map[string]any{"title": "b"}).Must(t, 200)
		running, queued := execID(spin), execID(after)
		e.waitStatus(running, 0)
		// The only worker is busy: the second one waits in the queue.
		if x := e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", queued), e.Root).Must(t, 200).Obj(t); x["status"] != nil {
			t.Fatalf("second execution is not queued: %v", x["status"])
		}
		cancel(queued)
		if x := e.waitStatus(queued, -3); x["output"] != nil {
			t.Fatalf("a canceled queued execution ran: %v", x)
		}
		cancel(running)
		x := e.waitStatus(running, -3)
		if x["reason"] != "manual_cancel" {
			t.Fatalf("reason %v", x["reason"])
		}
		// The worker is free again.
		e.Post("/api/posts:create?triggerWorkflows="+after, e.Root, map[string]any{"title": "c"}).Must(t, 200)
		if x := e.waitStatus(execID(after), 1); x["output"] != "ran" {
			t.Fatalf("output %v", x["output"])
		}
		// The worker has passed the canceled one in the queue and left it as it was.
		if x := e.waitStatus(queued, -3); x["output"] != nil {
			t.Fatalf("a canceled queued execution ran once its worker was free: %v", x)
		}
		e.Post(fmt.Sprintf("/api/executions:cancel?filterByTk=%d", running), e.Root, nil).Must(t, 400)
	})
	t.Run("a queued execution destroyed before it runs never runs", func(t *testing.T) {
		logger := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"},
			"script": `require("db").create("logs", {text = ctx.data.title})`})
		e.Post("/api/posts:create?triggerWorkflows="+spin, e.Root, map[string]any{"title": "g"}).Must(t, 200)
		running := execID(spin)
		e.waitStatus(running, 0)
		e.Post("/api/posts:create?triggerWorkflows="+logger, e.Root, map[string]any{"title": "destroyed"}).Must(t, 200)
		e.Post(fmt.Sprintf("/api/executions:destroy?filterByTk=%d", execID(logger)), e.Root, nil).Must(t, 200)
		cancel(running)
		e.waitStatus(running, -3)
		// The next one runs after where the destroyed one was in the queue.
		e.Post("/api/posts:create?triggerWorkflows="+logger, e.Root, map[string]any{"title": "kept"}).Must(t, 200)
		e.waitStatus(execID(logger), 1)
		var texts []any
		for _, l := range e.Get("/api/logs:list?pageSize=100", e.Root).Must(t, 200).List(t) {
			texts = append(texts, l["text"])
		}
		if len(texts) != 1 || texts[0] != "kept" {
			t.Fatalf("logs %v: the destroyed execution ran", texts)
		}
	})
	t.Run("a running execution cannot be destroyed", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+spin, e.Root, map[string]any{"title": "f"}).Must(t, 200)
		id := execID(spin)
		e.waitStatus(id, 0)
		// Only its worker writes a running execution (the finish write relies on it).
		e.Post(fmt.Sprintf("/api/executions:destroy?filterByTk=%d", id), e.Root, nil).Must(t, 400)
		cancel(id)
		x := e.waitStatus(id, -3)
		if x["reason"] != "manual_cancel" || x["startedAt"] == nil || x["finishedAt"] == nil {
			t.Fatalf("canceled execution %v", x)
		}
		e.Post(fmt.Sprintf("/api/executions:destroy?filterByTk=%d", id), e.Root, nil).Must(t, 200)
		e.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", id), e.Root).Must(t, 404)
	})
	t.Run("timeout aborts with status -3", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+slow, e.Root, map[string]any{"title": "d"}).Must(t, 200)
		x := e.waitStatus(execID(slow), -3)
		if x["reason"] != "timeout" {
			t.Fatalf("reason %v", x["reason"])
		}
	})
	t.Run("a Lua error is status -2 with its line", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+broken, e.Root, map[string]any{"title": "e"}).Must(t, 200)
		x := e.waitStatus(execID(broken), -2)
		if errv, _ := x["error"].(map[string]any); coretest.Num(errv["line"]) != 3 {
			t.Fatalf("error %v", x["error"])
		}
	})
	t.Run("unknown execution", func(t *testing.T) {
		e.Post("/api/executions:cancel?filterByTk=99999", e.Root, nil).Must(t, 404)
		e.Get("/api/executions:list?filter="+url.QueryEscape(`{"nope":1}`), e.Root).Must(t, 400)
	})
}

// TestAsyncDeleteOnStatus: an async execution that ends with a status listed in
// deleteExecutionOnStatus is deleted; one that ends otherwise is kept.
func TestAsyncDeleteOnStatus(t *testing.T) {
	e := newSerialEnv(t)
	key := e.Workflow(map[string]any{"options": map[string]any{"deleteExecutionOnStatus": []any{1}}, "config": map[string]any{"collection": "posts"},
		"script": `if ctx.data.title == "fail" then flow.fail("no") end
require("db").create("logs", {text = ctx.data.title})`})
	e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": "ok"}).Must(t, 200)
	e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": "fail"}).Must(t, 200)
	// The single worker runs them in order: once the failed one is final, both ran.
	list := e.WaitFinal(key, 1)
	if workflowtest.Status(list[0]) != -1 {
		t.Fatalf("kept execution %v, want the failed one", list[0])
	}
	if logs := e.Get("/api/logs:list", e.Root).Must(t, 200).List(t); len(logs) != 1 || logs[0]["text"] != "ok" {
		t.Fatalf("the resolved run did not run: logs %v", logs)
	}
}

// TestAsyncStartMark: a run that lasts is marked started in the store (found by status 0,
// with its startedAt) until it ends, and keeps that startedAt; a short one goes from
// queued to final (in one write) with a startedAt of its own.
func TestAsyncStartMark(t *testing.T) {
	e := newSerialEnv(t)
	waiting := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "options": map[string]any{"timeout": 60000},
		"script": `local db = require("db")
while not db.get("logs", 1) do end
return "released"`})
	quick := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "script": "return 'quick'"})

	t.Run("a lasting run is marked started", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+waiting, e.Root, map[string]any{"title": "a"}).Must(t, 200)
		id := coretest.ID(t, e.Executions(waiting)[0])
		f := url.QueryEscape(fmt.Sprintf(`{"status":0,"key":%q}`, waiting))
		var marked map[string]any
		deadline := time.Now().Add(20 * time.Second)
		for marked == nil {
			if l := e.Get("/api/executions:list?filter="+f, e.Root).Must(t, 200).List(t); len(l) == 1 {
				marked = l[0]
			} else if time.Now().After(deadline) {
				t.Fatalf("execution %d never listed as started: %v", id, e.Executions(waiting))
			}
			time.Sleep(5 * time.Millisecond)
		}
		if coretest.ID(t, marked) != id || marked["startedAt"] == nil || marked["finishedAt"] != nil {
			t.Fatalf("marked execution %v", marked)
		}
		e.Post("/api/logs:create", e.Root, map[string]any{"text": "go"}).Must(t, 200)
		x := e.waitStatus(id, 1)
		if x["output"] != "released" || x["startedAt"] != marked["startedAt"] || x["finishedAt"] == nil {
			t.Fatalf("finished execution %v, marked %v", x, marked)
		}
		if l := e.Get("/api/executions:list?filter="+f, e.Root).Must(t, 200).List(t); len(l) != 0 {
			t.Fatalf("still listed as started: %v", l)
		}
	})
	t.Run("a short run has its own startedAt", func(t *testing.T) {
		e.Post("/api/posts:create?triggerWorkflows="+quick, e.Root, map[string]any{"title": "b"}).Must(t, 200)
		x := e.WaitFinal(quick, 1)[0]
		start, _ := x["startedAt"].(string)
		end, _ := x["finishedAt"].(string)
		if x["output"] != "quick" || start == "" || end == "" || start > end {
			t.Fatalf("execution %v", x)
		}
	})
}

// TestAsyncNeverStarvesSync: async runs take the runtime's background Lua states, so
// async scripts that run for long, as many as there are workers, leave requests' sync
// workflows their states (they used to wait for one until the async runs ended).
func TestAsyncNeverStarvesSync(t *testing.T) {
	e := newEnvWith(t, workflow.Config{Workers: 2, SweepInterval: time.Hour},
		core.Config{Lua: runtime.Config{Workers: 1, BackgroundWorkers: 2}}, titledPosts)
	spin := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "options": map[string]any{"timeout": 60000},
		"script": "while true do end"})
	quick := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "posts"}, "script": "flow.message('quick')"})
	for i := 0; i < 2; i++ {
		e.Post("/api/posts:create?triggerWorkflows="+spin, e.Root, map[string]any{"title": "spin"}).Must(t, 200)
	}
	spinning := e.Executions(spin)
	for _, x := range spinning {
		e.waitStatus(coretest.ID(t, x), 0)
	}
	r := e.Post("/api/posts:create?triggerWorkflows="+quick, e.Root, map[string]any{"title": "q"}).Must(t, 200)
	if msgs, _ := r.Body["messages"].([]any); len(msgs) != 1 {
		t.Fatalf("response %s", r.Raw)
	}
	for _, x := range spinning {
		e.Post(fmt.Sprintf("/api/executions:cancel?filterByTk=%d", coretest.ID(t, x)), e.Root, nil).Must(t, 200)
		e.waitStatus(coretest.ID(t, x), -3)
	}
}
