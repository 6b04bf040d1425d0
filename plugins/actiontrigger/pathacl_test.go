package actiontrigger_test

import (
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core/coretest"
)

// TestPathNeedsReadPermission: a key's !path fires a workflow on the record at its end only
// when the role may read through the path, as appends=path (API.md §3).
func TestPathNeedsReadPermission(t *testing.T) {
	e := newEnv(t)
	onUser := e.Workflow(map[string]any{"config": map[string]any{"collection": "users"}, "sync": true,
		"script": `return ctx.data.email`})
	onCat := e.Workflow(map[string]any{"config": map[string]any{"collection": "categories"}, "sync": true,
		"script": `return ctx.data.name`})
	cat := coretest.ID(t, e.Post("/api/categories:create", e.Root, map[string]any{"name": "c"}).Must(t, 200).Obj(t))
	member := e.User("m@x.io", "member")
	e.Get("/api/posts:list?appends=category.createdBy", member).Must(t, 403) // the rule it follows

	for _, tc := range []struct {
		name, key, token string
		fires            bool
	}{
		{"member may not reach users", onUser + "!category.createdBy", member, false},
		{"member reaches categories", onCat + "!category", member, true},
		{"root reaches users", onUser + "!category.createdBy", e.Root, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, _, _ := strings.Cut(tc.key, "!")
			before := len(e.Executions(key))
			r := e.Post("/api/posts:create?triggerWorkflows="+tc.key, tc.token, map[string]any{"title": "p", "categoryId": cat}).Must(t, 200)
			ran := len(e.Executions(key)) - before
			ignored := strings.Contains(r.Raw, "ignoredWorkflows")
			if tc.fires && (ran != 1 || ignored) || !tc.fires && (ran != 0 || !ignored) {
				t.Fatalf("fires=%v: %d executions, response %s", tc.fires, ran, r.Raw)
			}
		})
	}
}
