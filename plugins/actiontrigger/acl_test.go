package actiontrigger_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core/coretest"
)

// TestAssociationsToExecutionsAndWorkflows: a collection with a belongsTo to executions
// or workflows does not let a member read another user's execution or a workflow's
// script through appends, dotted filters or association resources (issue 12, item 1).
func TestAssociationsToExecutionsAndWorkflows(t *testing.T) {
	e := newEnv(t)
	w := e.Post("/api/workflows:create", e.Root, map[string]any{"type": "action", "config": map[string]any{"collection": "posts"},
		"script": `return "secret output"`}).Must(t, 200).Obj(t)
	e.Post("/api/posts:create", e.Root, map[string]any{"title": "a"}).Must(t, 200)
	r := e.Post(fmt.Sprintf("/api/workflows:execute?filterByTk=%d", coretest.ID(t, w)), e.Root, map[string]any{"data": 1, "userId": 1}).Must(t, 200).Obj(t)
	exID := coretest.Num(r["execution"].(map[string]any)["id"])
	e.Collection(`{"name":"orders","fields":[{"name":"ex","type":"belongsTo","target":"executions"},{"name":"wf","type":"belongsTo","target":"workflows"}]}`)
	e.Post("/api/orders:create", e.Root, map[string]any{"ex": exID, "wf": coretest.ID(t, w)}).Must(t, 200)
	member := e.User("m@x.io", "member")
	admin := e.User("a@x.io", "admin")

	tests := []struct {
		name  string
		path  string
		names string
	}{
		{"appends ex", "/api/orders:list?appends=ex", `"ex"`},
		{"appends wf", "/api/orders:get/1?appends=wf", `"wf"`},
		{"appends ex.workflow", "/api/orders:list?appends=ex.workflow", `"ex"`},
		{"filter on ex.context", "/api/orders:list?filter=" + url.QueryEscape(`{"ex.context":{"$notEmpty":true}}`), `"ex.context"`},
		{"filter on wf.script", "/api/orders:list?filter=" + url.QueryEscape(`{"wf.script":{"$includes":"secret"}}`), `"wf.script"`},
		{"sort on ex.status", "/api/orders:list?sort=ex.status", `"ex.status"`},
		{"association resource", "/api/orders/1/ex:get", ""},
		{"association resource to workflows", "/api/orders/1/wf:list", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Get(tc.path, member).Must(t, 403)
			if strings.Contains(r.Raw, "secret output") || strings.Contains(r.Raw, "return") {
				t.Fatalf("leak: %s", r.Raw)
			}
			if tc.names != "" && !strings.Contains(r.ErrMsg(t), tc.names) {
				t.Fatalf("message %q does not name %s", r.ErrMsg(t), tc.names)
			}
		})
	}
	t.Run("member lists orders without appends", func(t *testing.T) {
		e.Get("/api/orders:list", member).Must(t, 200)
	})
	t.Run("admin reads through", func(t *testing.T) {
		o := e.Get("/api/orders:get/1?appends=ex,wf", admin).Must(t, 200).Obj(t)
		if ex, _ := o["ex"].(map[string]any); ex["output"] != "secret output" {
			t.Fatalf("ex = %v", o["ex"])
		}
		e.Get("/api/orders/1/ex:get", admin).Must(t, 200)
	})
}
