package query

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testSchema is a fake Schema over a fixed set of paths. Paths "f0".."f999" are integers, to
// build large filters; paths through "comments" are to-many; "n.n.(...).id" is an integer.
type testSchema map[string]Kind

func newTestSchema() testSchema {
	return testSchema{
		"id":                 KindInteger,
		"title":              KindString,
		"status":             KindString,
		"views":              KindInteger,
		"rating":             KindFloat,
		"published":          KindBool,
		"createdAt":          KindDate,
		"updatedAt":          KindDate,
		"meta":               KindJSON,
		"meta.color":         KindJSON,
		"meta.size":          KindJSON,
		"tags":               KindJSON,
		"categoryId":         KindInteger,
		"category.id":        KindInteger,
		"category.name":      KindString,
		"category.parent.id": KindInteger,
		"createdBy.email":    KindString,
		"createdBy.nickname": KindString,
	}
}

func (s testSchema) Resolve(path string) (Kind, error) {
	if k, ok := s[path]; ok {
		return k, nil
	}
	if strings.HasPrefix(path, "comments.") {
		return 0, fmt.Errorf("%q goes through the to-many association \"comments\"", path)
	}
	if rest, ok := strings.CutSuffix(path, ".id"); ok && strings.Trim(strings.ReplaceAll(rest, "n.", ""), "n") == "" {
		// "n.n.n.id": a self-referencing to-one association, for deep filters.
		return KindInteger, nil
	}
	if len(path) > 1 && path[0] == 'f' && isDigits(path[1:]) {
		return KindInteger, nil
	}
	return 0, fmt.Errorf("unknown field %q", path)
}

// recordGetter reads dotted paths from a nested map, as core does for a record with its
// to-one associations loaded.
func recordGetter(rec map[string]any) Getter {
	return func(path string) (any, bool) {
		var cur any = rec
		for {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			head, rest, more := strings.Cut(path, ".")
			cur, ok = m[head]
			if !ok {
				return nil, false
			}
			if !more {
				return cur, true
			}
			path = rest
		}
	}
}

// sampleRecords are the records the filter tables are evaluated on.
func sampleRecords() [3]map[string]any {
	return [3]map[string]any{
		{
			"id":        int64(1),
			"title":     "Hello World",
			"status":    "published",
			"views":     int64(10),
			"rating":    4.5,
			"published": true,
			"createdAt": "2024-01-15T10:00:00.000Z",
			"meta":      map[string]any{"color": "red", "size": int64(3)},
			"tags":      []any{"go", "db", int64(7)},
			"category":  map[string]any{"id": int64(1), "name": "news", "parent": map[string]any{"id": int64(9)}},
			"createdBy": map[string]any{"email": "a@example.com", "nickname": "ann"},
		},
		{
			"id":        int64(2),
			"title":     "",
			"views":     int64(0),
			"rating":    float64(2),
			"published": false,
			"createdAt": "2023-06-01T00:00:00.000Z",
			"meta":      map[string]any{},
			"tags":      []any{},
			"category":  nil,
		},
		{
			"id": int64(3),
		},
	}
}

// wantError checks that err is an *Error with the given Param whose message holds every part.
func wantError(t *testing.T, err error, param string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want a %s error mentioning %q", param, parts)
	}
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("got %T %v, want *query.Error", err, err)
	}
	if qe.Param != param {
		t.Errorf("Param = %q, want %q (error %q)", qe.Param, param, err)
	}
	for _, p := range parts {
		if !strings.Contains(qe.Message, p) {
			t.Errorf("message %q does not mention %q", qe.Message, p)
		}
	}
	if !strings.HasPrefix(err.Error(), param+": ") {
		t.Errorf("Error() = %q, want the prefix %q", err.Error(), param+": ")
	}
}
