package core_test

import (
	"fmt"
	"github.com/actionflow/actionflow/core/coretest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core"
)

const blogSchema = `[
 {"name":"categories","fields":[{"name":"name","type":"string","unique":true},{"name":"posts","type":"hasMany","target":"posts","foreignKey":"categoryId"}]},
 {"name":"posts","title":"Posts","fields":[
   {"name":"title","type":"string","required":true},
   {"name":"body","type":"text"},
   {"name":"views","type":"integer","defaultValue":0},
   {"name":"score","type":"float"},
   {"name":"published","type":"boolean","defaultValue":false},
   {"name":"publishedAt","type":"date"},
   {"name":"meta","type":"json"},
   {"name":"secret","type":"string","hidden":true},
   {"name":"slug","type":"string","unique":true},
   {"name":"category","type":"belongsTo","target":"categories"},
   {"name":"cover","type":"hasOne","target":"covers","foreignKey":"postId"}]},
 {"name":"covers","fields":[{"name":"url","type":"string"}]}
]`

func blog(t *testing.T) *coretest.Server {
	s := coretest.New(t, core.Config{})
	var defs []string
	for _, d := range splitDefs(blogSchema) {
		defs = append(defs, d)
	}
	for _, d := range defs {
		s.Collection(d)
	}
	return s
}

// splitDefs splits a JSON array of objects at the top level (test helper for readability).
func splitDefs(arr string) []string {
	var out []string
	depth, start := 0, -1
	for i, c := range arr {
		switch c {
		case '{':
			if depth == 0 {
				start = i
			}
			depth++
		case '}':
			depth--
			if depth == 0 {
				out = append(out, arr[start:i+1])
			}
		}
	}
	return out
}

func TestCollectionsResource(t *testing.T) {
	s := blog(t)
	t.Run("list includes user and system collections", func(t *testing.T) {
		r := s.Get("/api/collections:list", s.Root).Must(t, 200)
		var names []string
		for _, c := range r.List(t) {
			names = append(names, c["name"].(string))
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "categories,covers,posts,roles,users" {
			t.Fatalf("collections = %v", names)
		}
	})
	t.Run("get has system fields and derived foreign keys", func(t *testing.T) {
		c := s.Get("/api/collections:get?filterByTk=posts", s.Root).Must(t, 200).Obj(t)
		fields := map[string]bool{}
		for _, f := range c["fields"].([]any) {
			fields[f.(map[string]any)["name"].(string)] = true
		}
		for _, want := range []string{"id", "createdAt", "updatedAt", "createdById", "updatedById", "createdBy", "updatedBy", "categoryId", "title"} {
			if !fields[want] {
				t.Errorf("field %s missing", want)
			}
		}
		cov := s.Get("/api/collections:get?filterByTk=covers", s.Root).Must(t, 200).Obj(t)
		if !strings.Contains(fmt.Sprint(cov["fields"]), "postId") {
			t.Errorf("hasOne foreign key not derived on covers: %v", cov["fields"])
		}
	})
	t.Run("update title", func(t *testing.T) {
		c := s.Post("/api/collections:update?filterByTk=covers", s.Root, map[string]any{"title": "Covers"}).Must(t, 200).Obj(t)
		if c["title"] != "Covers" {
			t.Fatalf("title = %v", c["title"])
		}
	})
	t.Run("add a field", func(t *testing.T) {
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "before"}).Must(t, 200)
		s.Post("/api/collections/posts/fields:create", s.Root, map[string]any{"name": "rating", "type": "integer"}).Must(t, 200)
		p := s.Post("/api/posts:create", s.Root, map[string]any{"title": "x", "rating": 5}).Must(t, 200).Obj(t)
		if coretest.Num(p["rating"]) != 5 {
			t.Fatalf("rating = %v", p["rating"])
		}
		s.Post("/api/collections/posts/fields:create", s.Root, map[string]any{"name": "rating", "type": "integer"}).Must(t, 409)
		s.Post("/api/collections/nope/fields:create", s.Root, map[string]any{"name": "a", "type": "integer"}).Must(t, 404)
	})
	t.Run("a unique field added over duplicates is refused", func(t *testing.T) {
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "dup", "body": "same"}).Must(t, 200)
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "dup", "body": "same"}).Must(t, 200)
		s.Post("/api/collections/posts/fields:create", s.Root, map[string]any{"name": "body2", "type": "text"}).Must(t, 200)
		r := s.Post("/api/collections/posts/fields:create", s.Root, map[string]any{"name": "title", "type": "string", "unique": true})
		if r.Status != 409 {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	})
	t.Run("destroy removes collection and records", func(t *testing.T) {
		s.Collection(`{"name":"tmp","fields":[{"name":"a","type":"string"}]}`)
		s.Post("/api/tmp:create", s.Root, map[string]any{"a": "x"}).Must(t, 200)
		s.Post("/api/collections:destroy?filterByTk=tmp", s.Root, nil).Must(t, 200)
		s.Get("/api/tmp:list", s.Root).Must(t, 404)
		s.Collection(`{"name":"tmp","fields":[{"name":"a","type":"string"}]}`)
		r := s.Get("/api/tmp:list", s.Root).Must(t, 200)
		if len(r.List(t)) != 0 {
			t.Fatalf("old records came back: %s", r.Raw)
		}
	})
	bad := []struct {
		name   string
		def    string
		status int
	}{
		{"duplicate name", `{"name":"posts"}`, 409},
		{"bad name", `{"name":"no spaces"}`, 400},
		{"reserved name", `{"name":"collections"}`, 400},
		{"unknown field type", `{"name":"x1","fields":[{"name":"a","type":"blob"}]}`, 400},
		{"bad field name", `{"name":"x2","fields":[{"name":"a b","type":"string"}]}`, 400},
		{"duplicate field", `{"name":"x3","fields":[{"name":"a","type":"string"},{"name":"a","type":"string"}]}`, 409},
		{"association without target", `{"name":"x4","fields":[{"name":"a","type":"belongsTo"}]}`, 400},
		{"bad default", `{"name":"x5","fields":[{"name":"a","type":"integer","defaultValue":"ten"}]}`, 400},
		{"not an object", `[1,2]`, 400},
		{"garbage", `{{{`, 400},
		{"system field", `{"name":"x6","fields":[{"name":"id","type":"string"}]}`, 409},
	}
	for _, tc := range bad {
		t.Run("create refused: "+tc.name, func(t *testing.T) {
			s.Post("/api/collections:create", s.Root, tc.def).Must(t, tc.status)
		})
	}
	t.Run("system collections cannot be changed", func(t *testing.T) {
		s.Post("/api/collections:destroy?filterByTk=users", s.Root, nil).Must(t, 403)
	})
}

func TestRecordActions(t *testing.T) {
	s := blog(t)
	cat := s.Post("/api/categories:create", s.Root, map[string]any{"name": "news"}).Must(t, 200).Obj(t)
	catID := coretest.ID(t, cat)

	var postID int64
	t.Run("create returns the record with system fields", func(t *testing.T) {
		p := s.Post("/api/posts:create", s.Root, map[string]any{"title": "hello", "categoryId": catID, "secret": "s3"}).Must(t, 200).Obj(t)
		postID = coretest.ID(t, p)
		for _, f := range []string{"id", "createdAt", "updatedAt", "createdById", "updatedById"} {
			if _, ok := p[f]; !ok {
				t.Errorf("missing %s in %v", f, p)
			}
		}
		if coretest.Num(p["views"]) != 0 || p["published"] != false {
			t.Errorf("defaults not applied: %v", p)
		}
		if _, ok := p["secret"]; ok {
			t.Error("hidden field returned")
		}
		if coretest.Num(p["createdById"]) != 1 {
			t.Errorf("createdById = %v", p["createdById"])
		}
	})
	t.Run("ids increase", func(t *testing.T) {
		p := s.Post("/api/posts:create", s.Root, map[string]any{"title": "second"}).Must(t, 200).Obj(t)
		if coretest.ID(t, p) <= postID {
			t.Fatalf("id %d after %d", coretest.ID(t, p), postID)
		}
	})
	t.Run("get by filterByTk and by path", func(t *testing.T) {
		for _, path := range []string{fmt.Sprintf("/api/posts:get?filterByTk=%d", postID), fmt.Sprintf("/api/posts:get/%d", postID)} {
			p := s.Get(path, s.Root).Must(t, 200).Obj(t)
			if p["title"] != "hello" {
				t.Fatalf("%s: %v", path, p)
			}
		}
	})
	t.Run("get with appends", func(t *testing.T) {
		p := s.Get(fmt.Sprintf("/api/posts:get/%d?appends=category,createdBy", postID), s.Root).Must(t, 200).Obj(t)
		c, _ := p["category"].(map[string]any)
		if c["name"] != "news" {
			t.Fatalf("category = %v", p["category"])
		}
		u, _ := p["createdBy"].(map[string]any)
		if u["email"] != "root@actionflow.local" {
			t.Fatalf("createdBy = %v", p["createdBy"])
		}
		if _, leak := u["password"]; leak {
			t.Fatal("appended user carries password")
		}
	})
	t.Run("to-many appends", func(t *testing.T) {
		c := s.Get(fmt.Sprintf("/api/categories:get/%d?appends[]=posts", catID), s.Root).Must(t, 200).Obj(t)
		posts, _ := c["posts"].([]any)
		if len(posts) != 1 || posts[0].(map[string]any)["title"] != "hello" {
			t.Fatalf("posts = %v", c["posts"])
		}
	})
	t.Run("nested appends", func(t *testing.T) {
		p := s.Get(fmt.Sprintf("/api/posts:get/%d?appends=category.posts", postID), s.Root).Must(t, 200).Obj(t)
		if !strings.Contains(fmt.Sprint(p["category"]), "hello") {
			t.Fatalf("category.posts = %v", p["category"])
		}
	})
	t.Run("fields", func(t *testing.T) {
		p := s.Get(fmt.Sprintf("/api/posts:get/%d?fields=title,id", postID), s.Root).Must(t, 200).Obj(t)
		if len(p) != 2 || p["title"] != "hello" {
			t.Fatalf("fields = %v", p)
		}
	})
	t.Run("update by filterByTk returns the updated records", func(t *testing.T) {
		r := s.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", postID), s.Root, map[string]any{"views": 7}).Must(t, 200)
		l := r.List(t)
		if len(l) != 1 || coretest.Num(l[0]["views"]) != 7 || l[0]["title"] != "hello" {
			t.Fatalf("update = %s", r.Raw)
		}
		s.Post(fmt.Sprintf("/api/posts:update/%d", postID), s.Root, map[string]any{"views": 8}).Must(t, 200)
	})
	t.Run("update by filter updates every match", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			s.Post("/api/posts:create", s.Root, map[string]any{"title": "bulk", "views": 1}).Must(t, 200)
		}
		r := s.Post("/api/posts:update?filter="+url.QueryEscape(`{"title":"bulk"}`), s.Root, map[string]any{"views": 2}).Must(t, 200)
		if l := r.List(t); len(l) != 3 {
			t.Fatalf("updated %d: %s", len(l), r.Raw)
		}
	})
	t.Run("update needs a selector", func(t *testing.T) {
		s.Post("/api/posts:update", s.Root, map[string]any{"views": 2}).Must(t, 400)
	})
	t.Run("update of a missing record is 404", func(t *testing.T) {
		s.Post("/api/posts:update?filterByTk=999999", s.Root, map[string]any{"views": 2}).Must(t, 404)
	})
	t.Run("destroy returns the count", func(t *testing.T) {
		r := s.Post("/api/posts:destroy?filter="+url.QueryEscape(`{"title":"bulk"}`), s.Root, nil).Must(t, 200)
		if coretest.Num(r.Body["data"]) != 3 {
			t.Fatalf("destroyed %v", r.Body["data"])
		}
		s.Get("/api/posts:list?filter="+url.QueryEscape(`{"title":"bulk"}`), s.Root).Must(t, 200)
		s.Post("/api/posts:destroy?filterByTk=999999", s.Root, nil).Must(t, 404)
	})
	t.Run("unique values", func(t *testing.T) {
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "a", "slug": "one"}).Must(t, 200)
		r := s.Post("/api/posts:create", s.Root, map[string]any{"title": "b", "slug": "one"}).Must(t, 409)
		if !strings.Contains(r.ErrMsg(t), "slug") {
			t.Fatalf("409 does not name the field: %s", r.Raw)
		}
		// A failed create leaves nothing behind.
		l := s.Get("/api/posts:list?filter="+url.QueryEscape(`{"title":"b"}`), s.Root).Must(t, 200).List(t)
		if len(l) != 0 {
			t.Fatalf("partial write: %v", l)
		}
		// Freed on update and on destroy.
		one := s.Get("/api/posts:get?filter="+url.QueryEscape(`{"slug":"one"}`), s.Root).Must(t, 200).Obj(t)
		s.Post(fmt.Sprintf("/api/posts:update/%d", coretest.ID(t, one)), s.Root, map[string]any{"slug": "two"}).Must(t, 200)
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "b", "slug": "one"}).Must(t, 200)
		s.Post(fmt.Sprintf("/api/posts:destroy/%d", coretest.ID(t, one)), s.Root, nil).Must(t, 200)
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "c", "slug": "two"}).Must(t, 200)
	})
	t.Run("a belongsTo to a missing record is refused", func(t *testing.T) {
		r := s.Post("/api/posts:create", s.Root, map[string]any{"title": "x", "category": 4242}).Must(t, 400)
		if !strings.Contains(r.ErrMsg(t), "category") {
			t.Fatalf("message %q", r.ErrMsg(t))
		}
	})
	t.Run("belongsTo set through the association name", func(t *testing.T) {
		p := s.Post("/api/posts:create?appends=category", s.Root, map[string]any{"title": "x", "category": map[string]any{"id": catID}}).Must(t, 200).Obj(t)
		if coretest.Num(p["categoryId"]) != catID {
			t.Fatalf("categoryId = %v", p["categoryId"])
		}
	})
}

func TestAssociationResources(t *testing.T) {
	s := blog(t)
	c1 := coretest.ID(t, s.Post("/api/categories:create", s.Root, map[string]any{"name": "a"}).Must(t, 200).Obj(t))
	c2 := coretest.ID(t, s.Post("/api/categories:create", s.Root, map[string]any{"name": "b"}).Must(t, 200).Obj(t))
	p := s.Post(fmt.Sprintf("/api/categories/%d/posts:create", c1), s.Root, map[string]any{"title": "in a"}).Must(t, 200).Obj(t)
	if coretest.Num(p["categoryId"]) != c1 {
		t.Fatalf("categoryId = %v", p["categoryId"])
	}
	s.Post(fmt.Sprintf("/api/categories/%d/posts:create", c2), s.Root, map[string]any{"title": "in b"}).Must(t, 200)

	t.Run("list is scoped", func(t *testing.T) {
		l := s.Get(fmt.Sprintf("/api/categories/%d/posts:list", c1), s.Root).Must(t, 200).List(t)
		if len(l) != 1 || l[0]["title"] != "in a" {
			t.Fatalf("list = %v", l)
		}
	})
	t.Run("get outside the scope is 404", func(t *testing.T) {
		s.Get(fmt.Sprintf("/api/categories/%d/posts:get/%d", c2, coretest.ID(t, p)), s.Root).Must(t, 404)
		s.Get(fmt.Sprintf("/api/categories/%d/posts:get/%d", c1, coretest.ID(t, p)), s.Root).Must(t, 200)
	})
	t.Run("update and destroy are scoped", func(t *testing.T) {
		r := s.Post(fmt.Sprintf("/api/categories/%d/posts:update", c2), s.Root, map[string]any{"views": 3}).Must(t, 200)
		if l := r.List(t); len(l) != 1 || l[0]["title"] != "in b" {
			t.Fatalf("update = %s", r.Raw)
		}
		r = s.Post(fmt.Sprintf("/api/categories/%d/posts:destroy", c2), s.Root, nil).Must(t, 200)
		if coretest.Num(r.Body["data"]) != 1 {
			t.Fatalf("destroy = %s", r.Raw)
		}
	})
	t.Run("to-one association get", func(t *testing.T) {
		c := s.Get(fmt.Sprintf("/api/posts/%d/category:get", coretest.ID(t, p)), s.Root).Must(t, 200).Obj(t)
		if c["name"] != "a" {
			t.Fatalf("category = %v", c)
		}
	})
	t.Run("missing source is 404", func(t *testing.T) {
		s.Post("/api/categories/9999/posts:create", s.Root, map[string]any{"title": "x"}).Must(t, 404)
		s.Get("/api/categories/9999/posts:list", s.Root).Must(t, 404)
	})
	t.Run("unknown association is 404", func(t *testing.T) {
		s.Get(fmt.Sprintf("/api/categories/%d/nothing:list", c1), s.Root).Must(t, 404)
		s.Get(fmt.Sprintf("/api/categories/%d/name:list", c1), s.Root).Must(t, 404)
	})
	t.Run("bad source id is 400", func(t *testing.T) {
		s.Get("/api/categories/abc/posts:list", s.Root).Must(t, 400)
	})
}

func TestFieldTypes(t *testing.T) {
	s := blog(t)
	tests := []struct {
		name   string
		values map[string]any
		status int
		field  string
		want   any
	}{
		{"string", map[string]any{"title": "t"}, 200, "title", "t"},
		{"string wrong type", map[string]any{"title": 5}, 400, "title", nil},
		{"text", map[string]any{"title": "t", "body": strings.Repeat("x", 70000)}, 200, "", nil},
		{"long string", map[string]any{"title": strings.Repeat("x", 70000)}, 400, "title", nil},
		{"integer", map[string]any{"title": "t", "views": 42}, 200, "views", "42"},
		{"integer as float", map[string]any{"title": "t", "views": 4.5}, 400, "views", nil},
		{"integer as string", map[string]any{"title": "t", "views": "4"}, 400, "views", nil},
		{"integer too big", map[string]any{"title": "t", "views": 1e300}, 400, "views", nil},
		{"float", map[string]any{"title": "t", "score": 4.5}, 200, "score", "4.5"},
		{"float from integer", map[string]any{"title": "t", "score": 4}, 200, "score", "4"},
		{"float wrong type", map[string]any{"title": "t", "score": true}, 400, "score", nil},
		{"boolean", map[string]any{"title": "t", "published": true}, 200, "published", "true"},
		{"boolean wrong type", map[string]any{"title": "t", "published": "yes"}, 400, "published", nil},
		{"date", map[string]any{"title": "t", "publishedAt": "2026-01-02T03:04:05+02:00"}, 200, "publishedAt", "2026-01-02T01:04:05.000Z"},
		{"date only", map[string]any{"title": "t", "publishedAt": "2026-01-02"}, 200, "publishedAt", "2026-01-02T00:00:00.000Z"},
		{"date garbage", map[string]any{"title": "t", "publishedAt": "yesterday"}, 400, "publishedAt", nil},
		{"json object", map[string]any{"title": "t", "meta": map[string]any{"a": []any{1, "x"}}}, 200, "meta", "map[a:[1 x]]"},
		{"json scalar", map[string]any{"title": "t", "meta": 3}, 200, "meta", "3"},
		{"null allowed", map[string]any{"title": "t", "body": nil}, 200, "body", nil},
		{"required missing", map[string]any{"body": "b"}, 400, "title", nil},
		{"required null", map[string]any{"title": nil}, 400, "title", nil},
		{"unknown field", map[string]any{"title": "t", "nope": 1}, 400, "nope", nil},
		{"belongsTo bad value", map[string]any{"title": "t", "category": "x"}, 400, "category", nil},
		{"hasOne cannot be set", map[string]any{"title": "t", "cover": 1}, 400, "cover", nil},
		{"system fields are ignored", map[string]any{"title": "t", "id": 99999, "createdAt": "x"}, 200, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Post("/api/posts:create", s.Root, tc.values).Must(t, tc.status)
			if tc.status != 200 {
				if !strings.Contains(r.ErrMsg(t), tc.field) {
					t.Fatalf("error %q does not name %q", r.ErrMsg(t), tc.field)
				}
				return
			}
			if tc.field != "" && tc.want != nil {
				if got := fmt.Sprint(r.Obj(t)[tc.field]); got != tc.want {
					t.Fatalf("%s = %s, want %v", tc.field, got, tc.want)
				}
			}
		})
	}
	t.Run("password is hashed and never returned", func(t *testing.T) {
		s.Collection(`{"name":"accounts","fields":[{"name":"pw","type":"password"}]}`)
		r := s.Post("/api/accounts:create", s.Root, map[string]any{"pw": "hunter2"}).Must(t, 200)
		if strings.Contains(r.Raw, "hunter2") || strings.Contains(r.Raw, `"pw"`) {
			t.Fatalf("password leaked: %s", r.Raw)
		}
	})
	t.Run("update checks types too", func(t *testing.T) {
		id := coretest.ID(t, s.Post("/api/posts:create", s.Root, map[string]any{"title": "t"}).Must(t, 200).Obj(t))
		s.Post(fmt.Sprintf("/api/posts:update/%d", id), s.Root, map[string]any{"views": "many"}).Must(t, 400)
		s.Post(fmt.Sprintf("/api/posts:update/%d", id), s.Root, map[string]any{"title": nil}).Must(t, 400)
		p := s.Get(fmt.Sprintf("/api/posts:get/%d", id), s.Root).Must(t, 200).Obj(t)
		if p["title"] != "t" {
			t.Fatalf("failed update changed the record: %v", p)
		}
	})
}
