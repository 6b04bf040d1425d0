package workflow

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/runtime"
	lua "github.com/yuin/gopher-lua"
)

// runState is the host value of one workflow run: what flow and db read and write. It is
// in Engine.running while the run goes on, and for an async execution from before its
// worker reads it until its outcome is written (see process).
type runState struct {
	engine   *Engine
	wf       *Workflow
	exec     *Execution
	messages []core.Message
	cancel   context.CancelFunc
	// read, for an async execution, is closed once its worker has read it: a cancel waits
	// for that to know whether there is a run to cancel.
	read chan struct{}

	// lost is set when this node lost the execution's lease: its outcome is not written.
	lost atomic.Bool

	mu    sync.Mutex
	notes []LogLine // lines other parts of the engine add, e.g. a trigger skipped by loop protection
	ended bool      // the run is over: its outcome stands

	// writes are the db writes of the run that committed, e.g. "orders#12 created" (the
	// run's goroutine only): an execution that does not resolve says what it left behind.
	writes []string
}

// maxNotedWrites caps runState.writes; more are counted in one last entry.
const maxNotedWrites = 100

// noteWrite records committed writes of the run, one entry per record (ids) or one for
// the count n when ids is empty.
func (st *runState) noteWrite(c *core.Collection, action string, ids []uint64, n int) {
	add := func(s string) {
		switch {
		case len(st.writes) < maxNotedWrites:
			st.writes = append(st.writes, s)
		case len(st.writes) == maxNotedWrites:
			st.writes = append(st.writes, "and more")
		}
	}
	if len(ids) == 0 {
		if n > 0 {
			add(fmt.Sprintf("%d %s records %s", n, c.Name, action))
		}
		return
	}
	for _, id := range ids {
		add(fmt.Sprintf("%s#%d %s", c.Name, id, action))
	}
}

// abort cancels the run; false when it has already ended.
func (st *runState) abort() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return false
	}
	st.cancel()
	return true
}

// end marks the run over: a later abort comes too late.
func (st *runState) end() {
	st.mu.Lock()
	st.ended = true
	st.mu.Unlock()
}

// Note adds a log line to a running execution (no-op when it is not running here): the way a
// trigger reports on the execution whose write it skipped.
func (e *Engine) Note(execID uint64, level, msg string) {
	v, ok := e.running.Load(execID)
	if !ok {
		return
	}
	st := v.(*runState)
	st.mu.Lock()
	if len(st.notes) < 100 {
		st.notes = append(st.notes, LogLine{Level: level, Message: msg, Time: now()})
	}
	st.mu.Unlock()
}

// stop values of flow.fail and flow.finish.
type failStop struct {
	message string
	line    int // where the script called flow.fail
}
type finishStop struct{}

// Outcome is how a run ended, for triggers deciding a response.
type Outcome struct {
	Execution *Execution
	// Finished is set when the script called flow.finish(): later workflows are skipped.
	Finished bool
	// Context is ctx as the script left it, for events with ReadContext that resolved
	// (without ctx.workflow and ctx.execution).
	Context map[string]any
}

// Status is the execution's final status.
func (o Outcome) Status() int {
	if o.Execution.Status == nil {
		return StatusStarted
	}
	return *o.Execution.Status
}

// runQueued executes a queued execution's script and fills in its outcome fields; st is
// its worker's claim on it, in Engine.running, whose cancel cancels ctx. It runs on the
// Lua states kept for background runs: however long it runs, it never holds a state that
// a request's sync workflow needs.
func (e *Engine) runQueued(ctx context.Context, wf *Workflow, exec *Execution, st *runState) Outcome {
	return e.runScript(ctx, wf, exec, runOptions{background: true, state: st})
}

// runOptions are how runScript runs.
type runOptions struct {
	readCtx    bool      // return ctx as the script left it (Outcome.Context) when it resolves
	background bool      // on the runtime's background states (runtime.Request.Background)
	state      *runState // the run's state, registered by the caller; nil: runScript's own
}

// runScript executes the workflow's script for exec and fills in its outcome fields.
func (e *Engine) runScript(ctx context.Context, wf *Workflow, exec *Execution, o runOptions) Outcome {
	start := time.Now()
	defer func() { e.metrics.observeRun(wf, exec, time.Since(start)) }()
	if exec.StartedAt == "" { // the async worker sets it before its start mark
		exec.StartedAt = now()
	}
	exec.Status = intp(StatusStarted)
	script, err := e.compiled(wf)
	if err != nil {
		exec.Status = intp(StatusError)
		exec.Error = &ExecError{Message: err.Error()}
		exec.FinishedAt = now()
		return Outcome{Execution: exec}
	}
	st := o.state
	if st == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		st = &runState{cancel: cancel}
		e.running.Store(exec.ID, st)
		defer func() {
			e.running.Delete(exec.ID)
			cancel()
		}()
	}
	st.engine, st.wf, st.exec = e, wf, exec

	luaCtx := make(map[string]any, len(exec.Context)+2)
	for k, v := range exec.Context {
		luaCtx[k] = v
	}
	luaCtx["workflow"] = map[string]any{"id": int64(wf.ID), "key": wf.Key, "title": wf.Title}
	luaCtx["execution"] = map[string]any{"id": int64(exec.ID)}
	req := runtime.Request{
		Script:     script,
		Globals:    map[string]any{"ctx": luaCtx},
		Timeout:    time.Duration(wf.Options.Timeout) * time.Millisecond,
		Host:       st,
		Background: o.background,
		Key:        scriptName(wf),
	}
	if o.readCtx {
		req.ReadBack = []string{"ctx"}
	}
	res := e.lua.Run(ctx, req)
	st.end()
	exec.FinishedAt = now()
	exec.Messages = st.messages
	if exec.Messages == nil {
		exec.Messages = []core.Message{}
	}
	exec.Logs = make([]LogLine, len(res.Logs))
	for i, l := range res.Logs {
		exec.Logs[i] = LogLine{Level: l.Level, Message: l.Message, Time: core.FormatTime(l.Time)}
	}
	st.mu.Lock()
	if len(st.notes) > 0 {
		exec.Logs = append(exec.Logs, st.notes...)
		sort.SliceStable(exec.Logs, func(i, j int) bool { return exec.Logs[i].Time < exec.Logs[j].Time })
	}
	st.mu.Unlock()
	out := Outcome{Execution: exec}
	switch stop := res.Stop.(type) {
	case failStop:
		exec.Status = intp(StatusFailed)
		exec.Error = &ExecError{Message: stop.message, Line: stop.line}
		return out
	case finishStop:
		exec.Status = intp(StatusResolved)
		exec.Output = res.Output
		out.Finished = true
		return out
	}
	var se *runtime.ScriptError
	switch {
	case res.Err == nil:
		exec.Status = intp(StatusResolved)
		exec.Output = res.Output
		if o.readCtx {
			out.Context, _ = res.Globals["ctx"].(map[string]any)
			if out.Context == nil {
				out.Context = map[string]any{}
			}
			delete(out.Context, "workflow")
			delete(out.Context, "execution")
		}
	case errors.Is(res.Err, runtime.ErrStateWait):
		exec.Status = intp(StatusAborted)
		exec.Reason = "timeout"
		exec.Error = &ExecError{Message: "timed out waiting for a Lua state"}
	case errors.Is(res.Err, runtime.ErrTimeout):
		exec.Status = intp(StatusAborted)
		exec.Reason = "timeout"
		exec.Error = &ExecError{Message: "the workflow ran past its timeout"}
		if ie := (*runtime.InterruptError)(nil); errors.As(res.Err, &ie) { // the line it was running
			exec.Error.Line = ie.Line
		}
	case errors.Is(res.Err, runtime.ErrCanceled):
		exec.Status = intp(StatusAborted)
		exec.Reason = "manual_cancel"
		exec.Error = &ExecError{Message: "the execution was canceled"}
	case errors.As(res.Err, &se):
		exec.Status = intp(StatusError)
		exec.Error = &ExecError{Message: se.Message, Line: se.Line}
	default:
		exec.Status = intp(StatusError)
		exec.Error = &ExecError{Message: res.Err.Error()}
	}
	e.noteWrites(exec, st.writes)
	return out
}

// noteWrites says, on an execution that was aborted or errored, which of its db writes had
// committed: in its error message and writes, and a log line per write. Those stay written
// (a retry runs the script again from the start).
func (e *Engine) noteWrites(exec *Execution, writes []string) {
	if len(writes) == 0 || exec.Error == nil || (*exec.Status != StatusAborted && *exec.Status != StatusError) {
		return
	}
	verb := "errored"
	if *exec.Status == StatusAborted {
		verb = "aborted"
	}
	exec.Error.Message += "; " + verb + " after committed writes: " + strings.Join(writes, ", ")
	exec.Error.Writes = writes
	t := now()
	for _, w := range writes {
		exec.Logs = append(exec.Logs, LogLine{Level: "warn", Message: "committed before the run " + verb + ": " + w, Time: t})
	}
	e.log.Warn("workflow run ended after committed writes", "execution", exec.ID, "workflow", exec.Key, "status", *exec.Status, "writes", len(writes))
}

// callerLine is the line of the Lua code that called the running Go function (0 when
// unknown).
func callerLine(L *lua.LState) int {
	where := strings.TrimSuffix(strings.TrimSpace(L.Where(1)), ":")
	i := strings.LastIndexByte(where, ':')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(where[i+1:])
	if err != nil {
		return 0
	}
	return n
}

// flowModule is the Lua module "flow" (also a global): message, fail, finish.
func flowModule() runtime.Module {
	return runtime.Module{
		Name:   "flow",
		Global: true,
		Doc:    "flow.message(text) adds a response message; flow.fail(msg) ends the run failed; flow.finish() ends it resolved and skips later workflows.",
		Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
			st, _ := r.Host().(*runState)
			t := L.NewTable()
			L.SetField(t, "message", L.NewFunction(func(L *lua.LState) int {
				msg := L.CheckString(1)
				if st != nil && len(st.messages) < 100 {
					st.messages = append(st.messages, core.Message{Message: value.Clip(msg, 4096)})
				}
				return 0
			}))
			L.SetField(t, "fail", L.NewFunction(func(L *lua.LState) int {
				msg := L.OptString(1, "workflow failed")
				r.Stop(L, failStop{message: value.Clip(msg, 4096), line: callerLine(L)})
				return 0
			}))
			L.SetField(t, "finish", L.NewFunction(func(L *lua.LState) int {
				r.Stop(L, finishStop{})
				return 0
			}))
			return t
		},
	}
}

// dbModule is the Lua module "db": get, list, create, update, destroy on collections, with
// the data API's validation. Writes carry the execution stack (loop protection) and fire
// collection events, never action ones.
func dbModule() runtime.Module {
	return runtime.Module{
		Name: "db",
		Doc:  "db.get(coll, id), db.list(coll, {filter, sort, page, pageSize, appends}), db.create(coll, values), db.update(coll, id_or_filter, values), db.destroy(coll, id_or_filter); each returns its result or nil, err.",
		Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
			st, _ := r.Host().(*runState)
			t := L.NewTable()
			reg := func(name string, fn func(L *lua.LState, st *runState) (any, error)) {
				L.SetField(t, name, L.NewFunction(func(L *lua.LState) int {
					if st == nil {
						L.Push(lua.LNil)
						L.Push(lua.LString("db is only available in workflows"))
						return 2
					}
					v, err := fn(L, st)
					if err != nil {
						L.Push(lua.LNil)
						L.Push(lua.LString(err.Error()))
						return 2
					}
					lv, err := runtime.ToLua(L, v)
					if err != nil {
						L.RaiseError("db.%s: %v", name, err)
					}
					L.Push(lv)
					return 1
				}))
			}
			reg("get", dbGet)
			reg("list", dbList)
			reg("create", dbCreate)
			reg("update", dbUpdate)
			reg("destroy", dbDestroy)
			return t
		},
	}
}

// dbCollection resolves a collection argument; write says whether it will be written.
func dbCollection(L *lua.LState, st *runState, write bool) (*core.Collection, error) {
	name := L.CheckString(1)
	c, err := st.engine.data.Collection(name)
	if err != nil {
		return nil, err
	}
	if write && c.System {
		return nil, fmt.Errorf("%s is a system collection; workflows may not write it", name)
	}
	return c, nil
}

func (st *runState) writeOptions() core.WriteOptions {
	stack := append(append([]Frame(nil), st.exec.Stack...), Frame{Execution: st.exec.ID, Workflow: st.wf.ID})
	var uid uint64
	if u, ok := st.exec.Context["user"].(map[string]any); ok {
		if id, ok := u["id"].(int64); ok && id > 0 {
			uid = uint64(id)
		}
	}
	return core.WriteOptions{UserID: uid, Origin: Origin{Stack: stack}}
}

// selector reads an id or a filter table argument.
func dbSelector(L *lua.LState, c *core.Collection, st *runState, idx int) (core.Selector, error) {
	switch v := L.Get(idx).(type) {
	case lua.LNumber:
		if v <= 0 || float64(v) != float64(int64(v)) {
			return core.Selector{}, fmt.Errorf("%v is not a record id", v)
		}
		return core.Selector{ID: uint64(v)}, nil
	case *lua.LTable:
		f, err := luaFilter(c, st, v)
		if err != nil {
			return core.Selector{}, err
		}
		if f == nil {
			return core.Selector{}, errors.New("an empty filter would select every record; pass a filter or an id")
		}
		return core.Selector{Filter: f}, nil
	}
	return core.Selector{}, errors.New("expected a record id or a filter table")
}

func dbGet(L *lua.LState, st *runState) (any, error) {
	c, err := dbCollection(L, st, false)
	if err != nil {
		return nil, err
	}
	id := L.CheckInt64(2)
	if id <= 0 {
		return nil, fmt.Errorf("%d is not a record id", id)
	}
	var out core.Record
	err = st.engine.app.View(L.Context(), func(tx *core.Tx) error {
		r, err := st.engine.data.Get(tx, c, uint64(id))
		if err != nil {
			return err
		}
		out = core.Desensitize(c, r)
		return nil
	})
	return out, err
}

func dbList(L *lua.LState, st *runState) (any, error) {
	c, err := dbCollection(L, st, false)
	if err != nil {
		return nil, err
	}
	q, appends, err := luaListQuery(c, st, L.OptTable(2, L.NewTable()))
	if err != nil {
		return nil, err
	}
	var out []core.Record
	err = st.engine.app.View(L.Context(), func(tx *core.Tx) error {
		recs, _, err := st.engine.data.List(tx, c, q)
		if err != nil {
			return err
		}
		out, err = st.engine.data.Present(tx, c, recs, appends, nil)
		return err
	})
	list := make([]any, len(out))
	for i, r := range out {
		list[i] = map[string]any(r)
	}
	return list, err
}

func dbCreate(L *lua.LState, st *runState) (any, error) {
	c, err := dbCollection(L, st, true)
	if err != nil {
		return nil, err
	}
	values, err := luaValues(L.CheckTable(2))
	if err != nil {
		return nil, err
	}
	var out core.Record
	err = st.engine.app.Update(L.Context(), func(tx *core.Tx) error {
		r, err := st.engine.data.Create(tx, c, values, st.writeOptions())
		if err != nil {
			return err
		}
		out = core.Desensitize(c, r)
		tx.OnCommit(func() { st.noteWrite(c, "created", recordIDs(r), 1) })
		return nil
	})
	return out, err
}

func dbUpdate(L *lua.LState, st *runState) (any, error) {
	c, err := dbCollection(L, st, true)
	if err != nil {
		return nil, err
	}
	sel, err := dbSelector(L, c, st, 2)
	if err != nil {
		return nil, err
	}
	values, err := luaValues(L.CheckTable(3))
	if err != nil {
		return nil, err
	}
	var out []any
	err = st.engine.app.Update(L.Context(), func(tx *core.Tx) error {
		recs, err := st.engine.data.Update(tx, c, sel, values, st.writeOptions())
		out = make([]any, len(recs))
		for i, r := range recs {
			out[i] = map[string]any(core.Desensitize(c, r))
		}
		if err == nil {
			tx.OnCommit(func() { st.noteWrite(c, "updated", recordIDs(recs...), len(recs)) })
		}
		return err
	})
	return out, err
}

func dbDestroy(L *lua.LState, st *runState) (any, error) {
	c, err := dbCollection(L, st, true)
	if err != nil {
		return nil, err
	}
	sel, err := dbSelector(L, c, st, 2)
	if err != nil {
		return nil, err
	}
	var n int
	err = st.engine.app.Update(L.Context(), func(tx *core.Tx) error {
		n, err = st.engine.data.Destroy(tx, c, sel, st.writeOptions())
		if err == nil {
			ids := []uint64(nil)
			if sel.Filter == nil && n == 1 {
				ids = []uint64{sel.ID}
			}
			tx.OnCommit(func() { st.noteWrite(c, "destroyed", ids, n) })
		}
		return err
	})
	return int64(n), err
}

// recordIDs are the ids of records.
func recordIDs(recs ...core.Record) []uint64 {
	ids := make([]uint64, 0, len(recs))
	for _, r := range recs {
		if id, ok := r["id"].(int64); ok {
			ids = append(ids, uint64(id))
		}
	}
	return ids
}

func luaValues(t *lua.LTable) (map[string]any, error) {
	v, err := runtime.FromLua(t)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case []any:
		if len(m) == 0 {
			return map[string]any{}, nil
		}
	}
	return nil, errors.New("values must be a table of field = value")
}
