package query_test

import (
	"fmt"
	"strings"

	"github.com/actionflow/actionflow/core/query"
)

// postsSchema is what core provides for a "posts" collection.
type postsSchema map[string]query.Kind

func (s postsSchema) Resolve(path string) (query.Kind, error) {
	if k, ok := s[path]; ok {
		return k, nil
	}
	return 0, fmt.Errorf("posts has no field %q", path)
}

// getter reads a dotted path from a record with its to-one associations loaded.
func getter(rec map[string]any) query.Getter {
	return func(path string) (any, bool) {
		var cur any = rec
		for part := range strings.SplitSeq(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[part]; !ok {
				return nil, false
			}
		}
		return cur, true
	}
}

func ExampleParseFilter() {
	schema := postsSchema{
		"title":         query.KindString,
		"views":         query.KindInteger,
		"category.name": query.KindString,
	}
	filter, err := query.ParseFilter([]byte(`{
		"views": {"$gte": 10},
		"$or": [{"title": {"$includes": "Go"}}, {"category": {"name": "news"}}]
	}`), schema)
	if err != nil {
		fmt.Println(err)
		return
	}
	posts := []map[string]any{
		{"title": "Learning Go", "views": int64(12)},
		{"title": "Weather", "views": int64(50), "category": map[string]any{"name": "news"}},
		{"title": "Go tips", "views": int64(3)},
	}
	for _, p := range posts {
		fmt.Println(p["title"], filter.Match(getter(p)))
	}
	fmt.Println(filter.Paths())

	_, err = query.ParseFilter([]byte(`{"views": "many"}`), schema)
	fmt.Println(err)
	// Output:
	// Learning Go true
	// Weather true
	// Go tips false
	// [title category.name views]
	// filter: invalid $eq value at "views": want an integer, got "many"
}

func ExampleParseBracket() {
	// ?filter[views][$gt]=5&filter[id][$in][]=1&filter[id][$in][]=2
	args := [][2]string{
		{"filter[views][$gt]", "5"},
		{"filter[id][$in][]", "1"},
		{"filter[id][$in][]", "2"},
		{"page", "2"},
	}
	v, err := query.ParseBracket("filter", args)
	fmt.Println(v, err)

	filter, err := query.ParseFilterValue(v, postsSchema{"id": query.KindInteger, "views": query.KindInteger})
	fmt.Println(err)
	fmt.Println(filter.Match(getter(map[string]any{"id": int64(2), "views": int64(6)})))
	// Output:
	// map[id:map[$in:[1 2]] views:map[$gt:5]] <nil>
	// <nil>
	// true
}

func ExampleNode_IndexableEq() {
	schema := postsSchema{"id": query.KindInteger, "status": query.KindString, "views": query.KindInteger}
	filter, _ := query.ParseFilter([]byte(`{"status": "published", "views": {"$gt": 100}}`), schema)
	for _, c := range filter.IndexableEq() {
		// Say status is indexed: look the records up by it, then check what is left.
		rest := filter.Without(c)
		fmt.Println(c.Path, c.Values, rest.Paths())
	}
	// Output:
	// status [published] [views]
}

func ExampleParseSort() {
	schema := postsSchema{"createdAt": query.KindDate, "title": query.KindString}
	keys, err := query.ParseSort([]string{"-createdAt,title"}, schema)
	fmt.Println(keys, err)

	a := getter(map[string]any{"createdAt": "2024-05-01T00:00:00.000Z", "title": "b"})
	b := getter(map[string]any{"createdAt": "2024-05-01T00:00:00.000Z", "title": "a"})
	fmt.Println(query.Compare(keys, a, b))
	// Output:
	// [{createdAt true} {title false}] <nil>
	// 1
}

func ExampleParsePage() {
	p, err := query.ParsePage("3", "50", 1000)
	fmt.Println(p, p.Offset(), p.TotalPage(101), err)
	_, err = query.ParsePage("", "-1", 1000)
	fmt.Println(err)
	// Output:
	// {3 50} 100 3 <nil>
	// pageSize: must be an integer from 1 to 1000, got "-1"
}
