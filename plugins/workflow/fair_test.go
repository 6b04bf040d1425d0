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

// TestDispatcherShares: a slow workflow's backlog does not hold every worker: while its
// runs hold workers, an execution of another workflow queued behind that backlog runs.
// (With one FIFO, both workers took slow runs and the other workflow waited behind all
// of them.)
func TestDispatcherShares(t *testing.T) {
	e := New(Config{Workers: 2, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	ids := map[string]uint64{}
	for _, key := range []string{"slow", "quick"} {
		rec := s.Post("/api/workflows:create", s.Root, map[string]any{"title": key, "key": key, "type": "test", "enabled": true,
			"script": `return "` + key + `"`}).Must(t, 200).Obj(t)
		ids[key] = uint64(coretest.ID(t, rec))
	}
	// A "slow" run holds its worker (after reading its execution) until release is closed.
	var mu sync.Mutex
	slowIDs := map[uint64]bool{}
	release := make(chan struct{})
	held := make(chan uint64, 8)
	ran := make(chan uint64, 8)
	e.pause = func(stage string, id uint64) {
		mu.Lock()
		slow := slowIDs[id]
		mu.Unlock()
		switch {
		case slow && stage == pauseRead:
			held <- id
			<-release
		case !slow && stage == pauseRan:
			ran <- id
		}
	}
	tests := []struct {
		name  string
		queue []string // in this order, dispatched at once
	}{
		{"another workflow behind a backlog", []string{"slow", "slow", "slow", "slow", "quick"}},
		{"two of another workflow", []string{"slow", "slow", "slow", "quick", "quick"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			release = make(chan struct{})
			var queued []uint64
			var quick []uint64
			err := e.app.Update(context.Background(), func(tx *core.Tx) error {
				queued, quick = nil, nil
				for _, key := range tc.queue {
					w, err := e.loadWorkflow(tx, ids[key])
					if err != nil {
						return err
					}
					id, err := e.Enqueue(tx, Event{Workflow: w, Context: map[string]any{}})
					if err != nil {
						return err
					}
					queued = append(queued, id)
					mu.Lock()
					slowIDs[id] = key == "slow"
					mu.Unlock()
					if key == "quick" {
						quick = append(quick, id)
					}
				}
				tx.OnCommit(func() { e.Dispatch(queued...) })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			<-held // one worker holds a slow run
			for _, want := range quick {
				select {
				case got := <-ran:
					if got != want {
						t.Fatalf("ran %d, want %d (FIFO within a workflow)", got, want)
					}
				case <-time.After(20 * time.Second): // a guard against a hang, not a timing
					t.Fatalf("the quick execution %d did not run while a slow workflow held a worker", want)
				}
			}
			close(release)
			for _, id := range queued {
				waitDone(t, e, id)
			}
			for len(held) > 0 {
				<-held
			}
			for _, id := range quick {
				x := s.Get(fmt.Sprintf("/api/executions:get?filterByTk=%d", id), s.Root).Must(t, 200).Obj(t)
				if coretest.Num(x["status"]) != StatusResolved {
					t.Fatalf("quick execution %d ended %v", id, x["status"])
				}
			}
		})
	}
}
