package query

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseSort(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []SortKey
	}{
		{"none", nil, nil},
		{"empty string", []string{""}, nil},
		{"only commas and spaces", []string{" , ,"}, nil},
		{"comma list", []string{"-createdAt,title"}, []SortKey{{Path: "createdAt", Desc: true}, {Path: "title"}}},
		{"repeated values", []string{"-createdAt", "title"}, []SortKey{{Path: "createdAt", Desc: true}, {Path: "title"}}},
		{"spaces and empties", []string{" title , , -views "}, []SortKey{{Path: "title"}, {Path: "views", Desc: true}}},
		{"plus sign", []string{"+title"}, []SortKey{{Path: "title"}}},
		{"dotted path", []string{"category.name,-id"}, []SortKey{{Path: "category.name"}, {Path: "id", Desc: true}}},
		{"duplicate keeps first", []string{"title,-title", "title"}, []SortKey{{Path: "title"}}},
		{"eight keys", []string{"id,title,status,views,rating,published,createdAt,updatedAt"}, []SortKey{
			{Path: "id"}, {Path: "title"}, {Path: "status"}, {Path: "views"},
			{Path: "rating"}, {Path: "published"}, {Path: "createdAt"}, {Path: "updatedAt"},
		}},
		{"nine with a duplicate", []string{"id,title,status,views,rating,published,createdAt,updatedAt", "-id"}, []SortKey{
			{Path: "id"}, {Path: "title"}, {Path: "status"}, {Path: "views"},
			{Path: "rating"}, {Path: "published"}, {Path: "createdAt"}, {Path: "updatedAt"},
		}},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSort(tt.values, s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseSort = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseSortErrors(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		schema Schema
		parts  []string
	}{
		{"unknown field", []string{"title,-nope"}, newTestSchema(), []string{`"nope"`, "unknown field"}},
		{"to-many", []string{"comments.body"}, newTestSchema(), []string{`"comments.body"`}},
		{"bare minus", []string{"-"}, newTestSchema(), []string{`invalid field path "-"`}},
		{"double minus", []string{"--title"}, newTestSchema(), []string{`"--title"`}},
		{"empty segment", []string{"category..name"}, newTestSchema(), []string{`"category..name"`}},
		{"nine keys", []string{"id,title,status,views,rating,published,createdAt,updatedAt,categoryId"}, newTestSchema(), []string{"too many", "8"}},
		{"nine keys repeated", []string{"id", "title", "status", "views", "rating", "published", "createdAt", "updatedAt", "-categoryId"}, newTestSchema(), []string{"too many"}},
		{"bad kind", []string{"x"}, badKindSchema{}, []string{`"x"`}},
		{"nil schema", []string{"x"}, nil, []string{"schema"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseSort(tt.values, tt.schema)
			if keys != nil {
				t.Errorf("got keys %v along with the error", keys)
			}
			wantError(t, err, "sort", tt.parts...)
		})
	}
}

func TestCompare(t *testing.T) {
	rec := func(kv ...any) Getter {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return recordGetter(m)
	}
	asc := func(p string) []SortKey { return []SortKey{{Path: p}} }
	desc := func(p string) []SortKey { return []SortKey{{Path: p, Desc: true}} }
	tests := []struct {
		name string
		keys []SortKey
		a, b Getter
		want int
	}{
		{"no keys", nil, rec("a", int64(1)), rec("a", int64(2)), 0},
		{"int less", asc("a"), rec("a", int64(1)), rec("a", int64(2)), -1},
		{"int greater", asc("a"), rec("a", int64(3)), rec("a", int64(2)), 1},
		{"int equal", asc("a"), rec("a", int64(2)), rec("a", int64(2)), 0},
		{"desc reverses", desc("a"), rec("a", int64(1)), rec("a", int64(2)), 1},
		{"int vs float", asc("a"), rec("a", int64(2)), rec("a", 2.5), -1},
		{"float equals int", asc("a"), rec("a", 2.0), rec("a", int64(2)), 0},
		{"strings lexical", asc("a"), rec("a", "apple"), rec("a", "banana"), -1},
		{"strings byte-wise upper first", asc("a"), rec("a", "Zed"), rec("a", "abe"), -1},
		{"bools false first", asc("a"), rec("a", false), rec("a", true), -1},
		{"missing first ascending", asc("a"), rec(), rec("a", int64(-100)), -1},
		{"null first ascending", asc("a"), rec("a", nil), rec("a", ""), -1},
		{"missing equals null", asc("a"), rec(), rec("a", nil), 0},
		{"missing last descending", desc("a"), rec(), rec("a", int64(1)), 1},
		{"dates as stored strings", asc("a"), rec("a", "2023-12-31T23:59:59.999Z"), rec("a", "2024-01-01T00:00:00.000Z"), -1},
		{"second key breaks tie", []SortKey{{Path: "a"}, {Path: "b", Desc: true}}, rec("a", int64(1), "b", "x"), rec("a", int64(1), "b", "y"), 1},
		{"first key decides", []SortKey{{Path: "a"}, {Path: "b"}}, rec("a", int64(1), "b", "z"), rec("a", int64(2), "b", "a"), -1},
		{"dotted path", asc("c.n"), rec("c", map[string]any{"n": "b"}), rec("c", map[string]any{"n": "a"}), 1},
		{"mixed types by rank", asc("a"), rec("a", "1"), rec("a", int64(2)), 1},
		{"arrays elementwise", asc("a"), rec("a", []any{int64(1), int64(2)}), rec("a", []any{int64(1), int64(3)}), -1},
		{"arrays by length", asc("a"), rec("a", []any{int64(1)}), rec("a", []any{int64(1), int64(0)}), -1},
		{"nil getters", asc("a"), nil, nil, 0},
		{"NaN before numbers", asc("a"), rec("a", math.NaN()), rec("a", -1e300), -1},
		{"objects by size", asc("a"), rec("a", map[string]any{}), rec("a", map[string]any{"k": int64(1)}), -1},
		{"objects after arrays", asc("a"), rec("a", []any{}), rec("a", map[string]any{}), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Compare(tt.keys, tt.a, tt.b); got != tt.want {
				t.Errorf("Compare = %d, want %d", got, tt.want)
			}
			if got := Compare(tt.keys, tt.b, tt.a); got != -tt.want {
				t.Errorf("Compare swapped = %d, want %d", got, -tt.want)
			}
		})
	}
}

func TestCompareSortsRecords(t *testing.T) {
	recs := []map[string]any{
		{"id": int64(1), "views": int64(5), "title": "b"},
		{"id": int64(2), "title": "a"},
		{"id": int64(3), "views": int64(5), "title": "a"},
		{"id": int64(4), "views": 7.5, "title": "c"},
		{"id": int64(5), "views": nil, "title": "d"},
	}
	tests := []struct {
		name string
		sort string
		want []int64
	}{
		{"views then title", "views,title", []int64{2, 5, 3, 1, 4}},
		{"views desc then title desc", "-views,-title", []int64{4, 1, 3, 5, 2}},
		{"title then id desc", "title,-id", []int64{3, 2, 1, 4, 5}},
	}
	s := testSchema{"id": KindInteger, "views": KindFloat, "title": KindString}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseSort(strings.Split(tt.sort, "&"), s)
			if err != nil {
				t.Fatal(err)
			}
			sorted := slices.Clone(recs)
			slices.SortStableFunc(sorted, func(a, b map[string]any) int {
				return Compare(keys, recordGetter(a), recordGetter(b))
			})
			got := make([]int64, len(sorted))
			for i, r := range sorted {
				got[i] = r["id"].(int64)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
}
