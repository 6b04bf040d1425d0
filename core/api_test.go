package core_test

import (
	"fmt"
	"github.com/actionflow/actionflow/core/coretest"
	"net/url"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core"
)

func TestAuth(t *testing.T) {
	s := coretest.New(t, core.Config{})
	member := s.User("m@x.io", "member")

	tests := []struct {
		name    string
		method  string
		path    string
		token   string
		body    any
		headers []string
		status  int
	}{
		{"sign in wrong password", "POST", "/api/auth:signIn", "", map[string]any{"email": "root@actionflow.local", "password": "nope"}, nil, 401},
		{"sign in unknown user", "POST", "/api/auth:signIn", "", map[string]any{"email": "who@x.io", "password": "nope"}, nil, 401},
		{"sign in missing password", "POST", "/api/auth:signIn", "", map[string]any{"email": "root@actionflow.local"}, nil, 400},
		{"sign in no body", "POST", "/api/auth:signIn", "", nil, nil, 400},
		{"sign in by account", "POST", "/api/auth:signIn", "", map[string]any{"account": "root", "password": coretest.RootPassword}, nil, 200},
		{"no token", "GET", "/api/users:list", "", nil, nil, 401},
		{"no token, unknown resource", "GET", "/api/nothing:list", "", nil, nil, 401},
		{"no token, malformed path", "GET", "/api/whatever", "", nil, nil, 401},
		{"bad token", "GET", "/api/auth:check", "garbage", nil, nil, 401},
		{"check", "GET", "/api/auth:check", member, nil, nil, 200},
		{"role the user lacks", "GET", "/api/auth:check", member, nil, []string{"X-Role", "root"}, 401},
		{"role the user has", "GET", "/api/auth:check", member, nil, []string{"X-Role", "member"}, 200},
		{"unknown resource with token", "GET", "/api/nothing:list", member, nil, nil, 404},
		{"malformed path with token", "GET", "/api/whatever", member, nil, nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(tc.method, tc.path, tc.token, tc.body, tc.headers...)
			r.Must(t, tc.status)
			if tc.status >= 400 && r.ErrMsg(t) == "" {
				t.Fatal("error without message")
			}
		})
	}

	t.Run("check returns the user without secrets", func(t *testing.T) {
		u := s.Get("/api/auth:check", member).Must(t, 200).Obj(t)
		if u["email"] != "m@x.io" {
			t.Fatalf("user = %v", u)
		}
		if _, ok := u["password"]; ok {
			t.Fatal("password returned")
		}
		if fmt.Sprint(u["roles"]) != "[member]" {
			t.Fatalf("roles = %v", u["roles"])
		}
	})
	t.Run("sign out revokes the token", func(t *testing.T) {
		tok := s.SignIn("m@x.io", "pw-m@x.io")
		s.Get("/api/auth:check", tok).Must(t, 200)
		s.Post("/api/auth:signOut", tok, nil).Must(t, 200)
		s.Get("/api/auth:check", tok).Must(t, 401)
		s.Get("/api/auth:check", member).Must(t, 200)
	})
	t.Run("passwords never leave the server", func(t *testing.T) {
		r := s.Get("/api/users:list", s.Root).Must(t, 200)
		if strings.Contains(r.Raw, "password") || strings.Contains(r.Raw, "$2a$") {
			t.Fatalf("password leaked: %s", r.Raw)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		s2 := coretest.New(t, core.Config{TokenTTL: 1})
		tok := s2.SignIn("root@actionflow.local", coretest.RootPassword)
		s2.Get("/api/auth:check", tok).Must(t, 401)
	})
}

func TestRoles(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"}]}`)
	s.Collection(`{"name":"secrets","fields":[{"name":"v","type":"string"}]}`)
	s.Post("/api/roles:create", s.Root, map[string]any{"name": "reader", "permissions": map[string]any{"posts": []any{"list", "get"}}}).Must(t, 200)
	admin := s.User("a@x.io", "admin")
	member := s.User("m@x.io", "member")
	reader := s.User("r@x.io", "reader")
	none := s.User("n@x.io", "reader", "member")

	tests := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		status int
	}{
		{"member creates a post", member, "POST", "/api/posts:create", map[string]any{"title": "a"}, 200},
		{"member lists posts", member, "GET", "/api/posts:list", nil, 200},
		{"member may not create collections", member, "POST", "/api/collections:create", `{"name":"x"}`, 403},
		{"member may not list users", member, "GET", "/api/users:list", nil, 403},
		{"member may not create users", member, "POST", "/api/users:create", map[string]any{"email": "z@x.io"}, 403},
		{"member may not list roles", member, "GET", "/api/roles:list", nil, 403},
		{"reader lists posts", reader, "GET", "/api/posts:list", nil, 200},
		{"reader may not create posts", reader, "POST", "/api/posts:create", map[string]any{"title": "a"}, 403},
		{"reader may not list secrets", reader, "GET", "/api/secrets:list", nil, 403},
		{"admin creates collections", admin, "POST", "/api/collections:create", `{"name":"adminmade"}`, 200},
		{"admin lists users", admin, "GET", "/api/users:list", nil, 200},
		{"admin may not create users", admin, "POST", "/api/users:create", map[string]any{"email": "z@x.io"}, 403},
		{"admin may not change roles", admin, "POST", "/api/roles:create", map[string]any{"name": "x"}, 403},
		{"root creates users", s.Root, "POST", "/api/users:create", map[string]any{"email": "z@x.io", "password": "p"}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Do(tc.method, tc.path, tc.token, tc.body).Must(t, tc.status)
		})
	}
	t.Run("X-Role picks among the user's roles", func(t *testing.T) {
		s.Do("POST", "/api/posts:create", none, map[string]any{"title": "a"}, "X-Role", "reader").Must(t, 403)
		s.Do("POST", "/api/posts:create", none, map[string]any{"title": "a"}, "X-Role", "member").Must(t, 200)
	})
	t.Run("unknown role on a user is refused", func(t *testing.T) {
		r := s.Post("/api/users:create", s.Root, map[string]any{"email": "q@x.io", "roles": []any{"ghost"}}).Must(t, 400)
		if !strings.Contains(r.ErrMsg(t), "ghost") {
			t.Fatalf("message %q does not name the role", r.ErrMsg(t))
		}
	})
	t.Run("role permissions are validated", func(t *testing.T) {
		s.Post("/api/roles:create", s.Root, map[string]any{"name": "bad", "permissions": map[string]any{"posts": []any{"fly"}}}).Must(t, 400)
	})
	t.Run("changed permissions apply at once", func(t *testing.T) {
		s.Post("/api/roles:update?filter="+url.QueryEscape(`{"name":"reader"}`), s.Root, map[string]any{"permissions": map[string]any{"posts": []any{"list", "get", "create"}}}).Must(t, 200)
		s.Post("/api/posts:create", reader, map[string]any{"title": "now allowed"}).Must(t, 200)
	})
}
