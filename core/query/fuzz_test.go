package query

import (
	"errors"
	"strings"
	"testing"
)

// fuzzRecords are records of every shape Match may meet.
func fuzzRecords() []Getter {
	recs := sampleRecords()
	out := []Getter{nil}
	for _, r := range recs {
		out = append(out, recordGetter(r))
	}
	odd := map[string]any{
		"title": int64(5), "views": "x", "rating": true, "published": "yes", "createdAt": "garbage",
		"meta": []any{map[string]any{}}, "tags": "go", "category": "news", "id": 1.5,
	}
	return append(out, recordGetter(odd))
}

func checkFilterResult(t *testing.T, n *Node, err error) {
	t.Helper()
	if err != nil {
		var qe *Error
		if !errors.As(err, &qe) || qe.Param != "filter" {
			t.Fatalf("error %T %q is not a filter *Error", err, err)
		}
		if n != nil {
			t.Fatalf("node along with error %v", err)
		}
		return
	}
	for _, get := range fuzzRecords() {
		n.Match(get)
	}
	n.Paths()
	for _, c := range n.IndexableEq() {
		rest := n.Without(c)
		for _, get := range fuzzRecords() {
			rest.Match(get)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `5`, `{"title":"a"}`, `{"title":{"$foo":1}}`,
		`{"views":{"$gt":1,"$lt":"5"}}`, `{"$or":[{"id":1},{"category":{"name":"news"}}]}`,
		`{"$and":[{"$or":[]},{}]}`, `{"tags":{"$includes":["a",{"b":1}]}}`, `{"meta":{"$eq":{"a":[1,2.5,null]}}}`,
		`{"createdAt":{"$gte":"2024-01-01","$lt":"2024-02-01T00:00:00+02:00"}}`,
		`{"id":{"$in":[1,"2",3.0]}}`, `{"id":{"$notIn":5}}`, `{"views":5.5}`, `{"views":1e400}`,
		`{"rating":"NaN"}`, `{"published":"maybe"}`, `{"title":{"$empty":false}}`,
		`{"category.name":{"$startsWith":"n","$endsWith":"s"}}`, `{"comments.body":"x"}`,
		`{"title":` + strings.Repeat(`{"a":`, 30), `{"a..b":1}`, `{"$and":{}}`, `{"$or":[1]}`,
		`{"id":9223372036854775807}`, `{"id":-9223372036854775809}`, "{\"title\":\"\xff\"}",
		`{"n":{"n":{"n":{"id":{"$lte":"3"}}}}}`, `{"tags":[1,[2,[3]]]}`, `{"views":[1,"2"]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	s := newTestSchema()
	f.Fuzz(func(t *testing.T, raw []byte) {
		n, err := ParseFilter(raw, s)
		checkFilterResult(t, n, err)
	})
}

func FuzzParseBracket(f *testing.F) {
	seeds := []string{
		"", "filter[title]=abc", "filter[views][$gt]=5", "filter[$and][0][id]=1&filter[$and][1][views]=2",
		"filter[id][$in][]=1&filter[id][$in][]=x", "filter[a", "filter[a]b", "filter[]=1", "filter[a]=1&filter[a][b]=2",
		"filter[a][0]=1&filter[a][x]=2", "filter[$or][9999999][id]=1", "filter[category][name]=news",
		"filter[id]=1&filter[id]=2", "filter[a][][b]=1&filter[a][][c]=2", "filter" + strings.Repeat("[n]", 40) + "=1",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s := newTestSchema()
	f.Fuzz(func(t *testing.T, query string) {
		v, err := ParseBracket("filter", args(query))
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || qe.Param != "filter" {
				t.Fatalf("error %T %q is not a filter *Error", err, err)
			}
			return
		}
		n, err := ParseFilterValue(v, s)
		checkFilterResult(t, n, err)
	})
}

func FuzzParsePage(f *testing.F) {
	seeds := []struct {
		page, size string
		max        int
	}{
		{"", "", 1000}, {"1", "20", 1000}, {"0", "-1", 1000}, {"abc", "1e3", 1000},
		{"1000000", "1000", 1000}, {"1000001", "1001", 1000}, {" 7 ", "007", 10}, {"", "", 0}, {"", "", -5},
		{"99999999999999999999", "", 1 << 62},
	}
	for _, s := range seeds {
		f.Add(s.page, s.size, s.max)
	}
	f.Fuzz(func(t *testing.T, page, size string, max int) {
		p, err := ParsePage(page, size, max)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || (qe.Param != "page" && qe.Param != "pageSize") {
				t.Fatalf("error %T %q is not a page *Error", err, err)
			}
			return
		}
		limit := max
		if limit < 1 {
			limit = DefaultMaxPageSize
		}
		if p.Page < 1 || p.Page > MaxPage || p.PageSize < 1 || p.PageSize > limit {
			t.Fatalf("ParsePage(%q, %q, %d) = %+v out of range", page, size, max, p)
		}
		if p.Offset() < 0 || p.TotalPage(p.Offset()+1) < 1 {
			t.Fatalf("bad offset/total for %+v", p)
		}
	})
}
