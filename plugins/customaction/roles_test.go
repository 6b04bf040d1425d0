package customaction_test

import (
	"fmt"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/customaction"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

// TestRoles: a workflow without a collection (workflows:trigger) runs only for root,
// admin and the roles in its config.roles; on a collection route config.roles, when set,
// decides. When nothing runs only because of the role, the answer is the 400 of unknown
// keys (no existence oracle); keys that run nothing beside others that run are listed in
// meta.ignoredWorkflows.
func TestRoles(t *testing.T) {
	logs := &workflowtest.Logs{}
	wf := workflow.New(workflow.Config{Workers: 1})
	s := coretest.New(t, core.Config{Logger: logs.Logger()}, core.WithPlugins(wf, customaction.New(wf)))
	s.Collection(`{"name":"orders","fields":[{"name":"title","type":"string"}]}`)
	s.Collection(`{"name":"audit","fields":[{"name":"text","type":"string"}]}`)
	e := &workflowtest.Env{Server: s, T: t, Type: customaction.Type}
	s.Post("/api/orders:create", s.Root, map[string]any{"title": "o"}).Must(t, 200)
	const audit = `require("db").create("audit", {text = ctx.roleName}) return 1`
	free := e.Workflow(map[string]any{"sync": true, "script": audit})
	freeMembers := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"roles": []any{"member"}}, "script": audit})
	adminsOnOrders := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders", "roles": []any{"admin"}}, "script": audit})
	onOrders := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "orders"}, "script": audit})
	member := s.User("m@x.io", "member")
	admin := s.User("a@x.io", "admin")

	tests := []struct {
		name    string
		token   string
		path    string
		status  int
		ran     []string
		ignored string
	}{
		{"free, member, no config.roles", member, "/api/workflows:trigger?triggerWorkflows=" + free, 400, nil, ""},
		{"free, member in config.roles", member, "/api/workflows:trigger?triggerWorkflows=" + freeMembers, 200, []string{freeMembers}, ""},
		{"free, admin", admin, "/api/workflows:trigger?triggerWorkflows=" + free, 200, []string{free}, ""},
		{"free, root whatever config.roles says", s.Root, "/api/workflows:trigger?triggerWorkflows=" + freeMembers, 200, []string{freeMembers}, ""},
		{"free, one allowed and one not", member, "/api/workflows:trigger?triggerWorkflows=" + free + "," + freeMembers, 200, []string{freeMembers}, free},
		{"free, a typo beside an allowed one", member, "/api/workflows:trigger?triggerWorkflows=typo," + freeMembers, 200, []string{freeMembers}, "typo"},
		{"free, a typo and a refused one", member, "/api/workflows:trigger?triggerWorkflows=typo," + free, 400, nil, ""},
		{"collection, member left out", member, "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + adminsOnOrders, 400, nil, ""},
		{"collection, member, one left out", member, "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + adminsOnOrders + "," + onOrders, 200, []string{onOrders}, adminsOnOrders},
		{"collection, root is not special", s.Root, "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + adminsOnOrders, 400, nil, ""},
		{"collection, admin", admin, "/api/orders:trigger?filterByTk=1&triggerWorkflows=" + adminsOnOrders, 200, []string{adminsOnOrders}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := map[string]int{}
			for _, k := range []string{free, freeMembers, adminsOnOrders, onOrders} {
				before[k] = len(e.At(t).Executions(k))
			}
			r := s.Post(tc.path, tc.token, nil).Must(t, tc.status)
			for k, n := range before {
				want := n
				for _, ran := range tc.ran {
					if ran == k {
						want++
					}
				}
				if got := len(e.At(t).Executions(k)); got != want {
					t.Fatalf("%s: %d executions, want %d", k, got, want)
				}
			}
			meta, _ := r.Body["meta"].(map[string]any)
			if got := fmt.Sprint(meta["ignoredWorkflows"]); tc.ignored != "" && got != "["+tc.ignored+"]" || tc.ignored == "" && meta != nil {
				t.Fatalf("meta %v, want ignoredWorkflows [%s]", meta, tc.ignored)
			}
			if tc.ignored != "" && len(logs.Lines("level=WARN", "keys="+tc.ignored, "resource=")) == 0 {
				t.Fatalf("no warning for %s", tc.ignored)
			}
		})
	}
	// A key left out for the role answers exactly as a key that does not exist.
	for _, tc := range []struct{ name, token, route, refused string }{
		{"free", member, "/api/workflows:trigger?triggerWorkflows=", free},
		{"collection", member, "/api/orders:trigger?filterByTk=1&triggerWorkflows=", adminsOnOrders},
	} {
		t.Run("refused reads as unknown, "+tc.name, func(t *testing.T) {
			refused := s.Post(tc.route+tc.refused, tc.token, nil).Must(t, 400)
			unknown := s.Post(tc.route+"no-such-key", tc.token, nil).Must(t, 400)
			if refused.Raw != unknown.Raw {
				t.Fatalf("refused %s, unknown %s", refused.Raw, unknown.Raw)
			}
			if len(logs.Lines("level=WARN", "refused by role", "role=member")) == 0 {
				t.Fatal("the refusal is not in the log")
			}
		})
	}
}
