package core_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestHookScope: core calls a hook only for the actions and collections it declares; a hook
// that declares nothing sees every action. Typed keys hand values between a hook's phases.
func TestHookScope(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	note := func(id string) func(ac *core.ActionContext) error {
		return func(ac *core.ActionContext) error {
			mu.Lock()
			seen[id] = append(seen[id], ac.Resource+":"+ac.Action)
			mu.Unlock()
			return nil
		}
	}
	titleKey := core.NewKey[string]("scope.title")
	var handed []string
	p := &recorder{name: "scope", log: &[]string{}, mu: &sync.Mutex{}, setup: func(h *core.Host) error {
		hooks := []core.Hook{
			{ID: "scope.all", Fn: note("all")},
			{ID: "scope.writes", Actions: []string{"create", "update"}, Fn: note("writes")},
			{ID: "scope.collections", On: core.AnyCollection, Actions: []string{"list"}, Fn: note("collections")},
			{ID: "scope.data", On: core.DataCollections, Actions: []string{"list"}, Fn: note("data")},
			{ID: "scope.orders", Collections: []string{"orders"}, Fn: note("orders")},
		}
		for _, hk := range hooks {
			if err := h.Hook(core.BeforeAction, hk); err != nil {
				return err
			}
		}
		if err := h.Hook(core.InTransaction, core.Hook{ID: "scope.hand", Actions: []string{"create"}, Collections: []string{"orders"}, Fn: func(ac *core.ActionContext) error {
			titleKey.Set(ac, ac.Records()[0]["title"].(string))
			return nil
		}}); err != nil {
			return err
		}
		return h.Hook(core.AfterAction, core.Hook{ID: "scope.take", Fn: func(ac *core.ActionContext) error {
			if v, ok := titleKey.Get(ac); ok {
				mu.Lock()
				handed = append(handed, v)
				mu.Unlock()
			}
			return nil
		}})
	}}
	s := coretest.New(t, core.Config{}, core.WithPlugins(p))
	s.Collection(`{"name":"orders","fields":[{"name":"title","type":"string"}]}`)
	s.Collection(`{"name":"notes","fields":[{"name":"title","type":"string"}]}`)
	mu.Lock()
	seen = map[string][]string{}
	mu.Unlock()
	s.Post("/api/orders:create", s.Root, map[string]any{"title": "o1"}).Must(t, 200)
	s.Post("/api/notes:create", s.Root, map[string]any{"title": "n1"}).Must(t, 200)
	s.Get("/api/orders:list", s.Root).Must(t, 200)
	s.Get("/api/users:list", s.Root).Must(t, 200)
	s.Get("/api/collections:list", s.Root).Must(t, 200)

	tests := []struct {
		hook string
		want string
	}{
		{"all", "orders:create,notes:create,orders:list,users:list,collections:list"},
		{"writes", "orders:create,notes:create"},
		{"collections", "orders:list,users:list"},
		{"data", "orders:list"},
		{"orders", "orders:create,orders:list"},
	}
	for _, tc := range tests {
		t.Run(tc.hook, func(t *testing.T) {
			mu.Lock()
			got := strings.Join(seen[tc.hook], ",")
			mu.Unlock()
			if got != tc.want {
				t.Fatalf("saw %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("typed key hands a value to a later phase", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if strings.Join(handed, ",") != "o1" {
			t.Fatalf("handed %v", handed)
		}
	})
}
