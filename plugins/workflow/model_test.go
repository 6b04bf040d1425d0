package workflow

import (
	"reflect"
	"testing"

	"github.com/actionflow/actionflow/core"
)

// TestExecValues checks that execValues gives what the JSON round trip toValues gave.
func TestExecValues(t *testing.T) {
	cases := []struct {
		name string
		exec *Execution
	}{
		{"queued", &Execution{WorkflowID: 3, Key: "k", Context: map[string]any{"data": map[string]any{"id": int64(1)}},
			Logs: []LogLine{}, Messages: []core.Message{}}},
		{"resolved", &Execution{WorkflowID: 3, Key: "k", Status: intp(StatusResolved),
			Context:  map[string]any{"data": core.Record{"id": int64(1), "n": 2.5, "tags": []any{"a", true, nil}}, "user": map[string]any{"email": "x"}},
			Output:   map[string]any{"ok": true, "n": int64(7), "list": []any{int64(1), "two"}},
			Logs:     []LogLine{{Level: "info", Message: "hi", Time: "2026-01-01T00:00:00.000Z"}},
			Messages: []core.Message{{Message: "m"}}, Stack: []Frame{{Execution: 9, Workflow: 2}},
			StartedAt: "2026-01-01T00:00:00.000Z", FinishedAt: "2026-01-01T00:00:00.001Z"}},
		{"failed with a reason", &Execution{WorkflowID: 1, Status: intp(StatusFailed), Error: &ExecError{Message: "no", Line: 4},
			Reason: "because", Manually: true, Output: "text", Context: map[string]any{"values": []int{1, 2}}}},
		{"error without a line", &Execution{WorkflowID: 1, Status: intp(StatusError), Error: &ExecError{Message: "boom"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := toValues(tc.exec)
			if err != nil {
				t.Fatal(err)
			}
			delete(want, "id")
			normalize(want)
			got, err := execValues(tc.exec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("execValues:\n got %#v\nwant %#v", got, want)
			}
		})
	}
}
