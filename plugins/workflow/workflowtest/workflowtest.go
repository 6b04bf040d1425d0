// Package workflowtest helps test trigger plugins over HTTP: an Env wraps a coretest
// server that runs the workflow engine, creates workflows and reads and waits for their
// executions.
package workflowtest

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core/coretest"
)

// Env is a test server with the workflow engine.
type Env struct {
	*coretest.Server
	T *testing.T
	// Type is the trigger type of workflows created without one.
	Type string
}

// At is e for a subtest: its helpers fail t, not the parent test.
func (e *Env) At(t *testing.T) *Env {
	c := *e
	c.T = t
	return &c
}

// Workflow creates a workflow (of e.Type and enabled unless def says otherwise) and returns
// its key.
func (e *Env) Workflow(def map[string]any) string {
	e.T.Helper()
	if _, ok := def["type"]; !ok {
		def["type"] = e.Type
	}
	if _, ok := def["enabled"]; !ok {
		def["enabled"] = true
	}
	w := e.Post("/api/workflows:create", e.Root, def).Must(e.T, 200).Obj(e.T)
	return w["key"].(string)
}

// Executions lists the executions of a key, oldest first.
func (e *Env) Executions(key string) []map[string]any {
	e.T.Helper()
	f := url.QueryEscape(fmt.Sprintf(`{"key":%q}`, key))
	return e.Get("/api/executions:list?pageSize=1000&sort=id&filter="+f, e.Root).Must(e.T, 200).List(e.T)
}

// WaitFinal waits until the key has exactly n executions, all with a final status, and
// returns them oldest first. It fails the test after 20 s (a guard, not a timing).
func (e *Env) WaitFinal(key string, n int) []map[string]any {
	e.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list := e.Executions(key)
		done := len(list) == n
		for _, x := range list {
			if x["status"] == nil || coretest.Num(x["status"]) == 0 {
				done = false
			}
		}
		if done {
			return list
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("executions of %s: want %d final ones, have %d: %v", key, n, len(list), list)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Status is an execution's status, 99 while it is queued (null).
func Status(x map[string]any) int64 {
	if x["status"] == nil {
		return 99
	}
	return coretest.Num(x["status"])
}

// Logs keeps an app's log lines for a test: core.Config{Logger: logs.Logger()}.
type Logs struct {
	mu    sync.Mutex
	lines []string
}

// Logger is a text logger at debug level writing to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write implements io.Writer: p is one line of the text handler.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(string(p)))
	return len(p), nil
}

// Lines returns the lines so far that contain every one of parts.
func (l *Logs) Lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, line := range l.lines {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}
