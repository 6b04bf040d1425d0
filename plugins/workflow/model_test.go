package workflow

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/value"
)

// TestExecValues checks that execValues gives what the JSON round trip toValues gave.
// execCases are executions in the states the engine writes.
func execCases() []struct {
	name string
	exec *Execution
} {
	return []struct {
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
}

func TestExecValues(t *testing.T) {
	for _, tc := range execCases() {
		t.Run(tc.name, func(t *testing.T) {
			want, err := toValues(tc.exec)
			if err != nil {
				t.Fatal(err)
			}
			delete(want, "id")
			if _, err := value.Normalize(want); err != nil {
				t.Fatal(err)
			}
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

// TestExecFromRecord checks that execFromRecord reads a stored execution as the JSON round
// trip it replaced did, and refuses fields of the wrong type.
func TestExecFromRecord(t *testing.T) {
	for _, tc := range execCases() {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := execValues(tc.exec)
			if err != nil {
				t.Fatal(err)
			}
			rec["id"], rec["createdAt"], rec["updatedAt"] = int64(12), "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.002Z"
			// The JSON round trip it replaced, as the reference.
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			var want Execution
			if err := d.Decode(&want); err != nil {
				t.Fatal(err)
			}
			wc, err := value.Normalize(want.Context)
			if err != nil {
				t.Fatal(err)
			}
			want.Context, _ = wc.(map[string]any)
			if want.Output, err = value.Normalize(want.Output); err != nil {
				t.Fatal(err)
			}
			got, err := execFromRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("execFromRecord:\n got %#v\nwant %#v", got, &want)
			}
		})
	}
	bad := []struct {
		name  string
		field string
		value any
	}{
		{"status not a number", "status", "1"},
		{"key not a string", "key", int64(1)},
		{"workflowId not an integer", "workflowId", "3"},
		{"startedAt not a string", "startedAt", true},
		{"error message not a string", "error", map[string]any{"message": int64(3)}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := execValues(execCases()[1].exec)
			if err != nil {
				t.Fatal(err)
			}
			rec[tc.field] = tc.value
			if _, err := execFromRecord(rec); err == nil {
				t.Fatalf("%s = %#v was accepted", tc.field, tc.value)
			}
		})
	}
}

// TestStoredJSON checks that a value already in stored form is shared, not copied, that
// anything else is normalised into a copy, and that nesting beyond the record layer's
// limit is refused.
func TestStoredJSON(t *testing.T) {
	nested := func(n int) any {
		var v any = "leaf"
		for range n {
			v = []any{v}
		}
		return v
	}
	shared := map[string]any{"id": int64(1), "n": 2.5, "tags": []any{"a", true, nil}, "user": map[string]any{"email": "x"}}
	tests := []struct {
		name    string
		in      any
		want    any
		shared  bool
		wantErr bool
	}{
		{"stored map is shared", shared, shared, true, false},
		{"scalar", "s", "s", false, false},
		{"nil map is null", map[string]any(nil), nil, false, false},
		{"nil slice is null", []any(nil), nil, false, false},
		{"go ints are copied as int64", map[string]any{"values": []int{1, 2}}, map[string]any{"values": []any{int64(1), int64(2)}}, false, false},
		{"json numbers are normalised", map[string]any{"n": json.Number("3"), "f": json.Number("1.5")}, map[string]any{"n": int64(3), "f": 1.5}, false, false},
		{"nested to the limit", nested(core.MaxJSONDepth), nested(core.MaxJSONDepth), false, false},
		{"nested beyond the limit", nested(core.MaxJSONDepth + 1), nil, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storedJSON(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
			if m, ok := got.(map[string]any); ok {
				same := reflect.ValueOf(m).UnsafePointer() == reflect.ValueOf(tc.in).UnsafePointer()
				if same != tc.shared {
					t.Fatalf("shared: %v, want %v", same, tc.shared)
				}
			}
		})
	}
}
