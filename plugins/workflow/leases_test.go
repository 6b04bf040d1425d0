package workflow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/store"
)

// leaseNode starts one node with the engine and a workflow of the test trigger running
// script, which creates a log record per run.
func leaseNode(t *testing.T, script string) (*Engine, *coretest.Server, uint64) {
	t.Helper()
	e := New(Config{Workers: 1, SweepInterval: time.Hour, Lease: time.Hour, RenewInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	s.Collection(`{"name":"logs","fields":[{"name":"text","type":"string"}]}`)
	wf := s.Post("/api/workflows:create", s.Root, map[string]any{"title": "t", "type": "test", "enabled": true,
		"script": script}).Must(t, 200).Obj(t)
	return e, s, uint64(coretest.ID(t, wf))
}

// enqueueParked queues an execution of the workflow wfID, parked until the test's Dispatch.
func enqueueParked(t *testing.T, e *Engine, wfID uint64) uint64 {
	t.Helper()
	var id uint64
	err := e.app.Update(context.Background(), func(tx *core.Tx) error {
		w, err := e.loadWorkflow(tx, wfID)
		if err != nil {
			return err
		}
		id, err = e.Enqueue(tx, Event{Workflow: w, Context: map[string]any{}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func execRecord(t *testing.T, s *coretest.Server, id uint64) map[string]any {
	t.Helper()
	return s.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", id), s.Root).Must(t, 200).Obj(t)
}

// TestStartMarkAfterALostLease: another node finishes an execution (its entry goes with
// it) while this node's worker has read it. The start mark, written 50 ms into the run,
// used to write status 0 over the other node's outcome (the entry gone, it stayed started
// forever); it must leave it, and so must the run's own outcome.
func TestStartMarkAfterALostLease(t *testing.T) {
	e, s, wfID := leaseNode(t, `while true do end`)
	id := enqueueParked(t, e, wfID)
	read, resume, marked := make(chan struct{}), make(chan struct{}), make(chan struct{})
	e.pause = func(stage string, got uint64) {
		switch {
		case got != id:
		case stage == pauseRead:
			close(read)
			<-resume
		case stage == pauseMarked:
			close(marked)
		}
	}
	e.Dispatch(id)
	<-read
	err := e.app.Update(context.Background(), func(tx *core.Tx) error {
		return e.finishQueued(tx, id, StatusResolved, "") // as another node would
	})
	if err != nil {
		t.Fatal(err)
	}
	close(resume)
	<-marked
	if x := execRecord(t, s, id); coretest.Num(x["status"]) != StatusResolved {
		t.Fatalf("after the start mark: status %v, want the other node's %d", x["status"], StatusResolved)
	}
	if ok, err := e.CancelExecution(context.Background(), id); err != nil || !ok {
		t.Fatalf("cancel of the run: %v, %v", ok, err)
	}
	waitDone(t, e, id)
	if x := execRecord(t, s, id); coretest.Num(x["status"]) != StatusResolved {
		t.Fatalf("after the run: status %v, want the other node's %d", x["status"], StatusResolved)
	}
}

// TestRunNeedsItsLease: an execution whose entry another node leased (this node's lease
// lapsed before its worker got to it) is not run here.
func TestRunNeedsItsLease(t *testing.T) {
	e, s, wfID := leaseNode(t, `require("db").create("logs", {text = "ran"}) return "ran"`)
	id := enqueueParked(t, e, wfID)
	err := e.app.Update(context.Background(), func(tx *core.Tx) error {
		return tx.QueuePut(id, store.QueueEntry{Owner: "another node", Lease: time.Hour})
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Dispatch(id)
	waitDone(t, e, id)
	if n := len(s.Get("/api/logs:list?pageSize=100", s.Root).Must(t, 200).List(t)); n != 0 {
		t.Fatalf("the script ran %d times on a node that does not hold its lease", n)
	}
	if x := execRecord(t, s, id); x["status"] != nil && coretest.Num(x["status"]) != 0 {
		t.Fatalf("status %v: this node wrote an outcome", x["status"])
	}
}

// TestRenewalsDownStopTheRuns: while the renewals fail (the database unreachable), this
// node's leases run out and another node may take its executions over; the run here must
// stop, as a lost lease's does, and write nothing.
func TestRenewalsDownStopTheRuns(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour, Lease: time.Second, RenewInterval: 100 * time.Millisecond})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	wf := s.Post("/api/workflows:create", s.Root, map[string]any{"title": "t", "type": "test", "enabled": true,
		"script": `while true do end`}).Must(t, 200).Obj(t)
	id := enqueueParked(t, e, uint64(coretest.ID(t, wf)))
	read := make(chan struct{})
	e.pause = func(stage string, got uint64) {
		if got == id && stage == pauseRead {
			close(read)
		}
	}
	e.Dispatch(id)
	<-read
	v, ok := e.running.Load(id)
	if !ok {
		t.Fatal("the run is not in e.running")
	}
	st := v.(*runState)
	e.disp.renewDown.Store(true)
	// Time itself must pass here (the lease's); the run ends when the engine drops it.
	waitFor(t, "the run to stop", func() bool { cur, ok := e.running.Load(id); return !ok || cur != st })
	if !st.lost.Load() {
		t.Fatal("the run stopped without its lease lost")
	}
	if x := execRecord(t, s, id); x["status"] != nil && coretest.Num(x["status"]) != StatusStarted {
		t.Fatalf("status %v: the run wrote an outcome without its lease", x["status"])
	}
}

// TestFailedReloadIsRetried: a node whose reload of the workflows fails (the database
// unreachable for a moment) used to count the change as seen and keep its stale snapshot
// until the next workflow write; its next sync must reload.
func TestFailedReloadIsRetried(t *testing.T) {
	es, ss, _ := nodes(t, `return "ok"`)
	es[1].reloadDown.Store(true)
	ss[0].Post("/api/workflows:create", ss[0].Root, map[string]any{"title": "second", "type": "test", "enabled": true,
		"script": `return "ok"`}).Must(t, 200)
	if err := es[1].app.SyncCaches(); err == nil {
		t.Fatal("the second node's sync succeeded while its reload failed")
	}
	es[1].reloadDown.Store(false)
	if err := es[1].app.SyncCaches(); err != nil {
		t.Fatal(err)
	}
	if n := len(es[1].Enabled("test")); n != 2 {
		t.Fatalf("the second node sees %d workflows, want 2", n)
	}
}
