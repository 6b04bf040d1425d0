package workflow

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/store"
)

// TestPlanRunReleasesWhenQueueingFails: when a plan's executions queued after the chain
// cannot be written, the ones queued with the action's write (committed with it) are
// released all the same, not left parked until the process restarts.
func TestPlanRunReleasesWhenQueueingFails(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	w := testWorkflow(t, s, e, map[string]any{"title": "async", "enabled": true, "script": `return "ran"`})
	pl := e.NewPlan()
	err := e.app.Update(context.Background(), func(tx *core.Tx) error {
		return pl.Add(tx, Event{Workflow: w, Context: map[string]any{"data": 1}})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Queued after the chain, in a transaction of its own that fails: a context that
	// cannot be stored.
	if err := pl.Add(nil, Event{Workflow: w, Context: map[string]any{"data": make(chan int)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Run(context.Background()); err == nil {
		t.Fatal("Run: no error from an execution that cannot be stored")
	}
	if len(pl.queued) != 1 {
		t.Fatalf("%d executions queued with the write, want 1", len(pl.queued))
	}
	waitDone(t, e, pl.queued[0])
	got := s.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", pl.queued[0]), s.Root).Must(t, 200).Obj(t)
	if got["output"] != "ran" {
		t.Fatalf("the execution queued with the write: %v", got)
	}
}

// TestCanceledEntryOfADestroyedExecution: a claimed queue entry with a cancel mark whose
// execution no longer exists is removed, not claimed again after every lease.
func TestCanceledEntryOfADestroyedExecution(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	const id = 987654 // no execution has it
	err := e.app.Update(context.Background(), func(tx *core.Tx) error {
		if err := tx.QueuePut(id, store.QueueEntry{}); err != nil {
			return err
		}
		_, err := tx.QueueCancel(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.disp.claim(); err != nil {
		t.Fatal(err)
	}
	err = e.app.View(context.Background(), func(tx *core.Tx) error {
		_, err := tx.QueueGet(id)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the entry after its claim: %v, want it removed", err)
	}
}

// TestFailedCancelLeavesThemParked: when Cancel's write fails, the executions stay parked,
// so the Dispatch its caller falls back to still runs them.
func TestFailedCancelLeavesThemParked(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour, Lease: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	w := testWorkflow(t, s, e, map[string]any{"title": "async", "enabled": true, "script": `return "ran"`})
	var id uint64
	err := e.app.Update(context.Background(), func(tx *core.Tx) (err error) {
		id, err = e.Enqueue(tx, Event{Workflow: w, Context: map[string]any{}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The write fails: one of the executions named does not exist.
	if err := e.Cancel(context.Background(), []uint64{id, id + 1000}, "test"); err == nil {
		t.Fatal("Cancel of a missing execution: no error")
	}
	e.Dispatch(id)
	waitDone(t, e, id)
	got := s.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", id), s.Root).Must(t, 200).Obj(t)
	if got["output"] != "ran" {
		t.Fatalf("after a failed cancel and a dispatch: %v", got)
	}
}
