package core_test

import (
	"encoding/json"
	"github.com/actionflow/actionflow/core/coretest"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/valyala/fasthttp"
)

// FuzzRequest sends arbitrary query strings and bodies to list, create and update: the
// answer is always a JSON envelope and never a 500.
func FuzzRequest(f *testing.F) {
	seeds := []struct{ action, query, body string }{
		{"list", "filter=%7B%22views%22%3A%7B%22%24gt%22%3A1%7D%7D&sort=-views&page=2&pageSize=5", ""},
		{"list", "filter[views][$in][0]=1&appends=category&fields=title", ""},
		{"list", "filter=%7B%22%24or%22%3A%5B%7B%22title%22%3A1%7D%5D%7D", ""},
		{"list", "page=-1&pageSize=99999999999", ""},
		{"create", "", `{"title":"a","views":3,"meta":{"x":[1,2]},"category":1}`},
		{"create", "", `{"title":1e400}`},
		{"create", "", `{"publishedAt":"2026-13-45"}`},
		{"update", "filterByTk=1", `{"views":-1}`},
		{"update", "filter=%7B%7D", `{"title":null}`},
		{"get", "filterByTk=1&appends=category.posts.category", ""},
	}
	for _, s := range seeds {
		f.Add(s.action, s.query, s.body)
	}
	srv := coretest.New(f, core.Config{})
	for _, d := range splitDefs(blogSchema) {
		srv.Collection(d)
	}
	srv.Post("/api/categories:create", srv.Root, map[string]any{"name": "c"}).Must(f, 200)
	srv.Post("/api/posts:create", srv.Root, map[string]any{"title": "p", "categoryId": 1}).Must(f, 200)
	h := srv.App.Handler()

	f.Fuzz(func(t *testing.T, action, query, body string) {
		switch action {
		case "list", "get", "create", "update", "destroy":
		default:
			action = "list"
		}
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI("/api/posts:" + action + "?" + query)
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.Header.Set("Authorization", "Bearer "+srv.Root)
		ctx.Request.SetBodyString(body)
		h(&ctx)
		status := ctx.Response.StatusCode()
		if status >= 500 {
			t.Fatalf("%s ?%s %q → %d %s", action, query, body, status, ctx.Response.Body())
		}
		var env map[string]any
		if err := json.Unmarshal(ctx.Response.Body(), &env); err != nil {
			t.Fatalf("not JSON: %s", ctx.Response.Body())
		}
		if _, ok := env["data"]; !ok && env["errors"] == nil {
			t.Fatalf("no data and no errors: %s", ctx.Response.Body())
		}
	})
}
