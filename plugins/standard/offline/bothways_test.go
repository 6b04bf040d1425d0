package offline

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// sameScript uses db, ctx.data, ctx.previous, print, flow.message and a return value.
const sameScript = `--- key: same
--- type: collection
--- config: {"collection": "orders", "mode": 2}
local db = require("db")
print("was", ctx.previous.n)
flow.message("order " .. ctx.data.id)
local r = db.create("orders", {item = ctx.data.item .. "+", n = ctx.data.n + 1})
db.update("orders", ctx.data.id, {n = {["$inc"] = 10}})
if ctx.data.n > 5 then flow.fail("too many") end
return {id = r.id, n = r.n}
`

const sameFixtures = `{"collections": [{"name": "orders", "fields": [{"name": "item", "type": "string"}, {"name": "n", "type": "integer"}]}],
 "records": {"orders": [{"item": "a", "n": 1}, {"item": "b", "n": 7}]}}`

// TestSameOnServer runs one script on a server (HTTP, workflows:execute) and offline
// (lua run) with the same fixtures and context, and compares status, output, error,
// messages, logs and writes.
func TestSameOnServer(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "same.lua", sameScript)
	fx := writeFile(t, dir, "fx.json", sameFixtures)
	tests := []struct {
		name   string
		record int
		status int
	}{
		{"resolves", 1, 1},
		{"fails on line 9", 2, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			previous := `{"id": 1, "item": "a", "n": 0}`
			_, off, stderr := luaRunJSON(t, file, "--fixtures", fx, "--data", fmt.Sprint(tc.record), "--previous", previous)
			if off == nil {
				t.Fatalf("no report: %s", stderr)
			}
			on := serverRun(t, tc.record, previous)
			if got := off["status"]; fmt.Sprint(got) != fmt.Sprint(tc.status) {
				t.Fatalf("offline status %v, want %d: %v", got, tc.status, off)
			}
			for _, k := range []string{"status", "output", "error", "messages", "logs", "writes"} {
				a, b := canon(off[k]), canon(on[k])
				if a != b {
					t.Errorf("%s differs:\noffline %s\nserver  %s", k, a, b)
				}
			}
		})
	}
}

// serverRun creates the fixtures and the workflow on a test server, runs it with
// workflows:execute, and returns its execution in lua run's shape.
func serverRun(t *testing.T, record int, previous string) map[string]any {
	rec := &recorder{}
	s := coretest.New(t, core.Config{}, core.WithPlugins(append(stdPlugins(), rec)...))
	var fx Fixtures
	if err := decodeJSON([]byte(sameFixtures), &fx, "fixtures"); err != nil {
		t.Fatal(err)
	}
	for _, c := range fx.Collections {
		s.Post("/api/collections:create", s.Root, c).Must(t, 200)
	}
	for _, v := range fx.Records["orders"] {
		s.Post("/api/orders:create", s.Root, v).Must(t, 200)
	}
	w := s.Post("/api/workflows:create", s.Root, map[string]any{"title": "same", "type": "collection",
		"config": map[string]any{"collection": "orders", "mode": 2}, "script": sameScript}).Must(t, 200).Obj(t)
	var prev map[string]any
	if err := json.Unmarshal([]byte(previous), &prev); err != nil {
		t.Fatal(err)
	}
	rec.start()
	x := s.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, w)), s.Root,
		map[string]any{"data": record, "previous": prev}).Must(t, 200).Obj(t)["execution"].(map[string]any)
	writes := rec.stop()
	got := s.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", coretest.Num(x["id"])), s.Root).Must(t, 200).Obj(t)
	var msgs []any
	for _, m := range got["messages"].([]any) {
		msgs = append(msgs, m.(map[string]any)["message"])
	}
	errv := got["error"]
	if m, ok := errv.(map[string]any); ok {
		if _, has := m["line"]; !has {
			m["line"] = nil
		}
	}
	ws, _ := json.Marshal(writes)
	var wv any
	_ = json.Unmarshal(ws, &wv)
	return map[string]any{"status": got["status"], "output": got["output"], "error": errv, "messages": msgs,
		"logs": got["logs"], "writes": wv}
}

// canon renders v as JSON with times (which differ between runs) blanked.
func canon(v any) string {
	b, _ := json.Marshal(v)
	var x any
	_ = json.Unmarshal(b, &x)
	var blank func(any) any
	blank = func(v any) any {
		switch y := v.(type) {
		case map[string]any:
			for k, e := range y {
				if k == "time" || k == "createdAt" || k == "updatedAt" {
					y[k] = "T"
				} else {
					y[k] = blank(e)
				}
			}
		case []any:
			for i, e := range y {
				y[i] = blank(e)
			}
		}
		return v
	}
	b, _ = json.Marshal(blank(x))
	return string(b)
}
