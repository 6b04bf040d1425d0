package workflow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestErrorLines: an execution's error names the script line where the run ended, for a
// flow.fail, a Lua error and a timeout alike (the offline runner reads the same record).
func TestErrorLines(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	tests := []struct {
		name    string
		script  string
		timeout int64 // ms
		status  int
		line    int
	}{
		{"flow.fail", "local x = 1\nflow.fail('no')", 5000, StatusFailed, 2},
		{"lua error", "local x = 1\n\nerror('boom')", 5000, StatusError, 3},
		{"timeout", "local x = 1\nwhile true do\nx = x + 1\nend", 50, StatusAborted, 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wf := testWorkflow(t, s, e, map[string]any{"title": tc.name, "key": fmt.Sprintf("l%d", i),
				"enabled": true, "script": tc.script, "options": map[string]any{"timeout": tc.timeout}})
			out, err := e.RunSync(context.Background(), Event{Workflow: wf, Context: map[string]any{}})
			if err != nil {
				t.Fatal(err)
			}
			x := out.Execution
			if out.Status() != tc.status || x.Error == nil {
				t.Fatalf("status %d error %+v, want %d", out.Status(), x.Error, tc.status)
			}
			// A timeout may strike on the loop's head or its body.
			if x.Error.Line != tc.line && (tc.status != StatusAborted || x.Error.Line < 2 || x.Error.Line > 4) {
				t.Fatalf("error %+v, want line %d", x.Error, tc.line)
			}
		})
	}
}
