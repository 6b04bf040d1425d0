package runtime

import (
	"context"
	"testing"
	"time"
)

// BenchmarkColdState builds (and closes) one sandboxed state.
func BenchmarkColdState(b *testing.B) {
	e, err := New(Config{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	w := newWorker(e)
	b.ReportAllocs()
	for b.Loop() {
		w.build()
		w.discard()
	}
}

// BenchmarkPooledTiny runs a precompiled `return 1+1` on a pooled state with
// a fresh env and a context deadline.
func BenchmarkPooledTiny(b *testing.B) {
	e, err := New(Config{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s, err := e.Compile("tiny", "return 1+1")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res := e.Run(ctx, Request{Script: s})
		if res.Err != nil || res.Output != int64(2) {
			b.Fatal(res.Err, res.Output)
		}
	}
}

// BenchmarkRecordInTableOut injects a 10-field record as ctx.data and
// returns a small table built from it.
func BenchmarkRecordInTableOut(b *testing.B) {
	e, err := New(Config{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s, err := e.Compile("record", `
local d = ctx.data
return {id = d.id, title = d.title, total = d.price * d.qty, tags = #d.tags, author = d.author.name}
`)
	if err != nil {
		b.Fatal(err)
	}
	record := map[string]any{
		"id":        int64(42),
		"title":     "Hello world",
		"price":     9.5,
		"qty":       int64(3),
		"published": true,
		"tags":      []any{"a", "b", "c"},
		"author":    map[string]any{"id": int64(7), "name": "Ann"},
		"createdAt": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"body":      "Lorem ipsum dolor sit amet",
		"views":     int64(1234),
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res := e.Run(ctx, Request{Script: s, Globals: map[string]any{"ctx": map[string]any{"data": record}}})
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

// BenchmarkTaintCheck measures the check run before a state is reused.
func BenchmarkTaintCheck(b *testing.B) {
	e, err := New(Config{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	w := newWorker(e)
	w.build()
	defer w.discard()
	b.ReportAllocs()
	for b.Loop() {
		if !w.intact() {
			b.Fatal("fresh state tainted")
		}
	}
}

// BenchmarkPooledTinyParallel runs the tiny script from 2 goroutines on 2 workers.
func BenchmarkPooledTinyParallel(b *testing.B) {
	e, err := New(Config{Workers: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s, err := e.Compile("tiny", "return 1+1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := e.Run(context.Background(), Request{Script: s}); res.Err != nil {
				b.Fatal(res.Err)
			}
		}
	})
}
