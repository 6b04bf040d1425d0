package workflow

import (
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestReadyNamesStoppedDispatcher: /readyz answers 200 while the dispatcher runs and 503
// naming it once it has stopped.
func TestReadyNamesStoppedDispatcher(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	s.Get("/readyz", "").Must(t, 200)
	// What stop does first (its wait for the sweeper ends only with the app's context).
	e.disp.mu.Lock()
	e.disp.stopped = true
	e.disp.mu.Unlock()
	e.disp.cond.Broadcast()
	r := s.Get("/readyz", "").Must(t, 503)
	if msg := r.ErrMsg(t); !strings.Contains(msg, "dispatcher: stopped") {
		t.Fatalf("message %q", msg)
	}
	s.Get("/healthz", "").Must(t, 200)
}
