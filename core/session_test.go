package core_test

import (
	"fmt"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestSessionCache checks that a token used before (so cached with its user) sees every
// later change of its user and its revocation.
func TestSessionCache(t *testing.T) {
	s := coretest.New(t, core.Config{})
	cases := []struct {
		name   string
		change func(t *testing.T, id int64, tok string)
		status int    // of auth:check afterwards
		roles  string // the user's roles afterwards, when 200
	}{
		{"roles changed", func(t *testing.T, id int64, _ string) {
			s.Post(fmt.Sprintf("/api/users:update?filterByTk=%d", id), s.Root, map[string]any{"roles": []any{"admin"}}).Must(t, 200)
		}, 200, "[admin]"},
		{"user destroyed", func(t *testing.T, id int64, _ string) {
			s.Post(fmt.Sprintf("/api/users:destroy?filterByTk=%d", id), s.Root, nil).Must(t, 200)
		}, 401, ""},
		{"signed out", func(t *testing.T, _ int64, tok string) {
			s.Post("/api/auth:signOut", tok, nil).Must(t, 200)
		}, 401, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := s.User(fmt.Sprintf("cache%d@x.io", i), "member")
			u := s.Get("/api/auth:check", tok).Must(t, 200).Obj(t)
			s.Get("/api/auth:check", tok).Must(t, 200) // a cache hit
			tc.change(t, coretest.ID(t, u), tok)
			r := s.Get("/api/auth:check", tok).Must(t, tc.status)
			if tc.status == 200 {
				if got := fmt.Sprint(r.Obj(t)["roles"]); got != tc.roles {
					t.Fatalf("roles = %s, want %s", got, tc.roles)
				}
			}
		})
	}
}
