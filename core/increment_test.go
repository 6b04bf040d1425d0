package core_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/valyala/fasthttp"
)

const counterSchema = `{"name":"counters","fields":[
 {"name":"title","type":"string"},
 {"name":"n","type":"integer"},
 {"name":"x","type":"float"},
 {"name":"version","type":"integer","defaultValue":1},
 {"name":"winner","type":"integer"},
 {"name":"meta","type":"json"},
 {"name":"owner","type":"belongsTo","target":"users"}]}`

// rawResponse is one answer of post, which (unlike coretest's client) may run on any
// goroutine: it reports failures instead of ending the test.
type rawResponse struct {
	status int
	body   map[string]any
	err    error
}

func post(s *coretest.Server, path string, body any) rawResponse {
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://actionflow" + path)
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+s.Root)
	b, err := json.Marshal(body)
	if err != nil {
		return rawResponse{err: err}
	}
	req.SetBody(b)
	if err := s.Client.DoTimeout(req, res, 60*time.Second); err != nil {
		return rawResponse{err: err}
	}
	out := rawResponse{status: res.StatusCode()}
	d := json.NewDecoder(bytes.NewReader(res.Body()))
	d.UseNumber()
	if err := d.Decode(&out.body); err != nil {
		out.err = fmt.Errorf("status %d: %w: %s", out.status, err, res.Body())
	}
	return out
}

// concurrently runs fn(i) for i in [0, n) at once and returns the answers in order.
func concurrently(n int, fn func(i int) rawResponse) []rawResponse {
	out := make([]rawResponse, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func TestIncrementConcurrent(t *testing.T) {
	const n = 50
	tests := []struct {
		name  string
		start map[string]any // the record's values before the increments
		field string
		by    any
		want  float64 // the value after the n increments
	}{
		{"integer from null", map[string]any{"title": "a"}, "n", 1, n},
		{"integer from a value", map[string]any{"n": 7}, "n", 2, 7 + 2*n},
		{"negative integer", map[string]any{"n": 0}, "n", -3, -3 * n},
		{"float", map[string]any{"x": 1.25}, "x", 0.5, 1.25 + 0.5*n},
	}
	s := coretest.New(t, core.Config{})
	s.Collection(counterSchema)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := coretest.ID(t, s.Post("/api/counters:create", s.Root, tt.start).Must(t, 200).Obj(t))
			path := fmt.Sprintf("/api/counters:update?filterByTk=%d", id)
			answers := concurrently(n, func(int) rawResponse {
				return post(s, path, map[string]any{tt.field: map[string]any{"$inc": tt.by}})
			})
			var seen []float64 // the value each update answered
			for i, a := range answers {
				if a.err != nil || a.status != 200 {
					t.Fatalf("update %d: status %d, err %v, body %v", i, a.status, a.err, a.body)
				}
				recs, _ := a.body["data"].([]any)
				if len(recs) != 1 {
					t.Fatalf("update %d: data %v, want one record", i, a.body["data"])
				}
				v, _ := recs[0].(map[string]any)[tt.field].(json.Number).Float64()
				seen = append(seen, v)
			}
			got := s.Get(fmt.Sprintf("/api/counters:get?filterByTk=%d", id), s.Root).Must(t, 200).Obj(t)[tt.field]
			if f, _ := got.(json.Number).Float64(); f != tt.want {
				t.Errorf("%s = %v after %d increments, want %v", tt.field, got, n, tt.want)
			}
			// Every increment applied to a value no other one saw: the answers are distinct,
			// and the last one is the final value.
			sort.Float64s(seen)
			if !slices.Contains(seen, tt.want) {
				t.Errorf("no update answered the final value %v: %v", tt.want, seen)
			}
			for i := 1; i < len(seen); i++ {
				if seen[i] == seen[i-1] {
					t.Errorf("two updates answered %s = %v: an increment was lost", tt.field, seen[i])
				}
			}
		})
	}
}

func TestIncrementForms(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(counterSchema)
	create := func(values map[string]any) int64 {
		return coretest.ID(t, s.Post("/api/counters:create", s.Root, values).Must(t, 200).Obj(t))
	}
	tests := []struct {
		name      string
		start     map[string]any
		values    string
		wantField string // "" for success
		check     func(t *testing.T, rec map[string]any)
	}{
		{"integer", map[string]any{"n": 1}, `{"n":{"$inc":41}}`, "", func(t *testing.T, rec map[string]any) {
			if coretest.Num(rec["n"]) != 42 {
				t.Errorf("n = %v, want 42", rec["n"])
			}
		}},
		{"with other values", map[string]any{"n": 1}, `{"n":{"$inc":1},"title":"b"}`, "", func(t *testing.T, rec map[string]any) {
			if coretest.Num(rec["n"]) != 2 || rec["title"] != "b" {
				t.Errorf("n, title = %v, %v; want 2, b", rec["n"], rec["title"])
			}
		}},
		{"float by an integer", map[string]any{"x": 0.5}, `{"x":{"$inc":2}}`, "", func(t *testing.T, rec map[string]any) {
			if f, _ := rec["x"].(json.Number).Float64(); f != 2.5 {
				t.Errorf("x = %v, want 2.5", rec["x"])
			}
		}},
		{"a json field stores the object", map[string]any{}, `{"meta":{"$inc":1}}`, "", func(t *testing.T, rec map[string]any) {
			if m, _ := rec["meta"].(map[string]any); m == nil || coretest.Num(m["$inc"]) != 1 {
				t.Errorf("meta = %v, want {\"$inc\": 1}", rec["meta"])
			}
		}},
		{"to the largest exact integer", map[string]any{"n": 1<<53 - 2}, `{"n":{"$inc":1}}`, "", func(t *testing.T, rec map[string]any) {
			if coretest.Num(rec["n"]) != 1<<53-1 {
				t.Errorf("n = %v, want 2^53-1", rec["n"])
			}
		}},
		{"past the largest exact integer", map[string]any{"n": 1<<53 - 1}, `{"n":{"$inc":1}}`, "n", nil},
		{"a fraction on an integer", map[string]any{"n": 1}, `{"n":{"$inc":1.5}}`, "n", nil},
		{"a string", map[string]any{"n": 1}, `{"n":{"$inc":"1"}}`, "n", nil},
		{"null", map[string]any{"x": 1}, `{"x":{"$inc":null}}`, "x", nil},
		{"on a string field", map[string]any{}, `{"title":{"$inc":1}}`, "title", nil},
		{"on a belongsTo", map[string]any{}, `{"owner":{"$inc":1}}`, "owner", nil},
		{"another operator", map[string]any{"n": 1}, `{"n":{"$set":5}}`, "n", nil},
		{"another operator on a string field", map[string]any{}, `{"title":{"$set":"a"}}`, "title", nil},
		{"$inc beside another key", map[string]any{"n": 1}, `{"n":{"$inc":1,"$set":5}}`, "n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := create(tt.start)
			get := fmt.Sprintf("/api/counters:get?filterByTk=%d", id)
			before := s.Get(get, s.Root).Must(t, 200).Obj(t)
			r := s.Post(fmt.Sprintf("/api/counters:update?filterByTk=%d", id), s.Root, tt.values)
			if tt.wantField != "" {
				r.Must(t, 400)
				if f := errField(t, r); f != tt.wantField {
					t.Errorf("error names %q, want %q: %s", f, tt.wantField, r.Raw)
				}
				if after := s.Get(get, s.Root).Must(t, 200).Obj(t); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("a refused update changed the record: %v, was %v", after, before)
				}
				return
			}
			recs := r.Must(t, 200).List(t)
			if len(recs) != 1 {
				t.Fatalf("updated %d records, want 1", len(recs))
			}
			tt.check(t, recs[0])
			tt.check(t, s.Get(get, s.Root).Must(t, 200).Obj(t))
		})
	}

	t.Run("create refuses it", func(t *testing.T) {
		r := s.Post("/api/counters:create", s.Root, `{"n":{"$inc":1}}`).Must(t, 400)
		if f := errField(t, r); f != "n" {
			t.Errorf("error names %q, want n: %s", f, r.Raw)
		}
	})
	t.Run("bulk update by filter", func(t *testing.T) {
		ids := []int64{create(map[string]any{"title": "bulk", "n": 1}), create(map[string]any{"title": "bulk", "n": 10}), create(map[string]any{"title": "bulk"})}
		filter := url.QueryEscape(`{"title":"bulk"}`)
		recs := s.Post("/api/counters:update?filter="+filter, s.Root, `{"n":{"$inc":5}}`).Must(t, 200).List(t)
		want := map[int64]int64{ids[0]: 6, ids[1]: 15, ids[2]: 5}
		if len(recs) != len(want) {
			t.Fatalf("updated %d records, want %d", len(recs), len(want))
		}
		for _, r := range recs {
			if got := coretest.Num(r["n"]); got != want[coretest.ID(t, r)] {
				t.Errorf("record %d: n = %d, want %d", coretest.ID(t, r), got, want[coretest.ID(t, r)])
			}
		}
	})
}

// TestCompareAndSet: an update whose filter holds the version it read changes the record
// only if nobody changed it since; among concurrent attempts on one version exactly one
// wins and the others get an empty list.
func TestCompareAndSet(t *testing.T) {
	const attempts, rounds = 10, 5
	s := coretest.New(t, core.Config{})
	s.Collection(counterSchema)
	id := coretest.ID(t, s.Post("/api/counters:create", s.Root, map[string]any{"title": "cas"}).Must(t, 200).Obj(t))
	for version := 1; version <= rounds; version++ {
		t.Run(fmt.Sprintf("version %d", version), func(t *testing.T) {
			filter := url.QueryEscape(fmt.Sprintf(`{"id":%d,"version":%d}`, id, version))
			answers := concurrently(attempts, func(i int) rawResponse {
				return post(s, "/api/counters:update?filter="+filter, map[string]any{"version": version + 1, "winner": i})
			})
			winner := -1
			for i, a := range answers {
				if a.err != nil || a.status != 200 {
					t.Fatalf("attempt %d: status %d, err %v, body %v", i, a.status, a.err, a.body)
				}
				recs, ok := a.body["data"].([]any)
				switch {
				case !ok:
					t.Fatalf("attempt %d: data %v, want a list", i, a.body["data"])
				case len(recs) == 1 && winner >= 0:
					t.Fatalf("attempts %d and %d both changed version %d", winner, i, version)
				case len(recs) == 1:
					winner = i
				case len(recs) != 0:
					t.Fatalf("attempt %d changed %d records", i, len(recs))
				}
			}
			if winner < 0 {
				t.Fatalf("no attempt changed version %d", version)
			}
			rec := s.Get(fmt.Sprintf("/api/counters:get?filterByTk=%d", id), s.Root).Must(t, 200).Obj(t)
			if coretest.Num(rec["version"]) != int64(version+1) || coretest.Num(rec["winner"]) != int64(winner) {
				t.Errorf("record version %v winner %v, want %d and %d", rec["version"], rec["winner"], version+1, winner)
			}
		})
	}
}
