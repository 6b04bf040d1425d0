package runtime

import (
	"context"
	"sync"
	"time"
)

// runContext is the context of one run (Run.Context and the LState's
// context). It is done when its deadline passes (the worker's reusable timer
// fires), when the caller's context is done, or when the run is cancelled
// with a cause (Run.Stop, the memory watchdog, Engine.Close).
//
// It replaces context.WithCancelCause + context.WithTimeoutCause, which cost
// six allocations and a timer per run on the hot path.
type runContext struct {
	engine *Engine // the engine running the run
	parent context.Context
	// background: the run is a background one (Request.Background, which a run nested
	// in a background run is too); its nested runs take background states.
	background bool
	deadline   time.Time
	done       chan struct{}
	stop       func() bool // unregisters from the parent; nil if the parent cannot be cancelled

	mu    sync.Mutex
	err   error // context.Canceled or context.DeadlineExceeded once done
	cause error // ErrTimeout, ErrMemory, ErrCanceled, errStopped, or the parent's cause
}

// runKey is the context key under which a run's context gives itself, so that a run
// started from inside another (a module calling back into the engine) is known to be
// nested, and in which kind of run.
type runKey struct{}

// outerRun is the context of the run that ctx is (derived from), or nil.
func outerRun(ctx context.Context) *runContext {
	c, _ := ctx.Value(runKey{}).(*runContext)
	return c
}

func newRunContext(e *Engine, parent context.Context, deadline time.Time, background bool) *runContext {
	c := &runContext{engine: e, parent: parent, background: background, deadline: deadline, done: make(chan struct{})}
	if pd, ok := parent.Deadline(); ok && pd.Before(c.deadline) {
		c.deadline = pd
	}
	if parent.Done() != nil {
		c.stop = context.AfterFunc(parent, func() {
			err := parent.Err()
			c.cancel(err, context.Cause(parent))
		})
	}
	return c
}

func (c *runContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *runContext) Done() <-chan struct{}       { return c.done }

func (c *runContext) Value(key any) any {
	if _, ok := key.(runKey); ok {
		return c
	}
	return c.parent.Value(key)
}

func (c *runContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Cause returns why the context is done (nil while it is not).
func (c *runContext) Cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// cancel marks the context done; the first call wins.
func (c *runContext) cancel(err, cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if cause == nil {
		cause = err
	}
	c.err, c.cause = err, cause
	close(c.done)
}

// cancelCause cancels the run with a cause (ErrMemory, ErrCanceled, errStopped).
func (c *runContext) cancelCause(cause error) { c.cancel(context.Canceled, cause) }

// expire cancels the context if its deadline has passed. The worker's timer
// calls it; a late fire meant for an earlier run finds a deadline in the
// future and does nothing.
func (c *runContext) expire() {
	if !time.Now().Before(c.deadline) {
		c.cancel(context.DeadlineExceeded, ErrTimeout)
	}
}

// release detaches the context from its parent once the run is over.
func (c *runContext) release() {
	if c.stop != nil {
		c.stop()
	}
}
