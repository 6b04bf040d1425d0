package workflow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// nodes starts two nodes with the engine on one PostgreSQL schema, with short leases, and
// creates the collection logs and a workflow of the test trigger with script on the
// first, before the second starts (a node reads the collections when it starts).
func nodes(t *testing.T, script string) ([2]*Engine, [2]*coretest.Server, *Workflow) {
	t.Helper()
	return nodesWith(t, script, time.Second)
}

// nodesWith is nodes with the first node's lease.
func nodesWith(t *testing.T, script string, firstLease time.Duration) ([2]*Engine, [2]*coretest.Server, *Workflow) {
	t.Helper()
	var es [2]*Engine
	ss := coretest.NewNodes(t, 2, core.Config{}, func(i int, started []*coretest.Server) []core.Option {
		if i == 1 {
			s := started[0]
			s.Collection(`{"name":"logs","fields":[{"name":"text","type":"string"}]}`)
			s.Post("/api/workflows:create", s.Root, map[string]any{"title": "t", "type": "test", "enabled": true,
				"script": script}).Must(t, 200)
		}
		lease := time.Second
		if i == 0 {
			lease = firstLease
		}
		es[i] = New(Config{Workers: 2, SweepInterval: 100 * time.Millisecond, Lease: lease, RenewInterval: 100 * time.Millisecond})
		return []core.Option{core.WithPlugins(es[i], testTriggerPlugin{es[i]})}
	})
	w := es[1].Enabled("test")
	if len(w) != 1 {
		t.Fatalf("the second node sees %d workflows, want 1", len(w))
	}
	return es, [2]*coretest.Server{ss[0], ss[1]}, w[0]
}

// enqueue queues an execution of w on e with ctx.data = data and dispatches it.
func enqueue(t *testing.T, e *Engine, w *Workflow, data any) uint64 {
	t.Helper()
	var id uint64
	err := e.app.Update(context.Background(), func(tx *core.Tx) (err error) {
		id, err = e.Enqueue(tx, Event{Workflow: w, Context: map[string]any{"data": data}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Dispatch(id)
	return id
}

// waitFor polls cond, reading the store, until it holds or a minute has passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func execStatus(t *testing.T, e *Engine, id uint64) *Execution {
	t.Helper()
	var x *Execution
	err := e.app.View(context.Background(), func(tx *core.Tx) (err error) {
		x, err = e.loadExecution(tx, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func logs(t *testing.T, s *coretest.Server) []map[string]any {
	t.Helper()
	return s.Get("/api/logs:list?pageSize=1000", s.Root).Must(t, 200).List(t)
}

// TestNodesRunEachExecutionOnce queues executions through both nodes; each runs once.
func TestNodesRunEachExecutionOnce(t *testing.T) {
	es, ss, w := nodes(t, `require("db").create("logs", {text = ctx.data}) return "ok"`)
	const n = 40
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = enqueue(t, es[i%2], w, fmt.Sprint(i))
	}
	waitFor(t, "every execution to finish", func() bool {
		for _, id := range ids {
			if !execStatus(t, es[0], id).Final() {
				return false
			}
		}
		return true
	})
	seen := map[string]int{}
	for _, r := range logs(t, ss[1]) {
		seen[r["text"].(string)]++
	}
	for i := 0; i < n; i++ {
		if k := seen[fmt.Sprint(i)]; k != 1 {
			t.Errorf("execution %d ran %d times", i, k)
		}
	}
	for _, id := range ids {
		if x := execStatus(t, es[1], id); *x.Status != StatusResolved {
			t.Errorf("execution %d: status %d, want resolved", id, *x.Status)
		}
	}
}

// TestCancelReachesTheNodeThatRuns cancels, on the second node, a run of the first.
func TestCancelReachesTheNodeThatRuns(t *testing.T) {
	es, _, w := nodes(t, `while true do end`)
	id := enqueue(t, es[0], w, "x")
	waitFor(t, "the run to start on the first node", func() bool {
		v, ok := es[0].running.Load(id)
		return ok && v.(*runState).read != nil && isClosed(v.(*runState).read)
	})
	ok, err := es[1].CancelExecution(context.Background(), id)
	if err != nil || !ok {
		t.Fatalf("cancel on the second node: %v, %v", ok, err)
	}
	// The run itself must stop: a record marked aborted by the second node while the first
	// ran on would pass the status check below.
	waitFor(t, "the run on the first node to stop", func() bool { _, ok := es[0].running.Load(id); return !ok })
	waitFor(t, "the run to end", func() bool { return execStatus(t, es[1], id).Final() })
	if x := execStatus(t, es[1], id); *x.Status != StatusAborted || x.Reason != "manual_cancel" {
		t.Fatalf("status %d, reason %q; want aborted, manual_cancel", *x.Status, x.Reason)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestNodeDiesMidRun halts the first node while it holds an execution; the second runs it
// once the lease has expired.
func TestNodeDiesMidRun(t *testing.T) {
	es, ss, w := nodes(t, `require("db").create("logs", {text = "ran"}) return "ok"`)
	paused, resume := make(chan uint64, 1), make(chan struct{})
	es[0].pause = func(stage string, id uint64) {
		if stage == pauseRead {
			paused <- id
			<-resume
		}
	}
	id := enqueue(t, es[0], w, "x")
	if got := <-paused; got != id {
		t.Fatalf("paused %d, want %d", got, id)
	}
	halted := make(chan struct{})
	go func() { es[0].disp.halt(); close(halted) }()
	waitFor(t, "the first node to stop its runs", func() bool { return es[0].disp.ctx.Err() != nil })
	close(resume)
	<-halted
	waitFor(t, "the second node to run it", func() bool { return execStatus(t, es[1], id).Final() })
	if x := execStatus(t, es[1], id); *x.Status != StatusResolved {
		t.Fatalf("status %d, want resolved", *x.Status)
	}
	if got := logs(t, ss[1]); len(got) != 1 {
		t.Fatalf("%d logs, want 1 (the script ran on the first node too?)", len(got))
	}
}

// TestStoppedNodeGivesBackAbortedRuns: a run the shutdown deadline aborts (no outcome
// written) has its lease given back with the others, so another node runs it at once,
// not when the lease (an hour here) lapses.
func TestStoppedNodeGivesBackAbortedRuns(t *testing.T) {
	es, ss, w := nodesWith(t, `local db = require("db")
if #db.list("logs", {}) == 0 then
  db.create("logs", {text = "first run"})
  while true do end
end
return "ok"`, time.Hour)
	id := enqueue(t, es[0], w, "x")
	waitFor(t, "the first run to start", func() bool { return len(logs(t, ss[0])) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = es[0].disp.stop(ctx) // the deadline passes: the looping run is aborted
	waitFor(t, "the second node to run it", func() bool { return execStatus(t, es[1], id).Final() })
	if x := execStatus(t, es[1], id); *x.Status != StatusResolved {
		t.Fatalf("status %d, want resolved", *x.Status)
	}
}
