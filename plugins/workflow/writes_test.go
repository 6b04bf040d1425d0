package workflow

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestCommittedWritesNoted: a run aborted (or errored) after a db write committed says so
// in its execution (error message, error.writes, a log line per write); a run that
// returned after its write resolved.
func TestCommittedWritesNoted(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	s.Collection(`{"name":"orders","fields":[{"name":"n","type":"integer"}]}`)
	tests := []struct {
		name       string
		script     string
		timeout    int64 // ms
		status     int
		wantWrites int // entries in error.writes, "orders#<id> created" ones first
		msgHas     string
	}{
		{"deadline strikes after the write", `local db = require("db") db.create("orders", {n = 1}) while true do end`, 300,
			StatusAborted, 1, "the workflow ran past its timeout; aborted after committed writes: orders#"},
		{"error after two writes", `local db = require("db") db.create("orders", {n = 1}) db.create("orders", {n = 2}) error("boom")`, 5000,
			StatusError, 2, "boom; errored after committed writes: orders#"},
		{"returns right after its write", `local db = require("db") return db.create("orders", {n = 3})`, 5000,
			StatusResolved, 0, ""},
		{"aborted before any write", `while true do end`, 50, StatusAborted, 0, "the workflow ran past its timeout"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wf := testWorkflow(t, s, e, map[string]any{"title": tc.name, "key": fmt.Sprintf("w%d", i),
				"enabled": true, "script": tc.script, "options": map[string]any{"timeout": tc.timeout}})
			out, err := e.RunSync(context.Background(), Event{Workflow: wf, Context: map[string]any{}})
			if err != nil {
				t.Fatal(err)
			}
			x := out.Execution
			if out.Status() != tc.status {
				t.Fatalf("status %d (%+v), want %d", out.Status(), x.Error, tc.status)
			}
			if tc.status == StatusResolved {
				if x.Error != nil {
					t.Fatalf("resolved with error %+v", x.Error)
				}
				return
			}
			if !strings.Contains(x.Error.Message, tc.msgHas) {
				t.Fatalf("error %q, want it to contain %q", x.Error.Message, tc.msgHas)
			}
			if len(x.Error.Writes) != tc.wantWrites {
				t.Fatalf("writes %q, want %d", x.Error.Writes, tc.wantWrites)
			}
			logged := 0
			for _, l := range x.Logs {
				if strings.Contains(l.Message, "committed before the run") {
					logged++
				}
			}
			if logged != tc.wantWrites {
				t.Fatalf("%d log lines about committed writes, want %d: %+v", logged, tc.wantWrites, x.Logs)
			}
			// Stored as returned, and each noted record exists.
			stored := s.Get(fmt.Sprintf("/api/executions:get/%d", x.ID), s.Root).Must(t, 200).Obj(t)
			errObj, _ := stored["error"].(map[string]any)
			if ws, _ := errObj["writes"].([]any); len(ws) != tc.wantWrites {
				t.Fatalf("stored error %v, want %d writes", stored["error"], tc.wantWrites)
			}
			for _, w := range x.Error.Writes {
				var id int
				if _, err := fmt.Sscanf(w, "orders#%d created", &id); err != nil {
					t.Fatalf("write %q: %v", w, err)
				}
				s.Get(fmt.Sprintf("/api/orders:get/%d", id), s.Root).Must(t, 200)
			}
		})
	}
}
