package runtime

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sentinel errors. Result.Err and Compile errors wrap them; test with errors.Is.
var (
	// ErrTimeout: the run passed its deadline (Request.Timeout or Config.Timeout),
	// or the caller's context passed its own deadline.
	ErrTimeout = errors.New("runtime: run timed out")
	// ErrMemory: the memory watchdog saw the process's live heap (after a forced
	// GC) above Config.MemoryLimit and cancelled the run.
	ErrMemory = errors.New("runtime: memory limit exceeded")
	// ErrCanceled: the caller's context was cancelled, or the engine was closed
	// while the run was in flight.
	ErrCanceled = errors.New("runtime: run canceled")
	// ErrLimit: a size or complexity limit was hit (source too large or too deeply
	// nested, a string over Config.MaxStringBytes, a pattern over its step budget,
	// a value too deep or too large to convert...).
	ErrLimit = errors.New("runtime: limit exceeded")
	// ErrClosed: the engine is closed.
	ErrClosed = errors.New("runtime: engine closed")
)

// CompileError reports a script that does not compile. Line is 1-based (0 when
// unknown). Err, when set, is the cause (ErrLimit for oversized or too deeply
// nested source).
type CompileError struct {
	Name    string
	Line    int
	Message string
	Err     error
}

func (e *CompileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("runtime: compile %s:%d: %s", e.Name, e.Line, e.Message)
	}
	return fmt.Sprintf("runtime: compile %s: %s", e.Name, e.Message)
}

func (e *CompileError) Unwrap() error { return e.Err }

// ScriptError is a Lua error that ended a run: error("..."), error({...}), a
// runtime error such as indexing nil, a limit hit inside the script (then Err is
// ErrLimit), or a return value that cannot be converted.
//
// Line is the line in the user's script where the error happened (for errors
// raised inside a required module: the line of the user's script that called
// into it); 0 when unknown. Message is the error text without the
// "name:line:" prefix; for a table error value it is the table's "message"
// field when that is a string, otherwise a JSON rendering of the table. Value is
// the error value converted with FromLua (for string errors, the raw string).
type ScriptError struct {
	Name    string
	Line    int
	Message string
	Value   any
	Err     error
}

func (e *ScriptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("runtime: %s:%d: %s", e.Name, e.Line, e.Message)
	}
	return fmt.Sprintf("runtime: %s: %s", e.Name, e.Message)
}

func (e *ScriptError) Unwrap() error { return e.Err }

// errStopped is the cancel cause used by Run.Stop.
var errStopped = errors.New("runtime: run stopped")

// InterruptError ends a run that was interrupted from outside the script: by its
// deadline, the memory watchdog or a cancel. Err is ErrTimeout, ErrMemory or
// ErrCanceled; Line is the line of the user's script that was running (0 when
// unknown).
type InterruptError struct {
	Err   error
	Name  string
	Line  int
	After time.Duration
}

func (e *InterruptError) Error() string {
	where := ""
	if e.Line > 0 {
		where = " at line " + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("%v: script %s%s after %s", e.Err, e.Name, where, e.After)
}

func (e *InterruptError) Unwrap() error { return e.Err }
