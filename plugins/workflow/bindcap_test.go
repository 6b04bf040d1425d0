package workflow_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/plugins/workflow/workflowtest"
)

// TestBindingsCapAndOneWarning: ?triggerWorkflows= lists at most MaxBindings items (more
// is a 400 naming it, on any action), and the keys a request ignores make one warning.
func TestBindingsCapAndOneWarning(t *testing.T) {
	logs := &workflowtest.Logs{}
	wf := workflow.New(workflow.Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{Logger: logs.Logger()}, core.WithPlugins(wf))
	items := func(n int) string {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprint(i + 1)
		}
		return strings.Join(keys, ",")
	}
	for _, tc := range []struct {
		name   string
		list   string
		status int
		warns  int
	}{
		{"at the cap: one warning for all keys", items(workflow.MaxBindings), 200, 1},
		{"empty items do not count", items(workflow.MaxBindings) + ",,,", 200, 1},
		{"over the cap", items(workflow.MaxBindings + 1), 400, 0},
		{"far over the cap", items(900), 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.Lines("level=WARN"))
			r := s.Get("/api/auth:check?triggerWorkflows="+tc.list, s.Root).Must(t, tc.status)
			if tc.status == 400 {
				if e, _ := r.Body["errors"].([]any); len(e) == 0 || e[0].(map[string]any)["field"] != "triggerWorkflows" {
					t.Fatalf("error does not name triggerWorkflows: %s", r.Raw)
				}
			}
			lines := logs.Lines("level=WARN")[before:]
			if len(lines) != tc.warns {
				t.Fatalf("%d warnings, want %d: %v", len(lines), tc.warns, lines)
			}
			if tc.warns > 0 && (!strings.Contains(lines[0], "keys="+items(workflow.MaxBindings)) || !strings.Contains(lines[0], "100: no enabled workflow has this key")) {
				t.Fatalf("the warning does not list the keys and reasons: %s", lines[0])
			}
		})
	}
}
