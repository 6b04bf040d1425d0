package query

import (
	"testing"
)

// benchRecord is a 10-field record.
func benchRecord() map[string]any {
	return map[string]any{
		"id":        int64(42),
		"title":     "Benchmarks are fun",
		"status":    "published",
		"views":     int64(1234),
		"rating":    4.25,
		"published": true,
		"createdAt": "2024-03-01T12:00:00.000Z",
		"updatedAt": "2024-03-02T12:00:00.000Z",
		"tags":      []any{"go", "bench"},
		"category":  map[string]any{"id": int64(3), "name": "news"},
	}
}

const benchFilter = `{"status":"published","views":{"$gte":1000},"createdAt":{"$lt":"2025-01-01"}}`

func BenchmarkMatch(b *testing.B) {
	n, err := ParseFilter([]byte(benchFilter), newTestSchema())
	if err != nil {
		b.Fatal(err)
	}
	get := recordGetter(benchRecord())
	if !n.Match(get) {
		b.Fatal("benchmark filter does not match")
	}
	b.ReportAllocs()
	for b.Loop() {
		if !n.Match(get) {
			b.Fatal("no match")
		}
	}
}

// TestMatchDoesNotAllocate keeps Match allocation-free for scalar comparisons.
func TestMatchDoesNotAllocate(t *testing.T) {
	filters := map[string]string{
		"benchmark":    benchFilter,
		"strings":      `{"title":{"$includes":"fun","$startsWith":"Bench","$ne":"x"},"status":{"$in":["a","published"]}}`,
		"numbers":      `{"$or":[{"rating":{"$gt":5}},{"views":{"$lte":2000}}],"id":{"$notIn":[1,2,3]}}`,
		"dates":        `{"updatedAt":{"$gte":"2024-03-02T12:00:00Z"},"createdAt":"2024-03-01T12:00:00.000Z"}`,
		"json element": `{"tags":{"$includes":"go"},"category.name":{"$notEmpty":true}}`,
		"bools":        `{"published":{"$gt":false},"title":{"$empty":true}}`,
	}
	get := recordGetter(benchRecord())
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			n, err := ParseFilter([]byte(f), newTestSchema())
			if err != nil {
				t.Fatal(err)
			}
			if allocs := testing.AllocsPerRun(100, func() { n.Match(get) }); allocs != 0 {
				t.Errorf("Match allocates %.1f times per run", allocs)
			}
		})
	}
}
