package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Log limits per run.
const (
	MaxLogLines   = 1000
	MaxLogMessage = 8 << 10
)

// Run is the per-run state handed to modules. Its methods must be called
// from the run's goroutine (inside module functions), except Context.
type Run struct {
	ctx    *runContext
	host   any
	w      *worker
	script *Script
	env    *lua.LTable
	start  time.Time

	logs      []LogLine
	truncated bool

	stopped bool
	stopVal any

	values   map[any]any
	modules  map[string]lua.LValue
	limitMsg string
	errLine  int
}

// Context is the run's context: it is done when the run times out, is
// stopped, is cancelled by the caller or by the memory watchdog. Modules doing
// I/O must honour it.
func (r *Run) Context() context.Context { return r.ctx }

// Host returns Request.Host.
func (r *Run) Host() any { return r.host }

// ScriptName returns the name of the script being run.
func (r *Run) ScriptName() string { return r.script.name }

// Log records a log line for the run (kept on Result.Logs). After MaxLogLines
// lines one "log truncated" line is added and the rest dropped; messages are
// cut at MaxLogMessage bytes.
func (r *Run) Log(level, msg string) {
	if r.truncated {
		return
	}
	if len(r.logs) >= MaxLogLines {
		r.truncated = true
		r.logs = append(r.logs, LogLine{Level: "warn", Message: "log truncated", Time: time.Now()})
		return
	}
	if len(msg) > MaxLogMessage {
		msg = msg[:MaxLogMessage] + "…"
	}
	if r.logs == nil {
		r.logs = make([]LogLine, 0, 8)
	}
	r.logs = append(r.logs, LogLine{Level: level, Message: msg, Time: time.Now()})
}

// Stop ends the run: v becomes Result.Stop (and Result.Err stays nil). It
// raises a Lua error to unwind the script and cancels the run's context, so
// that even if the script catches the error with pcall, the next Lua
// instruction raises again; Result.Stop is honoured however the run then ends.
// The first Stop wins. L may be nil to only record the stop.
func (r *Run) Stop(L *lua.LState, v any) {
	if !r.stopped {
		r.stopped = true
		r.stopVal = v
		r.ctx.cancelCause(errStopped)
	}
	if L != nil {
		L.RaiseError("run stopped")
	}
}

// Stopped reports whether Stop was called.
func (r *Run) Stopped() bool { return r.stopped }

// Value returns the per-run value stored under key.
func (r *Run) Value(key any) any { return r.values[key] }

// SetValue stores a per-run value for modules (scratch space that dies with the run).
func (r *Run) SetValue(key, v any) {
	if r.values == nil {
		r.values = make(map[any]any)
	}
	r.values[key] = v
}

// RaiseLimit raises a Lua error for a limit hit; if the error ends the run,
// Result.Err wraps ErrLimit.
func (r *Run) RaiseLimit(L *lua.LState, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.limitMsg = msg
	L.RaiseError("%s", msg)
}

// require resolves a module for this run: registered host modules first,
// then embedded pure-Lua modules; each is opened once per run.
func (r *Run) require(L *lua.LState, name string) lua.LValue {
	if v, ok := r.modules[name]; ok {
		if v == nil {
			L.RaiseError("loop or previous error loading module '%s'", name)
		}
		return v
	}
	e := r.w.e
	m, isHost := e.modules[name]
	proto, isLua := e.luaMods[name]
	if !isHost && !isLua {
		L.RaiseError("module '%s' not found", name)
	}
	if r.modules == nil {
		r.modules = make(map[string]lua.LValue, 4)
	}
	r.modules[name] = nil // loading
	var v lua.LValue
	if isHost {
		v = m.Open(L, r)
	} else {
		fn := L.NewFunctionFromProto(proto)
		fn.Env = r.env
		L.Push(fn)
		L.Push(lua.LString(name))
		L.Call(1, 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	if v == nil || v == lua.LNil {
		v = lua.LTrue
	}
	r.modules[name] = v
	return v
}

// exec runs one request on w and fills res. The caller holds w.
// Its deadline was set when the run was asked for.
func (w *worker) exec(parent context.Context, req *Request, res *Result, deadline time.Time) {
	e := w.e
	inFlight := false
	defer func() {
		// Safety net: nothing below should panic, but a bug must not take
		// the process down or leave a half-used state in the pool.
		if rcv := recover(); rcv != nil {
			w.timer.Stop()
			if inFlight {
				e.inflight.Add(-1)
			}
			w.cur.Store(nil)
			w.run = nil
			w.discard()
			res.Err = fmt.Errorf("runtime: internal error: %v", rcv)
		}
	}()
	if parent.Err() != nil {
		res.Err = ctxError(parent)
		return
	}
	if w.L == nil {
		w.build()
	}
	L := w.L

	env := L.CreateTable(0, len(req.Globals))
	env.Metatable = w.envMT
	for k, v := range req.Globals {
		lv, err := ToLua(L, v)
		if err != nil {
			res.Err = fmt.Errorf("runtime: global %q: %w", k, err)
			return
		}
		env.RawSetString(k, lv)
	}
	rctx := newRunContext(e, parent, deadline, req.Background)
	defer rctx.release()
	r := &Run{ctx: rctx, host: req.Host, w: w, script: req.Script, env: env, start: time.Now()}
	fn := L.NewFunctionFromProto(req.Script.proto)
	fn.Env = env

	w.run = r
	w.cur.Store(r)
	inFlight = true
	if e.inflight.Add(1) == 1 {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	w.timer.Reset(time.Until(rctx.deadline))
	L.SetContext(rctx)
	perr := w.pcall(fn)
	L.RemoveContext()
	w.timer.Stop()
	var ret lua.LValue = lua.LNil
	if perr == nil {
		ret = L.Get(-1)
	}
	L.SetTop(0)
	inFlight = false
	e.inflight.Add(-1)
	w.cur.Store(nil)
	w.run = nil
	ctxErr := rctx.Err()
	cause := rctx.Cause()

	res.Logs = r.logs
	dirty := true
	switch {
	case r.stopped:
		res.Stop = r.stopVal
	case perr != nil && ctxErr != nil:
		res.Err = r.interruptError(cause)
	case perr != nil:
		res.Err = r.scriptError(perr)
	default:
		// The script returned, even if its context ended meanwhile (a deadline that struck
		// as its last call, e.g. a committed db write, returned): the run is a success.
		dirty = false
		out, err := FromLua(ret)
		if err != nil {
			res.Err = &ScriptError{Name: r.script.name, Message: "cannot convert return value: " + strings.TrimPrefix(err.Error(), "runtime: "), Err: err}
		} else {
			res.Output = out
		}
		if res.Err == nil && len(req.ReadBack) > 0 {
			res.Globals, res.Err = r.readBack(req.ReadBack)
		}
	}
	if dirty || !w.intact() {
		w.discard()
	}
}

// pcall calls fn with the error handler. gopher-lua's PCall can itself
// panic when the error handler cannot be pushed (registry overflow); that
// panic is turned into the error it carries.
func (w *worker) pcall(fn *lua.LFunction) (err error) {
	defer func() {
		if rcv := recover(); rcv != nil {
			if ae, ok := rcv.(*lua.ApiError); ok {
				err = ae
				return
			}
			err = &lua.ApiError{Type: lua.ApiErrorPanic, Object: lua.LString(fmt.Sprint(rcv))}
		}
	}()
	w.L.Push(fn)
	return w.L.PCall(0, 1, w.errfn)
}

func (r *Run) interruptError(cause error) error {
	var sentinel error
	switch {
	case cause == ErrTimeout || errors.Is(cause, context.DeadlineExceeded):
		sentinel = ErrTimeout
	case cause == ErrMemory:
		sentinel = ErrMemory
	default:
		sentinel = ErrCanceled
	}
	return &InterruptError{Err: sentinel, Name: r.script.name, Line: r.errLine, After: time.Since(r.start).Round(time.Millisecond)}
}

func (r *Run) scriptError(err error) error {
	se := &ScriptError{Name: r.script.name, Line: r.errLine}
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		obj = ae.Object
		if ae.Type == lua.ApiErrorPanic {
			se.Err = fmt.Errorf("runtime: go panic in script %s", r.script.name)
		}
	}
	switch v := obj.(type) {
	case lua.LString:
		se.Value = string(v)
		se.Message = stripPosition(string(v), r.script.name, &se.Line)
		if r.limitMsg != "" && strings.HasSuffix(string(v), r.limitMsg) {
			se.Err = ErrLimit
		}
	case *lua.LTable:
		val, cerr := FromLua(v)
		if cerr != nil {
			se.Message = "error object (a table that cannot be converted: " + strings.TrimPrefix(cerr.Error(), "runtime: ") + ")"
			break
		}
		se.Value = val
		se.Message = renderErrorValue(val)
	default:
		val, _ := FromLua(v)
		se.Value = val
		se.Message = v.String()
	}
	return se
}

// stripPosition removes a leading "name:LINE: " from msg; when line is 0
// it is set from the prefix.
func stripPosition(msg, name string, line *int) string {
	if !strings.HasPrefix(msg, name+":") {
		return msg
	}
	rest := msg[len(name)+1:]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(rest) || rest[i] != ':' {
		return msg
	}
	if *line == 0 {
		*line, _ = strconv.Atoi(rest[:i])
	}
	return strings.TrimPrefix(rest[i+1:], " ")
}

// renderErrorValue renders a converted table error value: its "message"
// field when that is a string, else compact JSON.
func renderErrorValue(v any) string {
	if m, ok := v.(map[string]any); ok {
		if s, ok := m["message"].(string); ok {
			return s
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// readBack converts the named globals of the run's env back to Go values.
func (r *Run) readBack(names []string) (map[string]any, error) {
	out := make(map[string]any, len(names))
	for _, name := range names {
		v, err := FromLua(r.env.RawGetString(name))
		if err != nil {
			return nil, &ScriptError{Name: r.script.name, Message: fmt.Sprintf("cannot convert global %s: %s", name, strings.TrimPrefix(err.Error(), "runtime: ")), Err: err}
		}
		out[name] = v
	}
	return out, nil
}
