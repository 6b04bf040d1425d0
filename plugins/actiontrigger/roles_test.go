package actiontrigger_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/collectiontrigger"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

// ignored is a response's meta.ignoredWorkflows, as "a,b" ("" when there is no meta).
func ignored(r coretest.Response) string {
	meta, _ := r.Body["meta"].(map[string]any)
	list, _ := meta["ignoredWorkflows"].([]any)
	out := ""
	for i, k := range list {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprint(k)
	}
	return out
}

// TestRoles: config.roles decides which roles fire a workflow (API.md §3); a key the role
// may not fire is ignored like an unknown one, listed in meta.ignoredWorkflows and logged.
func TestRoles(t *testing.T) {
	logs := &workflowtest.Logs{}
	e := newEnvWith(t, workflow.Config{Workers: 1, SweepInterval: time.Hour}, core.Config{Logger: logs.Logger()},
		`{"name":"orders","fields":[{"name":"title","type":"string"}]}`,
		`{"name":"audit","fields":[{"name":"text","type":"string"}]}`)
	e.Post("/api/roles:create", e.Root, map[string]any{"name": "clerk", "permissions": map[string]any{"orders": []any{"create", "list"}}}).Must(t, 200)
	clerk := e.User("clerk@x.io", "clerk")
	admin := e.User("admin@x.io", "admin")
	const audit = `local db = require("db")
local row, err = db.create("audit", {text = ctx.data.title .. " by " .. ctx.roleName})
if not row then error(err) end
return row.text`
	adminOnly := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders", "roles": []any{"admin"}}, "script": audit})
	forClerks := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders", "roles": []any{"clerk", "admin"}}, "script": audit})
	e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders", "global": true, "actions": []any{"create"}, "roles": []any{"admin"}}, "script": audit})

	auditText := func(t *testing.T, text string) int {
		t.Helper()
		n := 0
		for _, r := range e.Get("/api/audit:list?pageSize=1000", e.Root).Must(t, 200).List(t) {
			if r["text"] == text {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name    string
		token   string
		role    string
		keys    string
		ignored string
		// audits are the audit texts the workflows must have written for the order.
		audits int
	}{
		{"a role left out fires nothing", clerk, "clerk", adminOnly, adminOnly, 0},
		{"a listed role fires it", clerk, "clerk", forClerks, "", 1},
		{"both: only the allowed one fires", clerk, "clerk", adminOnly + "," + forClerks, adminOnly, 1},
		{"admin fires the bound ones and the global one", admin, "admin", adminOnly + "," + forClerks, "", 3},
		{"root is not special for config.roles", e.Root, "root", adminOnly, adminOnly, 0},
		{"a typo is ignored, listed once", clerk, "clerk", "typo," + forClerks + ",typo", "typo", 1},
		{"a malformed item is listed as given", clerk, "clerk", "!x," + forClerks, "!x", 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			title := fmt.Sprintf("order %d", i)
			r := e.Post("/api/orders:create?triggerWorkflows="+tc.keys, tc.token, map[string]any{"title": title}).Must(t, 200)
			if got := ignored(r); got != tc.ignored {
				t.Fatalf("meta.ignoredWorkflows = %q, want %q: %s", got, tc.ignored, r.Raw)
			}
			if tc.ignored == "" && r.Body["meta"] != nil {
				t.Fatalf("meta without anything in it: %s", r.Raw)
			}
			if n := auditText(t, title+" by "+tc.role); n != tc.audits {
				t.Fatalf("%d audit records, want %d", n, tc.audits)
			}
			if tc.ignored == "" {
				return
			}
			if lines := logs.Lines("level=WARN", "keys="+tc.ignored, "resource=orders", "action=create"); len(lines) == 0 {
				t.Fatalf("no warning for %s in the log", tc.ignored)
			}
		})
	}
	t.Run("a refused workflow has no execution", func(t *testing.T) {
		for _, x := range e.At(t).Executions(adminOnly) {
			if ctx, _ := x["context"].(map[string]any); ctx["roleName"] != "admin" {
				t.Fatalf("execution for %v", ctx["roleName"])
			}
		}
	})
	t.Run("a list merges its meta", func(t *testing.T) {
		r := e.Get("/api/orders:list?triggerWorkflows="+forClerks, clerk).Must(t, 200)
		meta, _ := r.Body["meta"].(map[string]any)
		if ignored(r) != forClerks || meta["count"] == nil || meta["pageSize"] == nil {
			t.Fatalf("meta = %v", meta)
		}
	})
	t.Run("without triggerWorkflows nothing is reported", func(t *testing.T) {
		n := len(logs.Lines("ignored triggerWorkflows"))
		r := e.Post("/api/orders:create", clerk, map[string]any{"title": "plain"}).Must(t, 200)
		if r.Body["meta"] != nil || len(logs.Lines("ignored triggerWorkflows")) != n {
			t.Fatalf("reported: %s", r.Raw)
		}
	})
	t.Run("no user secret in the warnings", func(t *testing.T) {
		if l := logs.Lines(clerk); len(l) > 0 {
			t.Fatalf("token logged: %v", l)
		}
	})
}

// TestConfigRoles: config.roles is a non-empty list of role names, for request-bound
// trigger types only.
func TestConfigRoles(t *testing.T) {
	wf := workflow.New(workflow.Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(wf, actiontrigger.New(wf), collectiontrigger.New(wf)))
	s.Collection(`{"name":"orders","fields":[{"name":"title","type":"string"}]}`)
	tests := []struct {
		name   string
		typ    string
		roles  any
		status int
	}{
		{"a list of names", actiontrigger.Type, []any{"member", "clerk"}, 200},
		{"null is none", actiontrigger.Type, nil, 200},
		{"a string", actiontrigger.Type, "member", 400},
		{"an empty list", actiontrigger.Type, []any{}, 400},
		{"a number in the list", actiontrigger.Type, []any{"member", 7}, 400},
		{"an empty name", actiontrigger.Type, []any{""}, 400},
		{"a collection-event workflow", collectiontrigger.Type, []any{"member"}, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]any{"collection": "orders", "roles": tc.roles}
			if tc.typ == collectiontrigger.Type {
				cfg["mode"] = 1
			}
			r := s.Post("/api/workflows:create", s.Root, map[string]any{"type": tc.typ, "config": cfg, "script": "return 1"}).Must(t, tc.status)
			if tc.status == 400 && !strings.HasPrefix(r.ErrMsg(t), "config.roles: ") {
				t.Fatalf("message %q does not name config.roles", r.ErrMsg(t))
			}
		})
	}
	t.Run("update checks it too", func(t *testing.T) {
		w := s.Post("/api/workflows:create", s.Root, map[string]any{"type": actiontrigger.Type, "config": map[string]any{"collection": "orders"}, "script": "return 1"}).Must(t, 200).Obj(t)
		s.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", coretest.ID(t, w)), s.Root,
			map[string]any{"config": map[string]any{"collection": "orders", "roles": "admin"}}).Must(t, 400)
	})
}
