package workflow

import (
	"context"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/store"
)

// TestStartFinishesAnInterruptedDestroy: a workflow version's destroy commits, then its
// executions are removed in transactions of their own. A process that ends in between
// left them behind for good; the next start now removes them.
func TestStartFinishesAnInterruptedDestroy(t *testing.T) {
	dir := t.TempDir()
	open := func() (*core.App, *Engine) {
		t.Helper()
		e := New(Config{Workers: 1, SweepInterval: time.Hour})
		app, err := core.New(core.Config{DataDir: dir, RootPassword: "root-pw", BcryptCost: 4}, core.WithPlugins(e, testTriggerPlugin{e}))
		if err != nil {
			t.Fatal(err)
		}
		return app, e
	}
	closeApp := func(app *core.App) {
		t.Helper()
		if err := app.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	// makeVersion creates a workflow version and runs it n times (n executions).
	makeVersion := func(e *Engine, key string, n int) uint64 {
		t.Helper()
		var w *Workflow
		err := e.app.Update(ctx, func(tx *core.Tx) error {
			coll, err := e.data.Collection(WorkflowsCollection)
			if err != nil {
				return err
			}
			r, err := e.data.Create(tx, coll, map[string]any{"title": "t", "key": key, "type": "test",
				"enabled": true, "current": true, "script": "return 1"}, core.WriteOptions{})
			if err != nil {
				return err
			}
			w, err = e.loadWorkflow(tx, uint64(r["id"].(int64)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			if _, err := e.RunSync(ctx, Event{Workflow: w, Context: map[string]any{}}); err != nil {
				t.Fatal(err)
			}
		}
		return w.ID
	}
	// left is how many executions of version id there are, and whether its note is there.
	left := func(e *Engine, id uint64) (n int, noted bool) {
		t.Helper()
		err := e.app.View(ctx, func(tx *core.Tx) error {
			coll, err := e.data.Collection(ExecutionsCollection)
			if err != nil {
				return err
			}
			n, err = e.data.Count(tx, coll, &query.Node{Op: query.OpEq, Path: "workflowId", Value: int64(id)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = e.app.Store().View(func(tx store.Txn) error {
			_, err := tx.Get(e.goneKey(id))
			noted = err == nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, noted
	}
	destroy := func(e *Engine, id uint64) {
		t.Helper()
		err := e.app.Update(ctx, func(tx *core.Tx) error {
			coll, err := e.data.Collection(WorkflowsCollection)
			if err != nil {
				return err
			}
			return e.destroyVersion(tx, coll, id)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	app, e := open()
	interrupted, finished := makeVersion(e, "interrupted", 3), makeVersion(e, "finished", 2)
	// workflows:destroy's transaction, and the removal of its executions after it.
	destroy(e, finished)
	e.destroyExecutionsOf(finished)
	if n, noted := left(e, finished); n != 0 || noted {
		t.Fatalf("after a whole destroy: %d executions left, note kept: %v", n, noted)
	}
	// The transaction only: the process ends before the removal.
	destroy(e, interrupted)
	if n, noted := left(e, interrupted); n != 3 || !noted {
		t.Fatalf("after the destroy's transaction: %d executions, noted %v; want 3, true", n, noted)
	}
	closeApp(app)

	app, e = open()
	defer closeApp(app)
	if n, noted := left(e, interrupted); n != 0 || noted {
		t.Fatalf("after the restart: %d executions of the destroyed version left, note kept: %v", n, noted)
	}
}
