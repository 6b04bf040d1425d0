package core_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core/coretest"
)

// aclServer is a blog whose posts a member and another member wrote, with a private
// "notes" collection and a "reader" role that may only list and get posts.
type aclServer struct {
	*coretest.Server
	admin, member, other, reader string
	// mine and theirs are posts of member and of other.
	mine, theirs int64
}

func newACLServer(t *testing.T) *aclServer {
	t.Helper()
	s := blog(t)
	s.Collection(`{"name":"notes","fields":[{"name":"text","type":"string"},{"name":"post","type":"belongsTo","target":"posts"}]}`)
	s.Post("/api/roles:create", s.Root, map[string]any{"name": "reader", "permissions": map[string]any{"posts": []any{"list", "get"}}}).Must(t, 200)
	a := &aclServer{Server: s,
		admin:  s.User("a@x.io", "admin"),
		member: s.User("m@x.io", "member"),
		other:  s.User("o@x.io", "member"),
		reader: s.User("r@x.io", "reader"),
	}
	cat := s.Post("/api/categories:create", s.Root, map[string]any{"name": "news"}).Must(t, 200).Obj(t)
	a.mine = coretest.ID(t, s.Post("/api/posts:create", a.member, map[string]any{"title": "mine", "secret": "m-secret", "category": coretest.ID(t, cat)}).Must(t, 200).Obj(t))
	a.theirs = coretest.ID(t, s.Post("/api/posts:create", a.other, map[string]any{"title": "theirs", "secret": "o-secret", "category": coretest.ID(t, cat)}).Must(t, 200).Obj(t))
	return a
}

func q(s string) string { return url.QueryEscape(s) }

// TestPathsCheckedAgainstTheRole: appends, dotted filters and sorts that reach a
// collection the role may not list are 403s naming the path (issue 12, item 1).
func TestPathsCheckedAgainstTheRole(t *testing.T) {
	s := newACLServer(t)
	tests := []struct {
		name   string
		path   string
		status int
		names  string // the 403 names it
	}{
		{"appends createdBy", "/api/posts:list?appends=createdBy", 403, `"createdBy"`},
		{"appends createdBy.createdBy", "/api/posts:list?appends=createdBy.createdBy", 403, `"createdBy"`},
		{"appends category.createdBy", "/api/posts:list?appends=category.createdBy", 403, `"category.createdBy"`},
		{"appends updatedBy on get", fmt.Sprintf("/api/posts:get/%d?appends=updatedBy", s.mine), 403, `"updatedBy"`},
		{"appends[] form", "/api/posts:list?appends[]=category&appends[]=createdBy", 403, `"createdBy"`},
		{"fields naming an association", "/api/posts:list?fields=title,createdBy", 403, `"createdBy"`},
		{"dotted filter on roles", "/api/posts:list?filter=" + q(`{"createdBy.roles":{"$includes":"root"}}`), 403, `"createdBy"`},
		{"nested filter form", "/api/posts:list?filter=" + q(`{"createdBy":{"email":{"$startsWith":"r"}}}`), 403, `"createdBy"`},
		{"filter inside $or", "/api/posts:list?filter=" + q(`{"$or":[{"title":"x"},{"category.createdBy.email":"root@actionflow.local"}]}`), 403, `"category.createdBy"`},
		{"bracket filter", "/api/posts:list?filter[createdBy.email][$startsWith]=r", 403, `"createdBy"`},
		{"sort on createdBy.email", "/api/posts:list?sort=-createdBy.email", 403, `"createdBy"`},
		{"filter of an update", "/api/posts:update?filter=" + q(`{"createdBy.email":"m@x.io"}`), 403, `"createdBy"`},
		{"association resource appends", "/api/categories/1/posts:list?appends=createdBy", 403, `"createdBy"`},
		{"to-one appends still allowed", "/api/posts:list?appends=category,cover", 200, ""},
		{"to-many appends still allowed", "/api/categories:list?appends=posts.category", 200, ""},
		{"dotted filter through allowed collections", "/api/posts:list?filter=" + q(`{"category.name":"news"}`) + "&sort=category.name", 200, ""},
		{"own foreign key", "/api/posts:list?filter=" + q(`{"createdById":1}`), 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			var body any
			if strings.Contains(tc.path, ":update") {
				method, body = "POST", map[string]any{"views": 1}
			}
			r := s.Do(method, tc.path, s.member, body).Must(t, tc.status)
			if tc.names != "" && !strings.Contains(r.ErrMsg(t), tc.names) {
				t.Fatalf("message %q does not name %s", r.ErrMsg(t), tc.names)
			}
		})
	}
	t.Run("reader may not reach categories either", func(t *testing.T) {
		s.Get("/api/posts:list?appends=category", s.reader).Must(t, 403)
		s.Get("/api/posts:list?filter="+q(`{"category.name":"news"}`), s.reader).Must(t, 403)
		s.Get("/api/posts:list?sort=title", s.reader).Must(t, 200)
	})
	t.Run("association resource needs get on its source", func(t *testing.T) {
		r := s.Get("/api/categories/1/posts:list", s.reader).Must(t, 403)
		if !strings.Contains(r.ErrMsg(t), "categories") {
			t.Fatalf("message %q does not name the source", r.ErrMsg(t))
		}
		s.Get(fmt.Sprintf("/api/posts/%d/category:get", s.mine), s.reader).Must(t, 403)
		s.Get("/api/categories/1/posts:list", s.member).Must(t, 200)
	})
	t.Run("root and admin read everything", func(t *testing.T) {
		for name, tok := range map[string]string{"root": s.Root, "admin": s.admin} {
			r := s.Get("/api/posts:list?sort=createdBy.email&appends=createdBy.createdBy,category&filter="+q(`{"createdBy.roles":{"$includes":"member"}}`), tok).Must(t, 200)
			list := r.List(t)
			if len(list) != 2 {
				t.Fatalf("%s: %d posts", name, len(list))
			}
			u, _ := list[0]["createdBy"].(map[string]any)
			if u["email"] != "m@x.io" {
				t.Fatalf("%s: createdBy = %v", name, list[0]["createdBy"])
			}
			if _, leak := u["password"]; leak {
				t.Fatalf("%s: the password left the server", name)
			}
		}
	})
}

// TestHiddenFieldsNotQueryable: a hidden or password field can be neither filtered nor
// sorted on, also behind a dotted path, so meta.count cannot reveal it (item 2).
func TestHiddenFieldsNotQueryable(t *testing.T) {
	s := newACLServer(t)
	tests := []struct {
		name  string
		token string
		path  string
		names string
	}{
		{"filter on hidden", "member", "/api/posts:list?filter=" + q(`{"secret":{"$startsWith":"m"}}`), "secret"},
		{"filter on hidden, get", "member", fmt.Sprintf("/api/posts:get/1?filter=%s", q(`{"secret":"m-secret"}`)), "secret"},
		{"nested form", "member", "/api/posts:list?filter=" + q(`{"$and":[{"secret":{"$gt":"a"}}]}`), "secret"},
		{"bracket form", "member", "/api/posts:list?filter[secret][$lt]=n", "secret"},
		{"sort on hidden", "member", "/api/posts:list?sort=secret", "secret"},
		{"dotted hidden", "member", "/api/notes:list?filter=" + q(`{"post.secret":"m-secret"}`), "post.secret"},
		{"root, filter on hidden", "root", "/api/posts:list?filter=" + q(`{"secret":{"$gte":"n"}}`), "secret"},
		{"root, sort on a password behind a path", "root", "/api/posts:list?sort=createdBy.password", "password"},
		{"root, filter on a password behind a path", "root", "/api/posts:list?filter=" + q(`{"createdBy.password":{"$startsWith":"$2"}}`), "password"},
	}
	tokens := map[string]string{"member": s.member, "root": s.Root}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Get(tc.path, tokens[tc.token]).Must(t, 400)
			if !strings.Contains(r.ErrMsg(t), tc.names) {
				t.Fatalf("message %q does not name %s", r.ErrMsg(t), tc.names)
			}
		})
	}
	t.Run("the count does not depend on the hidden value", func(t *testing.T) {
		for _, prefix := range []string{"m", "o", "z"} {
			s.Get("/api/posts:list?filter="+q(fmt.Sprintf(`{"secret":{"$startsWith":%q}}`, prefix)), s.member).Must(t, 400)
		}
	})
}

// TestOwnScopes: "<action>:own" reaches only the user's records; the built-in member has
// update:own and destroy:own (item 4).
func TestOwnScopes(t *testing.T) {
	s := newACLServer(t)
	title := func(t *testing.T, id int64) string {
		t.Helper()
		p := s.Get(fmt.Sprintf("/api/posts:get/%d", id), s.Root).Must(t, 200).Obj(t)
		return p["title"].(string)
	}
	t.Run("member updates its own post by filterByTk", func(t *testing.T) {
		s.Post(fmt.Sprintf("/api/posts:update/%d", s.mine), s.member, map[string]any{"title": "mine 2"}).Must(t, 200)
		if got := title(t, s.mine); got != "mine 2" {
			t.Fatalf("title %q", got)
		}
	})
	t.Run("member may not update another's post by filterByTk", func(t *testing.T) {
		s.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", s.theirs), s.member, map[string]any{"title": "hacked"}).Must(t, 403)
		if got := title(t, s.theirs); got != "theirs" {
			t.Fatalf("title %q", got)
		}
	})
	t.Run("update by filter touches only own records", func(t *testing.T) {
		r := s.Post("/api/posts:update?filter="+q(`{"views":0}`), s.member, map[string]any{"views": 7}).Must(t, 200)
		if list := r.Body["data"].([]any); len(list) != 1 {
			t.Fatalf("updated %d records: %s", len(list), r.Raw)
		}
		p := s.Get(fmt.Sprintf("/api/posts:get/%d", s.theirs), s.Root).Must(t, 200).Obj(t)
		if coretest.Num(p["views"]) != 0 {
			t.Fatalf("another's post changed: %v", p)
		}
	})
	t.Run("update through an association resource touches only own records", func(t *testing.T) {
		s.Post("/api/categories/1/posts:update?filter="+q(`{}`), s.member, map[string]any{"title": "via category"}).Must(t, 200)
		if got := title(t, s.theirs); got != "theirs" {
			t.Fatalf("title %q", got)
		}
	})
	t.Run("member may not destroy another's post", func(t *testing.T) {
		s.Post(fmt.Sprintf("/api/posts:destroy/%d", s.theirs), s.member, nil).Must(t, 403)
		s.Get(fmt.Sprintf("/api/posts:get/%d", s.theirs), s.Root).Must(t, 200)
	})
	t.Run("destroy by filter removes only own records", func(t *testing.T) {
		extra := coretest.ID(t, s.Post("/api/posts:create", s.member, map[string]any{"title": "extra"}).Must(t, 200).Obj(t))
		r := s.Post("/api/posts:destroy?filter="+q(fmt.Sprintf(`{"id":{"$in":[%d,%d]}}`, extra, s.theirs)), s.member, nil).Must(t, 200)
		if coretest.Num(r.Body["data"]) != 1 {
			t.Fatalf("destroyed %v", r.Body["data"])
		}
		s.Get(fmt.Sprintf("/api/posts:get/%d", s.theirs), s.Root).Must(t, 200)
		s.Get(fmt.Sprintf("/api/posts:get/%d", extra), s.Root).Must(t, 404)
	})
	t.Run("member still lists and gets every post", func(t *testing.T) {
		if n := len(s.Get("/api/posts:list", s.member).Must(t, 200).List(t)); n != 2 {
			t.Fatalf("%d posts", n)
		}
		s.Get(fmt.Sprintf("/api/posts:get/%d", s.theirs), s.member).Must(t, 200)
	})
	t.Run("admin and root change anyone's posts", func(t *testing.T) {
		s.Post(fmt.Sprintf("/api/posts:update/%d", s.theirs), s.admin, map[string]any{"views": 1}).Must(t, 200)
		s.Post(fmt.Sprintf("/api/posts:update/%d", s.theirs), s.Root, map[string]any{"views": 2}).Must(t, 200)
	})

	s.Post("/api/roles:create", s.Root, map[string]any{"name": "own", "permissions": map[string]any{
		"posts":      []any{"list:own", "get:own", "create", "update:own"},
		"categories": []any{"list", "get:own"},
	}}).Must(t, 200)
	own := s.User("own@x.io", "own")
	ownPost := coretest.ID(t, s.Post("/api/posts:create", own, map[string]any{"title": "own's"}).Must(t, 200).Obj(t))
	t.Run("list:own lists only own records", func(t *testing.T) {
		r := s.Get("/api/posts:list", own).Must(t, 200)
		list := r.List(t)
		if len(list) != 1 || coretest.ID(t, list[0]) != ownPost || coretest.Num(r.Body["meta"].(map[string]any)["count"]) != 1 {
			t.Fatalf("list: %s", r.Raw)
		}
		if n := len(s.Get("/api/posts:list?filter="+q(`{"title":"theirs"}`), own).Must(t, 200).List(t)); n != 0 {
			t.Fatalf("filter found %d of another's posts", n)
		}
	})
	t.Run("get:own", func(t *testing.T) {
		s.Get(fmt.Sprintf("/api/posts:get/%d", ownPost), own).Must(t, 200)
		s.Get(fmt.Sprintf("/api/posts:get/%d", s.theirs), own).Must(t, 403)
		s.Get("/api/posts:get?filter="+q(`{"title":"theirs"}`), own).Must(t, 404)
		// Plugins' collection actions (orders:trigger) may read every filterByTk given.
		s.Get(fmt.Sprintf("/api/posts:get?filterByTk=%d&filterByTk=%d", ownPost, s.theirs), own).Must(t, 403)
	})
	t.Run("list:own does not reach through associations", func(t *testing.T) {
		s.Get("/api/categories:list?appends=posts", own).Must(t, 403)
	})
	t.Run("get:own on the source of an association resource", func(t *testing.T) {
		s.Get("/api/categories/1/posts:list", own).Must(t, 403) // category 1 is root's
	})
	t.Run("without the action at all", func(t *testing.T) {
		s.Post(fmt.Sprintf("/api/posts:destroy/%d", ownPost), own, nil).Must(t, 403)
	})
	t.Run("the wider permission wins", func(t *testing.T) {
		s.Post("/api/roles:update?filter="+q(`{"name":"own"}`), s.Root, map[string]any{"permissions": map[string]any{"posts": []any{"update:own", "update"}}}).Must(t, 200)
		s.Post(fmt.Sprintf("/api/posts:update/%d", s.theirs), own, map[string]any{"views": 5}).Must(t, 200)
	})
	t.Run("permissions are validated", func(t *testing.T) {
		for _, bad := range []string{"fly:own", "update:mine", ":own"} {
			s.Post("/api/roles:create", s.Root, map[string]any{"name": "bad", "permissions": map[string]any{"posts": []any{bad}}}).Must(t, 400)
		}
	})
}

// TestBuiltinRoles: the built-in roles cannot be destroyed, and member's permissions
// hold on collections created after it (item 4).
func TestBuiltinRoles(t *testing.T) {
	s := newACLServer(t)
	for _, name := range []string{"root", "admin", "member"} {
		t.Run("destroy "+name, func(t *testing.T) {
			r := s.Post("/api/roles:destroy?filter="+q(fmt.Sprintf(`{"name":%q}`, name)), s.Root, nil).Must(t, 400)
			if !strings.Contains(r.ErrMsg(t), name) {
				t.Fatalf("message %q does not name the role", r.ErrMsg(t))
			}
		})
	}
	t.Run("destroy all roles destroys none", func(t *testing.T) {
		s.Post("/api/roles:destroy?filter="+q(`{"name":{"$ne":""}}`), s.Root, nil).Must(t, 400)
		if n := len(s.Get("/api/roles:list", s.Root).Must(t, 200).List(t)); n != 4 {
			t.Fatalf("%d roles left", n)
		}
	})
	t.Run("members still work", func(t *testing.T) {
		s.Post("/api/posts:create", s.member, map[string]any{"title": "after"}).Must(t, 200)
	})
	t.Run("other roles can be destroyed", func(t *testing.T) {
		s.Post("/api/roles:create", s.Root, map[string]any{"name": "temp"}).Must(t, 200)
		s.Post("/api/roles:destroy?filter="+q(`{"name":"temp"}`), s.Root, nil).Must(t, 200)
	})
	t.Run("member on a collection created later", func(t *testing.T) {
		s.Collection(`{"name":"later","fields":[{"name":"v","type":"string"}]}`)
		id := coretest.ID(t, s.Post("/api/later:create", s.other, map[string]any{"v": "x"}).Must(t, 200).Obj(t))
		s.Get("/api/later:list", s.member).Must(t, 200)
		s.Post(fmt.Sprintf("/api/later:update/%d", id), s.member, map[string]any{"v": "y"}).Must(t, 403)
		s.Post(fmt.Sprintf("/api/later:update/%d", id), s.other, map[string]any{"v": "y"}).Must(t, 200)
	})
	t.Run("member record says what it grants", func(t *testing.T) {
		r := s.Get("/api/roles:get?filter="+q(`{"name":"member"}`), s.Root).Must(t, 200).Obj(t)
		if r["allowAll"] != false {
			t.Fatalf("member: %v", r)
		}
	})
}
