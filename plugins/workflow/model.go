package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/value"
)

// Execution statuses (API.md §4). Queued executions have no status (null).
const (
	StatusStarted  = 0
	StatusResolved = 1
	StatusFailed   = -1
	StatusError    = -2
	StatusAborted  = -3
	StatusCanceled = -4
)

// Collection names.
const (
	WorkflowsCollection  = "workflows"
	ExecutionsCollection = "executions"
)

// Options are a workflow's run options.
type Options struct {
	// Timeout in milliseconds; 0 means the engine's default.
	Timeout int64 `json:"timeout,omitempty"`
	// DeleteExecutionOnStatus lists final statuses whose executions are deleted.
	DeleteExecutionOnStatus []int `json:"deleteExecutionOnStatus,omitempty"`
	// StackLimit is how many times a workflow may be on an execution stack (default 1).
	StackLimit int `json:"stackLimit,omitempty"`
}

// Workflow is one version of a workflow.
type Workflow struct {
	ID          uint64         `json:"id"`
	Key         string         `json:"key"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Type        string         `json:"type"`
	Sync        bool           `json:"sync"`
	Enabled     bool           `json:"enabled"`
	Current     bool           `json:"current"`
	Config      map[string]any `json:"config"`
	Options     Options        `json:"options"`
	Script      string         `json:"script"`
	Executed    int64          `json:"executed"`
}

// ConfigString reads a string of the config.
func (w *Workflow) ConfigString(name string) string {
	s, _ := w.Config[name].(string)
	return s
}

// ConfigBool reads a boolean of the config.
func (w *Workflow) ConfigBool(name string) bool {
	b, _ := w.Config[name].(bool)
	return b
}

// ConfigStrings reads a list of strings of the config.
func (w *Workflow) ConfigStrings(name string) []string {
	list, _ := w.Config[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (w *Workflow) stackLimit() int {
	if w.Options.StackLimit > 0 {
		return w.Options.StackLimit
	}
	return 1
}

// Frame is one entry of an execution stack: the executions that led to a write.
type Frame struct {
	Execution uint64 `json:"execution"`
	Workflow  uint64 `json:"workflow"`
}

// Origin is what a workflow's db writes carry in core.WriteOptions, so collection events
// they cause know the stack that led to them.
type Origin struct {
	Stack []Frame
}

// ExecError is an execution's error.
type ExecError struct {
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	// Writes are the db writes that committed before an aborted or errored run ended,
	// e.g. "orders#12 created".
	Writes []string `json:"writes,omitempty"`
}

// LogLine is one line an execution logged.
type LogLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Time    string `json:"time"`
}

// Execution is one run of a workflow.
type Execution struct {
	ID         uint64         `json:"id"`
	WorkflowID uint64         `json:"workflowId"`
	Key        string         `json:"key"`
	Status     *int           `json:"status"`
	Context    map[string]any `json:"context"`
	Output     any            `json:"output"`
	Error      *ExecError     `json:"error"`
	Logs       []LogLine      `json:"logs"`
	Messages   []core.Message `json:"messages"`
	Stack      []Frame        `json:"stack"`
	Reason     string         `json:"reason,omitempty"`
	Manually   bool           `json:"manually"`
	CreatedAt  string         `json:"createdAt,omitempty"`
	StartedAt  string         `json:"startedAt,omitempty"`
	FinishedAt string         `json:"finishedAt,omitempty"`
}

// Final reports whether the execution has ended.
func (e *Execution) Final() bool { return e.Status != nil && *e.Status != StatusStarted }

func workflowsCollection() *core.Collection {
	return &core.Collection{Name: WorkflowsCollection, Title: "Workflows", Fields: []*core.Field{
		{Name: "key", Type: core.TypeString, Required: true, Index: true},
		{Name: "title", Type: core.TypeString},
		{Name: "description", Type: core.TypeText},
		{Name: "type", Type: core.TypeString, Required: true},
		{Name: "sync", Type: core.TypeBoolean, DefaultValue: false},
		{Name: "enabled", Type: core.TypeBoolean, DefaultValue: false},
		{Name: "current", Type: core.TypeBoolean, DefaultValue: false},
		{Name: "config", Type: core.TypeJSON},
		{Name: "options", Type: core.TypeJSON},
		{Name: "script", Type: core.TypeText},
		{Name: "executed", Type: core.TypeInteger, DefaultValue: 0},
		{Name: "executions", Type: core.TypeHasMany, Target: ExecutionsCollection, ForeignKey: "workflowId"},
	}}
}

func executionsCollection() *core.Collection {
	return &core.Collection{Name: ExecutionsCollection, Title: "Executions", Fields: []*core.Field{
		{Name: "workflow", Type: core.TypeBelongsTo, Target: WorkflowsCollection, ForeignKey: "workflowId"},
		{Name: "key", Type: core.TypeString, Index: true},
		{Name: "status", Type: core.TypeInteger, Index: true},
		{Name: "context", Type: core.TypeJSON},
		{Name: "output", Type: core.TypeJSON},
		{Name: "error", Type: core.TypeJSON},
		{Name: "logs", Type: core.TypeJSON},
		{Name: "messages", Type: core.TypeJSON},
		{Name: "stack", Type: core.TypeJSON},
		{Name: "reason", Type: core.TypeString},
		{Name: "manually", Type: core.TypeBoolean, DefaultValue: false},
		{Name: "startedAt", Type: core.TypeDate},
		{Name: "finishedAt", Type: core.TypeDate},
	}}
}

// fromRecord decodes a record into a workflow.
func fromRecord(r core.Record, w *Workflow) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("workflow: encode record: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(w); err != nil {
		return fmt.Errorf("workflow: decode record: %w", err)
	}
	// Free-form values get the record layer's number types: int64 or float64.
	if n, err := value.Normalize(w.Config); err == nil {
		w.Config, _ = n.(map[string]any)
	}
	return nil
}

// execFromRecord decodes a record into an execution without a JSON round trip: an
// execution is read back on every async run, and a round trip was a fifth of the
// worker's time. Values are the record layer's types (int64, float64, string, bool, nil,
// map[string]any, []any); JSON fields are shared with r, not copied.
func execFromRecord(r core.Record) (*Execution, error) {
	x := &Execution{}
	var err error
	num := func(name string) uint64 {
		n, ok := r[name].(int64)
		if !ok && r[name] != nil && err == nil {
			err = fmt.Errorf("workflow: decode execution: %s is %T, not an integer", name, r[name])
		}
		return uint64(n)
	}
	str := func(v any, name string) string {
		s, ok := v.(string)
		if !ok && v != nil && err == nil {
			err = fmt.Errorf("workflow: decode execution: %s is %T, not a string", name, v)
		}
		return s
	}
	x.ID, x.WorkflowID = num("id"), num("workflowId")
	if st, ok := r["status"].(int64); ok {
		x.Status = intp(int(st))
	} else if r["status"] != nil {
		return nil, fmt.Errorf("workflow: decode execution: status is %T", r["status"])
	}
	x.Key, x.Reason = str(r["key"], "key"), str(r["reason"], "reason")
	x.CreatedAt, x.StartedAt, x.FinishedAt = str(r["createdAt"], "createdAt"), str(r["startedAt"], "startedAt"), str(r["finishedAt"], "finishedAt")
	x.Manually, _ = r["manually"].(bool)
	x.Context, _ = r["context"].(map[string]any)
	x.Output = r["output"]
	if m, ok := r["error"].(map[string]any); ok {
		x.Error = &ExecError{Message: str(m["message"], "error.message")}
		if l, ok := m["line"].(int64); ok {
			x.Error.Line = int(l)
		}
		if list, ok := m["writes"].([]any); ok {
			for _, w := range list {
				if s, ok := w.(string); ok {
					x.Error.Writes = append(x.Error.Writes, s)
				}
			}
		}
	}
	if list, ok := r["logs"].([]any); ok {
		x.Logs = make([]LogLine, 0, len(list))
		for _, v := range list {
			m, _ := v.(map[string]any)
			x.Logs = append(x.Logs, LogLine{Level: str(m["level"], "logs.level"), Message: str(m["message"], "logs.message"), Time: str(m["time"], "logs.time")})
		}
	}
	if list, ok := r["messages"].([]any); ok {
		x.Messages = make([]core.Message, 0, len(list))
		for _, v := range list {
			m, _ := v.(map[string]any)
			x.Messages = append(x.Messages, core.Message{Message: str(m["message"], "messages.message")})
		}
	}
	if list, ok := r["stack"].([]any); ok {
		x.Stack = make([]Frame, 0, len(list))
		for _, v := range list {
			m, _ := v.(map[string]any)
			e, _ := m["execution"].(int64)
			w, _ := m["workflow"].(int64)
			x.Stack = append(x.Stack, Frame{Execution: uint64(e), Workflow: uint64(w)})
		}
	}
	if err != nil {
		return nil, err
	}
	return x, nil
}

// toValues turns a value into record values (JSON round trip, numbers normalised by core).
func toValues(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("workflow: encode: %w", err)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("workflow: decode: %w", err)
	}
	return m, nil
}

// execValues is toValues(x) without "id", built directly in the record layer's stored
// form, for Data.CreateStored and UpdateStored: an execution is written once or twice per
// run, and the JSON round trip, then the checks and copies of client values, were a tenth
// of the CPU time of a sync workflow request. Free-form values (context, output) are
// shared with x when already in stored form (see storedJSON).
func execValues(x *Execution) (map[string]any, error) {
	m := make(map[string]any, 16)
	m["workflowId"] = int64(x.WorkflowID)
	m["key"] = x.Key
	if x.Status != nil {
		m["status"] = int64(*x.Status)
	} else {
		m["status"] = nil
	}
	var err error
	if m["context"], err = storedJSON(x.Context); err != nil {
		return nil, err
	}
	if m["output"], err = storedJSON(x.Output); err != nil {
		return nil, err
	}
	if x.Error != nil {
		e := map[string]any{"message": x.Error.Message}
		if x.Error.Line != 0 {
			e["line"] = int64(x.Error.Line)
		}
		if len(x.Error.Writes) > 0 {
			w := make([]any, len(x.Error.Writes))
			for i, s := range x.Error.Writes {
				w[i] = s
			}
			e["writes"] = w
		}
		m["error"] = e
	} else {
		m["error"] = nil
	}
	if x.Logs != nil {
		logs := make([]any, len(x.Logs))
		for i, l := range x.Logs {
			logs[i] = map[string]any{"level": l.Level, "message": l.Message, "time": l.Time}
		}
		m["logs"] = logs
	} else {
		m["logs"] = nil
	}
	if x.Messages != nil {
		msgs := make([]any, len(x.Messages))
		for i, msg := range x.Messages {
			msgs[i] = map[string]any{"message": msg.Message}
		}
		m["messages"] = msgs
	} else {
		m["messages"] = nil
	}
	if x.Stack != nil {
		stack := make([]any, len(x.Stack))
		for i, f := range x.Stack {
			stack[i] = map[string]any{"execution": int64(f.Execution), "workflow": int64(f.Workflow)}
		}
		m["stack"] = stack
	} else {
		m["stack"] = nil
	}
	if x.Reason != "" {
		m["reason"] = x.Reason
	}
	m["manually"] = x.Manually
	for k, v := range map[string]string{"createdAt": x.CreatedAt, "startedAt": x.StartedAt, "finishedAt": x.FinishedAt} {
		if v != "" {
			m[k] = v
		}
	}
	return m, nil
}

// storedJSON is v in the stored form of a JSON field (value.Stored): v itself when it is
// already made of nil, string, bool, int64, float64, map[string]any and []any only (an
// execution's context is records, its output FromLua's values; the record layer never
// changes a stored value), else a normalised deep copy. Like the record layer it refuses
// values nested deeper than core.MaxJSONDepth.
func storedJSON(v any) (any, error) {
	out, err := value.Stored(v)
	if err != nil {
		return nil, fmt.Errorf("workflow: execution value: %w", err)
	}
	return out, nil
}

func now() string { return core.FormatTime(time.Now()) }

func intp(i int) *int { return &i }
