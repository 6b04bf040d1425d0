package core_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/store/storetest"
)

// twoNodes serves two apps on one fresh PostgreSQL schema: two nodes of one deployment
// (API.md §13). Without ACTIONFLOW_TEST_POSTGRES the test is skipped (fails when CI=true).
func twoNodes(t *testing.T) (a, b *coretest.Server) {
	t.Helper()
	url := storetest.Postgres(t)
	return coretest.NewOn(t, core.Config{}, url), coretest.NewOn(t, core.Config{}, url)
}

// TestNodesSeeEachOthersWrites: a write accepted by one node is seen by the next request to
// the other, though each keeps its caches (sessions, schema, roles).
func TestNodesSeeEachOthersWrites(t *testing.T) {
	t.Run("sign-out on A is refused on B", func(t *testing.T) {
		a, b := twoNodes(t)
		tok := a.SignIn("root@actionflow.local", coretest.RootPassword)
		b.Get("/api/auth:check", tok).Must(t, 200) // B caches the session
		a.Post("/api/auth:signOut", tok, nil).Must(t, 200)
		b.Get("/api/auth:check", tok).Must(t, 401)
	})
	t.Run("a user's new roles on A hold on B", func(t *testing.T) {
		a, b := twoNodes(t)
		a.Collection(`{"name":"items","fields":[{"name":"name","type":"string"}]}`)
		r := a.Post("/api/users:create", a.Root, map[string]any{"email": "u@x.io", "password": "pw-u", "roles": []any{"member"}}).Must(t, 200)
		uid := coretest.ID(t, r.Obj(t))
		tok := b.SignIn("u@x.io", "pw-u")
		b.Get("/api/items:list", tok, "X-Role", "admin").Must(t, 401) // B caches the user
		a.Post(fmt.Sprintf("/api/users:update?filterByTk=%d", uid), a.Root, map[string]any{"roles": []any{"member", "admin"}}).Must(t, 200)
		b.Get("/api/items:list", tok, "X-Role", "admin").Must(t, 200)
	})
	t.Run("a collection created on A is usable on B at once", func(t *testing.T) {
		a, b := twoNodes(t)
		b.Get("/api/collections:list", b.Root).Must(t, 200)
		a.Collection(`{"name":"items","fields":[{"name":"name","type":"string"}]}`)
		b.Post("/api/items:create", b.Root, map[string]any{"name": "x"}).Must(t, 200)
		a.Post("/api/collections/items/fields:create", a.Root, map[string]any{"name": "size", "type": "integer"}).Must(t, 200)
		b.Post("/api/items:create", b.Root, map[string]any{"name": "y", "size": 3}).Must(t, 200)
		a.Post("/api/collections:destroy?filterByTk=items", a.Root, nil).Must(t, 200)
		b.Get("/api/items:list", b.Root).Must(t, 404)
	})
	t.Run("a unique field added on A is enforced on B", func(t *testing.T) {
		a, b := twoNodes(t)
		a.Collection(`{"name":"items","fields":[{"name":"name","type":"string"}]}`)
		b.Post("/api/items:create", b.Root, map[string]any{"name": "x"}).Must(t, 200)
		a.Post("/api/collections/items/fields:create", a.Root, map[string]any{"name": "code", "type": "string", "unique": true}).Must(t, 200)
		for round := range 5 {
			code := fmt.Sprintf("c%d", round)
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i, s := range []*coretest.Server{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = s.Do("POST", "/api/items:create", s.Root, map[string]any{"code": code}).Status
				}()
			}
			wg.Wait()
			slices.Sort(statuses)
			if !slices.Equal(statuses, []int{200, 409}) {
				t.Fatalf("round %d: statuses %v, want one 200 and one 409", round, statuses)
			}
		}
	})
	t.Run("a write on B with a collection looked up before A's change follows the new schema", func(t *testing.T) {
		a, b := twoNodes(t)
		a.Collection(`{"name":"items","fields":[{"name":"name","type":"string"}]}`)
		b.Get("/api/items:list", b.Root).Must(t, 200)
		stale, err := b.App.Data().Collection("items")
		if err != nil {
			t.Fatal(err)
		}
		a.Post("/api/collections/items/fields:create", a.Root, map[string]any{"name": "code", "type": "string", "unique": true}).Must(t, 200)
		a.Post("/api/items:create", a.Root, map[string]any{"code": "taken"}).Must(t, 200)
		b.Get("/api/auth:check", b.Root).Must(t, 200) // B's next request reloads its schema
		// A write holding the collection as it was (a request begun before) uses the new one.
		err = b.App.Update(context.Background(), func(tx *core.Tx) error {
			_, err := b.App.Data().Create(tx, stale, map[string]any{"code": "taken"}, core.WriteOptions{})
			return err
		})
		if !errors.Is(err, core.ErrConflict) {
			t.Fatalf("create on B: %v, want a unique conflict", err)
		}
	})
	t.Run("a role's permissions changed on A hold on B", func(t *testing.T) {
		a, b := twoNodes(t)
		a.Collection(`{"name":"items","fields":[{"name":"name","type":"string"}]}`)
		r := a.Post("/api/roles:create", a.Root, map[string]any{"name": "editor", "permissions": map[string]any{"items": []any{"list"}}}).Must(t, 200)
		rid := coretest.ID(t, r.Obj(t))
		a.Post("/api/users:create", a.Root, map[string]any{"email": "e@x.io", "password": "pw-e", "roles": []any{"editor"}}).Must(t, 200)
		tok := b.SignIn("e@x.io", "pw-e")
		b.Get("/api/items:list", tok).Must(t, 200)
		b.Post("/api/items:create", tok, map[string]any{"name": "x"}).Must(t, 403) // B caches the role
		a.Post(fmt.Sprintf("/api/roles:update?filterByTk=%d", rid), a.Root, map[string]any{"permissions": map[string]any{"items": []any{"create"}}}).Must(t, 200)
		b.Post("/api/items:create", tok, map[string]any{"name": "x"}).Must(t, 200)
		b.Get("/api/items:list", tok).Must(t, 403)
	})
}
