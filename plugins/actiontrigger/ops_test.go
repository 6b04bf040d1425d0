package actiontrigger_test

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

// TestAsyncFailuresLoggedAndCounted: an async execution that ends -1, -2 or -3 writes a
// warning line (execution id, key, status, error) to the server log, and every run is
// counted in actionflow_workflow_executions_total{type,status} and timed.
func TestAsyncFailuresLoggedAndCounted(t *testing.T) {
	logs := &workflowtest.Logs{}
	e := newEnvWith(t, workflow.Config{Workers: 2, SweepInterval: time.Hour}, core.Config{Logger: logs.Logger()}, titledPosts)
	tests := []struct {
		name    string
		script  string
		timeout int64
		status  int64
		logged  string // a part of the warning line; "" for none
	}{
		{"flow.fail", `flow.fail("no stock")`, 0, -1, `err="no stock"`},
		{"lua error", "\n\nerror(\"boom\")", 0, -2, "line=3"},
		{"timeout", `while true do end`, 100, -3, "ran past its timeout"},
		{"resolved", `return 1`, 0, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.At(t)
			key := e.Workflow(map[string]any{"config": map[string]any{"collection": "posts"}, "script": tc.script,
				"options": map[string]any{"timeout": tc.timeout}})
			e.Post("/api/posts:create?triggerWorkflows="+key, e.Root, map[string]any{"title": tc.name}).Must(t, 200)
			x := e.WaitFinal(key, 1)[0]
			if got := workflowtest.Status(x); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			lines := logs.Lines("level=WARN", "async execution ended", "key="+key, fmt.Sprintf("execution=%v", x["id"]), fmt.Sprintf("status=%d", tc.status))
			if tc.logged == "" {
				if len(logs.Lines("async execution ended", "key="+key)) != 0 {
					t.Fatalf("a warning for a resolved execution: %v", logs.Lines("key="+key))
				}
				return
			}
			if len(lines) != 1 || !strings.Contains(lines[0], tc.logged) {
				t.Fatalf("warning lines %v, want one holding %s", lines, tc.logged)
			}
		})
	}
	t.Run("metrics", func(t *testing.T) {
		status, _, body := e.Raw("GET", "/metrics")
		if status != 200 {
			t.Fatalf("/metrics: %d %s", status, body)
		}
		m := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), " "); ok {
				m[k] = v
			}
		}
		for _, series := range []string{
			`actionflow_workflow_executions_total{type="action",status="-1"}`,
			`actionflow_workflow_executions_total{type="action",status="-2"}`,
			`actionflow_workflow_executions_total{type="action",status="-3"}`,
			`actionflow_workflow_executions_total{type="action",status="1"}`,
		} {
			if m[series] != "1" {
				t.Errorf("%s = %q, want 1", series, m[series])
			}
		}
		for _, series := range []string{
			`actionflow_workflow_execution_duration_seconds_count{type="action"}`,
			`actionflow_queue_delay_seconds_count`,
		} {
			if m[series] != "4" {
				t.Errorf("%s = %q, want 4", series, m[series])
			}
		}
		if m["actionflow_queue_depth"] != "0" {
			t.Errorf("actionflow_queue_depth = %q, want 0", m["actionflow_queue_depth"])
		}
	})
	t.Run("readyz while the dispatcher runs", func(t *testing.T) {
		e.Get("/readyz", "").Must(t, 200)
	})
}
