package query

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []string
	}{
		{"none", nil, nil},
		{"empty", []string{"", " , "}, nil},
		{"comma list", []string{"createdBy,category"}, []string{"createdBy", "category"}},
		{"repeated", []string{"createdBy", "category"}, []string{"createdBy", "category"}},
		{"both", []string{"a,b", "c"}, []string{"a", "b", "c"}},
		{"trims and drops empties", []string{" a , ,b,"}, []string{"a", "b"}},
		{"dedup keeps first position", []string{"b,a", "b", "a,c"}, []string{"b", "a", "c"}},
		{"dotted", []string{"post.category, createdBy.roles"}, []string{"post.category", "createdBy.roles"}},
		{"underscores and digits", []string{"_a1.b_2"}, []string{"_a1.b_2"}},
		{"32 items", []string{items(32)}, strings.Split(items(32), ",")},
		{"32 items with duplicates", []string{items(32), items(32)}, strings.Split(items(32), ",")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseList("appends", tt.values)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseList = %q, want %q", got, tt.want)
			}
		})
	}
}

func items(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("f%d", i)
	}
	return strings.Join(parts, ",")
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name   string
		param  string
		values []string
		parts  []string
	}{
		{"space inside", "appends", []string{"a b"}, []string{`"a b"`}},
		{"leading digit", "appends", []string{"1a"}, []string{`"1a"`}},
		{"segment leading digit", "fields", []string{"a.1"}, []string{`"a.1"`}},
		{"empty segment", "appends", []string{"a..b"}, []string{`"a..b"`}},
		{"leading dot", "appends", []string{".a"}, []string{`".a"`}},
		{"trailing dot", "appends", []string{"a."}, []string{`"a."`}},
		{"dash", "fields", []string{"ok", "first-name"}, []string{`"first-name"`}},
		{"brackets", "appends", []string{"a[]"}, []string{`"a[]"`}},
		{"bang", "appends", []string{"key!category"}, []string{`"key!category"`}},
		{"non-ASCII", "appends", []string{"café"}, []string{"caf"}},
		{"33 items", "appends", []string{items(33)}, []string{"too many", "32"}},
		{"33 items repeated", "fields", []string{items(32), "x"}, []string{"too many"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseList(tt.param, tt.values)
			if got != nil {
				t.Errorf("got %q along with the error", got)
			}
			wantError(t, err, tt.param, tt.parts...)
		})
	}
}
