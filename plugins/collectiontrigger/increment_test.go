package collectiontrigger_test

import (
	"fmt"
	"testing"

	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

// TestIncrementEvent: an update by {"$inc": n} hands collection workflows the value it
// wrote as ctx.data and the value before as ctx.previous, not the operator.
func TestIncrementEvent(t *testing.T) {
	e := newEnv(t)
	w := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts", "mode": 2},
		"script": `return {now = ctx.data.views, before = ctx.previous.views}`})
	id := e.create(map[string]any{"title": "counted", "views": 40})
	e.update(id, map[string]any{"views": map[string]any{"$inc": 2}})
	x := e.WaitFinal(w, 1)[0]
	out, _ := x["output"].(map[string]any)
	if workflowtest.Status(x) != 1 || out == nil || coretest.Num(out["now"]) != 42 || coretest.Num(out["before"]) != 40 {
		t.Fatalf("execution %v, want output {now = 42, before = 40}", fmt.Sprint(x["output"], " status ", x["status"]))
	}
}
