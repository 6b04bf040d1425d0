package interceptor_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/valyala/fasthttp"
)

// postAll sends n POSTs at once (root's token) and returns their statuses and bodies; unlike
// coretest's client it may run off the test goroutine.
func postAll(s *coretest.Server, n int, path string, body string) (statuses []int, bodies []string) {
	statuses, bodies = make([]int, n), make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			req.SetRequestURI("http://actionflow" + path)
			req.Header.SetMethod("POST")
			req.Header.Set("Authorization", "Bearer "+s.Root)
			req.SetBodyString(body)
			if err := s.Client.DoTimeout(req, res, 60*time.Second); err != nil {
				bodies[i] = err.Error()
				return
			}
			statuses[i], bodies[i] = res.StatusCode(), string(res.Body())
		}()
	}
	close(start)
	wg.Wait()
	return statuses, bodies
}

// TestIncrementInWorkflows: db.update takes {"$inc": n} too, so scripts that count in a
// record lose no increment however many run at once; a pre-action workflow sees the
// operator as the client sent it.
func TestIncrementInWorkflows(t *testing.T) {
	const n = 50
	e := newEnv(t)
	e.Collection(`{"name":"counters","fields":[{"name":"n","type":"integer"}]}`)
	const bump = `local db = require("db")
local rows, err = db.update("counters", %d, {n = {["$inc"] = 1}})
if not rows then error(err) end
if #rows ~= 1 then error("updated " .. #rows) end`
	tests := []struct {
		name string
		typ  string
	}{
		{"sync post-action workflow", actiontrigger.Type},
		{"pre-action workflow", interceptor.Type},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := coretest.ID(t, e.Post("/api/counters:create", e.Root, map[string]any{}).Must(t, 200).Obj(t))
			w := e.Post("/api/workflows:create", e.Root, map[string]any{"type": tt.typ, "sync": true, "enabled": true,
				"config": map[string]any{"collection": "posts"}, "script": fmt.Sprintf(bump, id)}).Must(t, 200).Obj(t)
			statuses, bodies := postAll(e.Server, n, "/api/posts:create?triggerWorkflows="+w["key"].(string), `{"title":"t"}`)
			for i, st := range statuses {
				if st != 200 {
					t.Fatalf("create %d: status %d: %s", i, st, bodies[i])
				}
			}
			rec := e.Get(fmt.Sprintf("/api/counters:get?filterByTk=%d", id), e.Root).Must(t, 200).Obj(t)
			if got := coretest.Num(rec["n"]); got != n {
				t.Errorf("n = %d after %d workflow increments, want %d", got, n, n)
			}
		})
	}

	t.Run("pre-action workflow sees the operator", func(t *testing.T) {
		e.workflow("sees-inc", `local v = ctx.params.values.views
if type(v) ~= "table" or v["$inc"] ~= 2 then flow.fail("saw " .. tostring(v)) end`, nil)
		id := e.post("counted")
		e.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", id), e.Root, map[string]any{"views": 40}).Must(t, 200)
		r := e.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d&triggerWorkflows=sees-inc", id), e.Root, `{"views":{"$inc":2}}`).Must(t, 200)
		recs := r.List(t)
		if len(recs) != 1 || coretest.Num(recs[0]["views"]) != 42 {
			t.Fatalf("answer %s, want views 42", r.Raw)
		}
	})
}
