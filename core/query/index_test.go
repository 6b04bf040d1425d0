package query

import (
	"reflect"
	"testing"
	"time"
)

func TestIndexableEq(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   []Cond
	}{
		{"nil filter", `{}`, nil},
		{"root $eq", `{"id":1}`, []Cond{{Path: "id", Values: []any{int64(1)}}}},
		{"root $in", `{"id":{"$in":[1,"2"]}}`, []Cond{{Path: "id", Values: []any{int64(1), int64(2)}}}},
		{"root empty $in", `{"id":{"$in":[]}}`, []Cond{{Path: "id", Values: []any{}}}},
		{"bare array", `{"status":["a","b"]}`, []Cond{{Path: "status", Values: []any{"a", "b"}}}},
		{"children of root $and", `{"id":1,"views":{"$gt":1},"status":"a"}`, []Cond{
			{Path: "id", Values: []any{int64(1)}},
			{Path: "status", Values: []any{"a"}},
		}},
		{"dates and bools", `{"createdAt":"2024-01-15","published":true}`, []Cond{
			{Path: "createdAt", Values: []any{time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)}},
			{Path: "published", Values: []any{true}},
		}},
		{"dotted path", `{"category.id":3}`, []Cond{{Path: "category.id", Values: []any{int64(3)}}}},
		{"$or is not indexable", `{"$or":[{"id":1},{"id":2}]}`, nil},
		{"$eq inside $or is not top-level", `{"$or":[{"id":1},{"id":2}],"views":{"$lt":3}}`, nil},
		{"comparison is not indexable", `{"id":{"$gt":1}}`, nil},
		{"$ne is not indexable", `{"id":{"$ne":1}}`, nil},
		{"$notIn is not indexable", `{"id":{"$notIn":[1]}}`, nil},
		{"null is not indexable", `{"title":null}`, nil},
		{"$in with null is not indexable", `{"title":{"$in":["a",null]}}`, nil},
		{"json object is not indexable", `{"meta":{"$eq":{"a":1}}}`, nil},
		{"json scalar is indexable", `{"meta.color":"red"}`, []Cond{{Path: "meta.color", Values: []any{"red"}}}},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter([]byte(tt.filter), s)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.IndexableEq(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("IndexableEq = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestIndexableEqCopiesValues(t *testing.T) {
	n, err := ParseFilter([]byte(`{"id":{"$in":[1,2]}}`), newTestSchema())
	if err != nil {
		t.Fatal(err)
	}
	conds := n.IndexableEq()
	conds[0].Values[0] = int64(99)
	if got := n.Value.([]any)[0]; got != int64(1) {
		t.Errorf("changing the Cond changed the filter: %v", got)
	}
}

func TestWithout(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		cond   Cond
		want   string // dump of the result
	}{
		{"root $eq leaves nothing", `{"id":1}`, Cond{Path: "id", Values: []any{int64(1)}}, "<nil>"},
		{"root $in leaves nothing", `{"id":{"$in":[1,2]}}`, Cond{Path: "id", Values: []any{int64(1), int64(2)}}, "<nil>"},
		{"one of two leaves the other", `{"id":{"$in":[1,2]},"title":"x"}`, Cond{Path: "id", Values: []any{int64(1), int64(2)}}, `title $eq "x"`},
		{"the other one", `{"id":{"$in":[1,2]},"title":"x"}`, Cond{Path: "title", Values: []any{"x"}}, `id $in []interface {}{1, 2}`},
		{"one of three leaves an $and", `{"id":1,"views":{"$gt":1},"status":"a"}`, Cond{Path: "id", Values: []any{int64(1)}}, `$and(status $eq "a", views $gt 1)`},
		{"duplicates all go", `{"$and":[{"id":1},{"id":1},{"views":2}]}`, Cond{Path: "id", Values: []any{int64(1)}}, `views $eq 2`},
		{"$eq 5 and $in [5] are the same condition", `{"$and":[{"id":5},{"id":{"$in":[5]}}]}`, Cond{Path: "id", Values: []any{int64(5)}}, `<nil>`},
		{"numbers compare across types", `{"id":1}`, Cond{Path: "id", Values: []any{1.0}}, "<nil>"},
		{"unknown cond leaves the filter", `{"id":1,"title":"x"}`, Cond{Path: "id", Values: []any{int64(2)}}, `$and(id $eq 1, title $eq "x")`},
		{"other path", `{"id":1}`, Cond{Path: "views", Values: []any{int64(1)}}, `id $eq 1`},
		{"$or untouched", `{"$or":[{"id":1},{"id":2}]}`, Cond{Path: "id", Values: []any{int64(1)}}, `$or(id $eq 1, id $eq 2)`},
		{"nil filter", `{}`, Cond{Path: "id", Values: []any{int64(1)}}, "<nil>"},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter([]byte(tt.filter), s)
			if err != nil {
				t.Fatal(err)
			}
			before := dump(n)
			got := n.Without(tt.cond)
			if d := dump(got); d != tt.want {
				t.Errorf("Without = %s, want %s", d, tt.want)
			}
			if after := dump(n); after != before {
				t.Errorf("Without changed the filter: %s, was %s", after, before)
			}
		})
	}
}

// TestWithoutKeepsMeaning checks, for each indexable condition, that cond AND rest selects the
// same records as the whole filter.
func TestWithoutKeepsMeaning(t *testing.T) {
	filters := []string{
		`{"id":1,"views":{"$gt":1}}`,
		`{"id":{"$in":[1,2,3]},"title":{"$ne":""},"published":true}`,
		`{"category.id":1,"views":10}`,
		`{"id":{"$in":[2]}}`,
	}
	recs := sampleRecords()
	s := newTestSchema()
	for _, f := range filters {
		t.Run(f, func(t *testing.T) {
			n, err := ParseFilter([]byte(f), s)
			if err != nil {
				t.Fatal(err)
			}
			conds := n.IndexableEq()
			if len(conds) == 0 {
				t.Fatal("no indexable condition")
			}
			for _, c := range conds {
				rest := n.Without(c)
				for i, rec := range recs {
					get := recordGetter(rec)
					v, _ := get(c.Path)
					byIndex := in(v, c.Values) && rest.Match(get)
					if whole := n.Match(get); byIndex != whole {
						t.Errorf("cond %v, record %d: index+rest = %v, filter = %v", c, i+1, byIndex, whole)
					}
				}
			}
		})
	}
}
