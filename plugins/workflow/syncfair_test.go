package workflow

import (
	"context"
	"fmt"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/runtime"
)

// TestSyncWorkflowShare: the runs of one sync workflow hold at most the runtime's KeyShare
// of the foreground Lua states. While a slow workflow holds its share, an unrelated one
// runs, and another run of the slow one waits for a state with its deadline running: it
// ends -3, "timed out waiting for a Lua state". (With a fixed pool and no share, the slow
// workflow's runs took every state and the quick one waited behind them.)
func TestSyncWorkflowShare(t *testing.T) {
	entered, release := make(chan struct{}, 8), make(chan struct{})
	gate := runtime.Module{Name: "gate", Global: true, Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			entered <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return 0
		})
	}}
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{Lua: runtime.Config{Workers: 3, KeyShare: 2}, LuaModules: []runtime.Module{gate}},
		core.WithPlugins(e, testTriggerPlugin{e}))
	wfs := map[string]*Workflow{}
	for key, script := range map[string]string{"slow": `gate() return "slow"`, "quick": `return "quick"`} {
		wfs[key] = testWorkflow(t, s, e, map[string]any{"title": key, "key": key, "enabled": true,
			"script": script, "options": map[string]any{"timeout": 60000}})
	}
	held := make(chan Outcome, 2)
	for range 2 {
		go func() {
			out, _ := e.RunSync(context.Background(), Event{Workflow: wfs["slow"], Context: map[string]any{}})
			held <- out
		}()
	}
	<-entered
	<-entered // "slow" holds its share, 2 of the 3 states
	tests := []struct {
		name    string
		key     string
		timeout time.Duration // of the request (0: the workflow's)
		status  int
		message string
	}{
		{"another run of the slow workflow waits until its deadline", "slow", 100 * time.Millisecond, StatusAborted, "timed out waiting for a Lua state"},
		{"an unrelated workflow finds a state", "quick", 0, StatusResolved, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			out, err := e.RunSync(ctx, Event{Workflow: wfs[tc.key], Context: map[string]any{}})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status() != tc.status {
				t.Fatalf("status %d (%+v), want %d", out.Status(), out.Execution.Error, tc.status)
			}
			if tc.message != "" && (out.Execution.Error == nil || out.Execution.Error.Message != tc.message || out.Execution.Reason != "timeout") {
				t.Fatalf("error %+v reason %q, want %q, timeout", out.Execution.Error, out.Execution.Reason, tc.message)
			}
		})
	}
	close(release)
	for range 2 {
		if out := <-held; out.Status() != StatusResolved {
			t.Fatalf("a holding run ended %d: %+v", out.Status(), out.Execution.Error)
		}
	}
	if n := len(s.Get(fmt.Sprintf("/api/executions:list?filter=%s", `{"key":"slow"}`), s.Root).Must(t, 200).List(t)); n != 3 {
		t.Fatalf("%d executions of slow recorded, want 3", n)
	}
}
