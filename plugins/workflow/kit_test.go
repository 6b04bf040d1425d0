package workflow

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// kitTrigger is testTrigger as a request-bound trigger (config.roles allowed).
type kitTrigger struct{ testTrigger }

func (kitTrigger) Type() string       { return "kit" }
func (kitTrigger) RequestBound() bool { return true }

type kitTriggerPlugin struct{ e *Engine }

func (kitTriggerPlugin) Name() string            { return "kit-trigger" }
func (p kitTriggerPlugin) Init(*core.Host) error { return p.e.RegisterTrigger(kitTrigger{}) }

// TestSelect: the workflows a request fires, as every request-bound trigger picks them —
// listed ones in list order, then globals by id, each once, on their collection or their
// path's target, for the roles config.roles names — and the listed keys reported ignored.
func TestSelect(t *testing.T) {
	e := New(Config{Workers: 1, SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, kitTriggerPlugin{e}))
	s.Collection(`{"name":"customers","fields":[{"name":"name","type":"string"}]}`)
	s.Collection(`{"name":"orders","fields":[{"name":"title","type":"string"},{"name":"customer","type":"belongsTo","target":"customers"}]}`)
	wf := func(key string, cfg map[string]any) {
		t.Helper()
		s.Post("/api/workflows:create", s.Root, map[string]any{"key": key, "type": "kit", "enabled": true, "sync": true,
			"config": cfg, "script": `return 1`}).Must(t, 200)
	}
	wf("a", map[string]any{"collection": "orders"})
	wf("b", map[string]any{"collection": "orders"})
	wf("cust", map[string]any{"collection": "customers"})
	wf("admins", map[string]any{"collection": "orders", "roles": []any{"admin"}})
	wf("g2", map[string]any{"collection": "orders", "global": true, "actions": []any{"create"}})
	wf("g1", map[string]any{"collection": "orders", "global": true, "actions": []any{"create", "update"}})
	wf("gcust", map[string]any{"collection": "customers", "global": true, "actions": []any{"create"}})
	s.Post("/api/workflows:create", s.Root, map[string]any{"key": "other", "type": "test-other", "enabled": true}) // unknown type: refused, never listed

	orders, err := s.App.Data().Collection("orders")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		list    string
		action  string
		role    string
		sel     func(*Selector)
		want    string // key!path, in order
		ignored string
	}{
		{name: "listed in list order, then globals by id", list: "b,a", action: "create", role: "member",
			want: "b,a,g2,g1"},
		{name: "globals fire on their config.actions only", list: "", action: "update", role: "member",
			want: "g1"},
		{name: "a key listed twice fires once, the later path wins", list: "a,b,a!customer", action: "update", role: "member",
			want: "b,g1", ignored: "a"},
		{name: "a path leads to the collection the workflow fires on", list: "cust!customer", action: "update", role: "member",
			want: "cust!customer,g1"},
		{name: "a workflow of another collection is ignored", list: "cust,a", action: "update", role: "member",
			want: "a,g1", ignored: "cust"},
		{name: "a bad path is ignored", list: "a!nope", action: "update", role: "member",
			want: "g1", ignored: "a"},
		{name: "a listed global fires as a global, once", list: "g1,a", action: "create", role: "member",
			want: "a,g2,g1"},
		{name: "a listed global off its actions is ignored", list: "g2", action: "update", role: "member",
			want: "g1", ignored: "g2"},
		{name: "config.roles leaves other roles out", list: "admins,a", action: "update", role: "member",
			want: "a,g1", ignored: "admins"},
		{name: "config.roles lets its roles in", list: "admins", action: "update", role: "admin",
			want: "admins,g1"},
		{name: "the trigger's own role rule replaces config.roles", list: "admins,a", action: "update", role: "admin",
			sel: func(s *Selector) { s.Allowed = func(w *Workflow) bool { return w.Key != "admins" } }, want: "a,g1", ignored: "admins"},
		{name: "unknown and malformed keys are ignored", list: "zzz,a,!x,b!", action: "update", role: "member",
			want: "a,g1", ignored: "zzz,!x,b!"},
		{name: "without paths a path is not followed", list: "cust!customer,a!customer", action: "update", role: "member",
			sel: func(s *Selector) { s.Paths = false }, want: "a,g1", ignored: "cust"},
		{name: "without globals a listed global fires on its collection", list: "g2,a", action: "update", role: "member",
			sel: func(s *Selector) { s.Globals = false }, want: "g2,a"},
		{name: "nothing listed and no global for the action", list: "", action: "destroy", role: "member",
			want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ac := &core.ActionContext{Resource: "orders", Action: tc.action, Collection: orders, Role: tc.role,
				Params: core.Params{Query: [][2]string{{"triggerWorkflows", tc.list}}}}
			sel := Selector{Type: "kit", Collection: orders, Globals: true, Paths: true}
			if tc.sel != nil {
				tc.sel(&sel)
			}
			var got []string
			for _, c := range e.Select(ac, sel) {
				item := c.Workflow.Key
				if c.Path != "" {
					item += "!" + c.Path
				}
				got = append(got, item)
			}
			if g := strings.Join(got, ","); g != tc.want {
				t.Errorf("fired %q, want %q", g, tc.want)
			}
			var ign []string
			for _, it := range e.Bindings(ac).ignored(ac.Resource, ac.Action) {
				ign = append(ign, it.key)
			}
			if g := strings.Join(ign, ","); g != tc.ignored {
				t.Errorf("ignored %q, want %q", g, tc.ignored)
			}
		})
	}
}

// TestAnswer: the trigger kit, not the engine, decides a chain's HTTP answer.
func TestAnswer(t *testing.T) {
	cause := errors.New("boom")
	msgs := []core.Message{{Message: "before"}}
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
		extra   bool
	}{
		{name: "flow.fail is a 400 with its message and the messages so far",
			err: &ChainError{Workflow: "w", Failed: true, Message: "no stock"}, status: http.StatusBadRequest, code: "WORKFLOW_FAILED", message: "no stock", extra: true},
		{name: "an error or timeout is a generic 500",
			err: &ChainError{Workflow: "w", Err: cause}, status: http.StatusInternalServerError, code: "WORKFLOW_ERROR", message: GenericFailure},
		{name: "a wrapped chain error is mapped too",
			err: fmt.Errorf("trigger: %w", &ChainError{Workflow: "w", Failed: true, Message: "x"}), status: http.StatusBadRequest, code: "WORKFLOW_FAILED", message: "x", extra: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ce *core.Error
			if !errors.As(Answer(tc.err, msgs), &ce) {
				t.Fatalf("not a core error: %v", Answer(tc.err, msgs))
			}
			if ce.Status != tc.status || ce.Code != tc.code || ce.Message != tc.message {
				t.Fatalf("got %d %s %q", ce.Status, ce.Code, ce.Message)
			}
			if got := ce.Extra != nil; got != tc.extra {
				t.Fatalf("extra %v, want %v", ce.Extra, tc.extra)
			}
		})
	}
	t.Run("other errors pass through", func(t *testing.T) {
		if err := Answer(cause, msgs); err != cause {
			t.Fatalf("got %v", err)
		}
		if err := Answer(nil, msgs); err != nil {
			t.Fatalf("got %v", err)
		}
	})
}
