package core_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// countOf lists posts of one category (the indexed path of a list) and returns meta.count
// and the page's length.
func countOf(t *testing.T, s *coretest.Server, cat int64, pageSize int) (count, rows int) {
	t.Helper()
	f := url.QueryEscape(fmt.Sprintf(`{"categoryId":%d}`, cat))
	r := s.Get(fmt.Sprintf("/api/posts:list?sort=-id&pageSize=%d&filter=%s", pageSize, f), s.Root).Must(t, 200)
	meta, _ := r.Body["meta"].(map[string]any)
	return int(coretest.Num(meta["count"])), len(r.List(t))
}

// TestListCountFollowsWrites: the count of a list on an indexed value is remembered
// between writes; every kind of write that moves an index entry is seen by the next list.
func TestListCountFollowsWrites(t *testing.T) {
	s := blog(t)
	a := coretest.ID(t, s.Post("/api/categories:create", s.Root, map[string]any{"name": "a"}).Must(t, 200).Obj(t))
	b := coretest.ID(t, s.Post("/api/categories:create", s.Root, map[string]any{"name": "b"}).Must(t, 200).Obj(t))
	var ids []int64
	for i := 0; i < 3; i++ {
		ids = append(ids, coretest.ID(t, s.Post("/api/posts:create", s.Root, map[string]any{"title": fmt.Sprint("p", i), "categoryId": a}).Must(t, 200).Obj(t)))
	}
	steps := []struct {
		name  string
		write func(t *testing.T)
		wantA int
		wantB int
	}{
		{"seeded", func(*testing.T) {}, 3, 0},
		{"create", func(t *testing.T) {
			s.Post("/api/posts:create", s.Root, map[string]any{"title": "p3", "categoryId": a}).Must(t, 200)
		}, 4, 0},
		{"update moves a record", func(t *testing.T) {
			s.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", ids[0]), s.Root, map[string]any{"categoryId": b}).Must(t, 200)
		}, 3, 1},
		{"update of another field", func(t *testing.T) {
			s.Post(fmt.Sprintf("/api/posts:update?filterByTk=%d", ids[1]), s.Root, map[string]any{"title": "renamed"}).Must(t, 200)
		}, 3, 1},
		{"destroy", func(t *testing.T) {
			s.Post(fmt.Sprintf("/api/posts:destroy?filterByTk=%d", ids[2]), s.Root, nil).Must(t, 200)
		}, 2, 1},
		{"refused write", func(t *testing.T) {
			s.Post("/api/posts:create", s.Root, map[string]any{"title": "bad", "categoryId": 999999}).Must(t, 400)
		}, 2, 1},
		{"bulk update", func(t *testing.T) {
			f := url.QueryEscape(fmt.Sprintf(`{"categoryId":%d}`, a))
			s.Post("/api/posts:update?filter="+f, s.Root, map[string]any{"categoryId": b}).Must(t, 200)
		}, 0, 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.write(t)
			// Twice: the first list may take the count, the second may use it.
			for i := 0; i < 2; i++ {
				if n, rows := countOf(t, s, a, 20); n != st.wantA || rows != st.wantA {
					t.Fatalf("category a: count %d, %d rows; want %d", n, rows, st.wantA)
				}
				if n, rows := countOf(t, s, b, 20); n != st.wantB || rows != st.wantB {
					t.Fatalf("category b: count %d, %d rows; want %d", n, rows, st.wantB)
				}
			}
		})
	}
}

// TestListCountUnderConcurrentWrites: while records of a category are created and
// destroyed, every list of it answers a count that matches its own page (all of them fit
// on the page): a remembered count is never used for another state of the index.
func TestListCountUnderConcurrentWrites(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"categories","fields":[{"name":"name","type":"string"}]}`)
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"},{"name":"category","type":"belongsTo","target":"categories"}]}`)
	cat := coretest.ID(t, s.Post("/api/categories:create", s.Root, map[string]any{"name": "a"}).Must(t, 200).Obj(t))
	const writers, writes, readers, reads = 2, 150, 2, 300
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < writes; i++ {
				r := s.Post("/api/posts:create", s.Root, map[string]any{"title": "x", "categoryId": cat})
				if r.Status != 200 {
					errs <- fmt.Errorf("create: %d %s", r.Status, r.Raw)
					return
				}
				if i%3 == 0 {
					id := int64(coretest.Num(r.Body["data"].(map[string]any)["id"]))
					if r := s.Post(fmt.Sprintf("/api/posts:destroy?filterByTk=%d", id), s.Root, nil); r.Status != 200 {
						errs <- fmt.Errorf("destroy: %d %s", r.Status, r.Raw)
						return
					}
				}
			}
		}()
	}
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := url.QueryEscape(fmt.Sprintf(`{"categoryId":%d}`, cat))
			for i := 0; i < reads; i++ {
				r := s.Get("/api/posts:list?sort=-id&pageSize=1000&filter="+f, s.Root)
				if r.Status != 200 {
					errs <- fmt.Errorf("list: %d %s", r.Status, r.Raw)
					return
				}
				meta, _ := r.Body["meta"].(map[string]any)
				rows, _ := r.Body["data"].([]any)
				if n := int(coretest.Num(meta["count"])); n != len(rows) {
					errs <- fmt.Errorf("list %d: count %d, but %d rows", i, n, len(rows))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := writers * (writes - (writes+2)/3)
	if n, rows := countOf(t, s, cat, 1000); n != want || rows != want {
		t.Fatalf("after the writes: count %d, %d rows; want %d", n, rows, want)
	}
}
