package runtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRunContext(t *testing.T) {
	type key struct{}
	t.Run("deadline and value", func(t *testing.T) {
		parent := context.WithValue(context.Background(), key{}, "v")
		c := newRunContext(nil, parent, time.Now().Add(time.Hour), false)
		defer c.release()
		if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
			t.Fatalf("deadline %v %v", d, ok)
		}
		if c.Value(key{}) != "v" || c.Err() != nil || c.Cause() != nil {
			t.Fatal("fresh context")
		}
		c.expire() // not yet due: no-op
		if c.Err() != nil {
			t.Fatal("expired early")
		}
	})
	t.Run("earlier parent deadline wins", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := newRunContext(nil, parent, time.Now().Add(time.Hour), false)
		defer c.release()
		pd, _ := parent.Deadline()
		if d, _ := c.Deadline(); !d.Equal(pd) {
			t.Fatalf("deadline %v, parent %v", d, pd)
		}
	})
	cases := []struct {
		name      string
		do        func(c *runContext, cancelParent context.CancelFunc)
		wantErr   error
		wantCause error
	}{
		{"expired", func(c *runContext, _ context.CancelFunc) { c.deadline = time.Now(); c.expire() }, context.DeadlineExceeded, ErrTimeout},
		{"cancelled with a cause", func(c *runContext, _ context.CancelFunc) { c.cancelCause(ErrMemory) }, context.Canceled, ErrMemory},
		{"first cancel wins", func(c *runContext, _ context.CancelFunc) { c.cancelCause(errStopped); c.cancelCause(ErrMemory) }, context.Canceled, errStopped},
		{"parent cancelled", func(_ *runContext, cancel context.CancelFunc) { cancel() }, context.Canceled, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := newRunContext(nil, parent, time.Now().Add(time.Hour), false)
			defer c.release()
			tc.do(c, cancel)
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("not done")
			}
			if !errors.Is(c.Err(), tc.wantErr) || c.Cause() != tc.wantCause {
				t.Fatalf("err %v cause %v", c.Err(), c.Cause())
			}
		})
	}
	t.Run("released from parent", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		c := newRunContext(nil, parent, time.Now().Add(time.Hour), false)
		c.release()
		cancel()
		time.Sleep(10 * time.Millisecond)
		if c.Err() != nil {
			t.Fatal("a released run context followed its parent")
		}
	})
}
