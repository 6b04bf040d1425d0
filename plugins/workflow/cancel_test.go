package workflow

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// testTrigger is a trigger type with no rules, for workflows the test queues itself.
type testTrigger struct{}

func (testTrigger) Type() string                                  { return "test" }
func (testTrigger) ValidateConfig(*core.Tx, map[string]any) error { return nil }
func (testTrigger) ManualContext(_ *core.Tx, _ *Workflow, v map[string]any) (map[string]any, error) {
	return v, nil
}

// testTriggerPlugin registers testTrigger with the engine.
type testTriggerPlugin struct{ e *Engine }

func (testTriggerPlugin) Name() string            { return "test-trigger" }
func (p testTriggerPlugin) Init(*core.Host) error { return p.e.RegisterTrigger(testTrigger{}) }

// TestCancelWhileItsWorkerHasIt cancels a queued execution at the two moments its worker
// holds it outside a run: after reading it and before running it, and after running it
// and before writing its outcome. The store's record is what the worker writes over when
// it ends, so such a cancel must reach the worker, not the record: it used to be lost (the
// script ran anyway and resolved after the cancel had answered 200).
func TestCancelWhileItsWorkerHasIt(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	s.Collection(`{"name":"logs","fields":[{"name":"text","type":"string"}]}`)
	wf := s.Post("/api/workflows:create", s.Root, map[string]any{"title": "writes a log", "type": "test", "enabled": true,
		"script": `require("db").create("logs", {text = "ran"}) return "ran"`}).Must(t, 200).Obj(t)
	wfID := uint64(coretest.ID(t, wf))
	// The worker waits at the stage a subtest names, until the subtest resumes it.
	var mu sync.Mutex
	var want string
	var paused chan uint64
	var resume chan struct{}
	e.pause = func(stage string, id uint64) {
		mu.Lock()
		match, p, r := stage == want, paused, resume
		mu.Unlock()
		if match {
			p <- id
			<-r
		}
	}

	tests := []struct {
		name       string
		stage      string // where the worker waits while the test cancels
		wantOK     bool   // what CancelExecution answers
		status     int64
		wantLogs   int // log records the script wrote: 0 when it never ran
		wantOutput any
	}{
		{"after its read, before its run: the run never starts", pauseRead, true, StatusAborted, 0, nil},
		{"after its run, before its outcome is written: too late", pauseRan, false, StatusResolved, 1, "ran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Get("/api/logs:list?pageSize=100", s.Root).Must(t, 200).List(t))
			mu.Lock()
			want, paused, resume = tt.stage, make(chan uint64, 1), make(chan struct{})
			mu.Unlock()
			var id uint64
			err := e.app.Update(context.Background(), func(tx *core.Tx) error {
				w, err := e.loadWorkflow(tx, wfID)
				if err != nil {
					return err
				}
				if id, err = e.Enqueue(tx, Event{Workflow: w, Context: map[string]any{}}); err != nil {
					return err
				}
				tx.OnCommit(func() { e.Dispatch(id) })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := <-paused; got != id {
				t.Fatalf("worker paused on %d, want %d", got, id)
			}
			ok, err := e.CancelExecution(context.Background(), id)
			close(resume)
			if err != nil || ok != tt.wantOK {
				t.Fatalf("CancelExecution = %v, %v; want %v", ok, err, tt.wantOK)
			}
			waitDone(t, e, id)
			x := s.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", id), s.Root).Must(t, 200).Obj(t)
			if coretest.Num(x["status"]) != tt.status || x["output"] != tt.wantOutput {
				t.Fatalf("execution ended %v with output %v, want %d and %v", x["status"], x["output"], tt.status, tt.wantOutput)
			}
			if tt.status == StatusAborted && x["reason"] != "manual_cancel" {
				t.Fatalf("reason %v", x["reason"])
			}
			if n := len(s.Get("/api/logs:list?pageSize=100", s.Root).Must(t, 200).List(t)) - before; n != tt.wantLogs {
				t.Fatalf("the script wrote %d log records, want %d", n, tt.wantLogs)
			}
		})
	}
}

// waitDone waits until the dispatcher is done with an execution (its worker has written
// it); it fails the test after 20 s (a guard, not a timing).
func waitDone(t *testing.T, e *Engine, id uint64) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		e.disp.mu.Lock()
		busy := e.disp.known[id]
		e.disp.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %d still with its worker", id)
		}
	}
}

// testWorkflow creates a workflow of the test trigger over HTTP (body: workflows:create's,
// its type set here) and returns it as the engine loads it.
func testWorkflow(t *testing.T, s *coretest.Server, e *Engine, body map[string]any) *Workflow {
	t.Helper()
	body["type"] = "test"
	rec := s.Post("/api/workflows:create", s.Root, body).Must(t, 200).Obj(t)
	var w *Workflow
	err := e.app.View(context.Background(), func(tx *core.Tx) (err error) {
		w, err = e.loadWorkflow(tx, uint64(coretest.ID(t, rec)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
