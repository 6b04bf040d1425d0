package core_test

import (
	"context"
	"fmt"
	"github.com/actionflow/actionflow/core/coretest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/valyala/fasthttp"
)

// BenchmarkCreate measures POST /api/posts:create through the HTTP handler over an
// in-memory listener, by parallel clients.
func BenchmarkCreate(b *testing.B) {
	s := coretest.New(b, core.Config{})
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"},{"name":"body","type":"text"},{"name":"views","type":"integer"}]}`)
	body := []byte(`{"title":"hello","body":"a short body","views":3}`)
	var failed atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		for pb.Next() {
			req.SetRequestURI("http://actionflow/api/posts:create")
			req.Header.SetMethod("POST")
			req.Header.Set("Authorization", "Bearer "+s.Root)
			req.SetBody(body)
			if err := s.Client.Do(req, res); err != nil || res.StatusCode() != 200 {
				failed.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
}

// BenchmarkList20Of100k lists a page of 20 posts of one category (filter on an indexed
// foreign key) out of 100k posts, newest first.
func BenchmarkList20Of100k(b *testing.B) {
	s := coretest.New(b, core.Config{})
	s.Collection(`{"name":"categories","fields":[{"name":"name","type":"string"}]}`)
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"},{"name":"views","type":"integer"},{"name":"category","type":"belongsTo","target":"categories"}]}`)
	data := s.App.Data()
	ctx := context.Background()
	cats, _ := data.Collection("categories")
	posts, _ := data.Collection("posts")
	err := s.App.Update(ctx, func(tx *core.Tx) error {
		for i := 0; i < 10; i++ {
			if _, err := data.Create(tx, cats, map[string]any{"name": fmt.Sprint("c", i)}, core.WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for batch := 0; batch < 100; batch++ {
		err := s.App.Update(ctx, func(tx *core.Tx) error {
			for i := 0; i < 1000; i++ {
				n := batch*1000 + i
				if _, err := data.Create(tx, posts, map[string]any{"title": fmt.Sprint("post ", n), "views": n, "categoryId": n%10 + 1}, core.WriteOptions{UserID: 1}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	path := "/api/posts:list?pageSize=20&sort=-id&filter=" + url.QueryEscape(`{"categoryId":3}`)
	r := s.Get(path, s.Root).Must(b, 200)
	if n := len(r.List(b)); n != 20 {
		b.Fatalf("%d records", n)
	}
	if c := coretest.Num(r.Body["meta"].(map[string]any)["count"]); c != 10000 {
		b.Fatalf("count %d", c)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Get(path, s.Root)
	}
}
