package interceptor_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/store/storetest"
)

// TestNodesFollowWorkflowWrites: two nodes on one PostgreSQL store (API.md §13); a workflow
// enabled on A fires on B at B's next request, and disabling it on A stops it on B. Skipped
// without ACTIONFLOW_TEST_POSTGRES (fails when CI=true).
func TestNodesFollowWorkflowWrites(t *testing.T) {
	url := storetest.Postgres(t)
	node := func() *coretest.Server {
		wf := workflow.New(workflow.Config{Workers: 1, SweepInterval: time.Hour})
		return coretest.NewOn(t, core.Config{}, url, core.WithPlugins(wf, interceptor.New(wf), actiontrigger.New(wf)))
	}
	a, b := node(), node()
	a.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"}]}`)
	create := "/api/posts:create?triggerWorkflows=deny"
	b.Post(create, b.Root, map[string]any{"title": "before"}).Must(t, 200) // B's snapshot has no "deny"

	w := a.Post("/api/workflows:create", a.Root, map[string]any{"key": "deny", "type": interceptor.Type, "enabled": true,
		"config": map[string]any{"collection": "posts"}, "script": `flow.fail("denied")`}).Must(t, 200).Obj(t)
	if msg := b.Post(create, b.Root, map[string]any{"title": "enabled"}).Must(t, 400).ErrMsg(t); msg != "denied" {
		t.Fatalf("enabled on A, B answers %q", msg)
	}

	a.Post(fmt.Sprintf("/api/workflows:update?filterByTk=%d", coretest.ID(t, w)), a.Root, map[string]any{"enabled": false}).Must(t, 200)
	b.Post(create, b.Root, map[string]any{"title": "disabled"}).Must(t, 200)
}
