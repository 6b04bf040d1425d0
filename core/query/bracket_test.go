package query

import (
	"encoding/json"
	"strings"
	"testing"
)

// args builds (key, value) pairs from "k=v&k=v" (no URL decoding needed in these tests).
func args(q string) [][2]string {
	var out [][2]string
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

func TestParseBracket(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string // JSON of the result
	}{
		{"none", "", "null"},
		{"other params only", "page=2&sort=-id&filter=%7B%7D&filters[a]=1", "null"},
		{"one key", "filter[title]=abc", `{"title":"abc"}`},
		{"operator", "filter[views][$gt]=5", `{"views":{"$gt":"5"}}`},
		{"two operators", "filter[views][$gt]=5&filter[views][$lt]=9", `{"views":{"$gt":"5","$lt":"9"}}`},
		{"$and with indices", "filter[$and][0][a]=1&filter[$and][1][b]=2", `{"$and":[{"a":"1"},{"b":"2"}]}`},
		{"indices order elements", "filter[$or][1][b]=2&filter[$or][0][a]=1", `{"$or":[{"a":"1"},{"b":"2"}]}`},
		{"index gaps close up", "filter[$or][0][a]=1&filter[$or][5][b]=2", `{"$or":[{"a":"1"},{"b":"2"}]}`},
		{"same index merges", "filter[$and][0][a]=1&filter[$and][0][b]=2", `{"$and":[{"a":"1","b":"2"}]}`},
		{"append", "filter[id][$in][]=1&filter[id][$in][]=2", `{"id":{"$in":["1","2"]}}`},
		{"append after index", "filter[id][$in][3]=1&filter[id][$in][]=2", `{"id":{"$in":["1","2"]}}`},
		{"repeated key becomes a list", "filter[id]=1&filter[id]=2&filter[id]=3", `{"id":["1","2","3"]}`},
		{"dotted key", "filter[category.name]=news", `{"category.name":"news"}`},
		{"nested association", "filter[category][name][$eq]=news", `{"category":{"name":{"$eq":"news"}}}`},
		{"numeric key on an object", "filter[a][b]=1&filter[a][0]=2", `{"a":{"0":"2","b":"1"}}`},
		{"numeric key at the top", "filter[0]=x", `{"0":"x"}`},
		{"empty value", "filter[title][$empty]=", `{"title":{"$empty":""}}`},
		{"value with brackets", "filter[title]=a[b]", `{"title":"a[b]"}`},
		{"mixed with others", "page=1&filter[a]=1&sort=id&filter[b]=2", `{"a":"1","b":"2"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBracket("filter", args(tt.query))
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("ParseBracket = %s, want %s", b, tt.want)
			}
		})
	}
}

func TestParseBracketErrors(t *testing.T) {
	tests := []struct {
		name  string
		query string
		parts []string
	}{
		{"unclosed", "filter[a", []string{`malformed key "filter[a"`}},
		{"junk after bracket", "filter[a]b", []string{`"filter[a]b"`}},
		{"bracket in segment", "filter[a[b]]", []string{`"filter[a[b]]"`}},
		{"extra closing", "filter[a]]", []string{`"filter[a]]"`}},
		{"append at the top", "filter[]=1", []string{`"filter[]"`, "[]"}},
		{"append on an object", "filter[a][b]=1&filter[a][]=2", []string{`"filter[a][]"`}},
		{"value then container", "filter[a]=1&filter[a][b]=2", []string{`"filter[a][b]"`, "both"}},
		{"container then value", "filter[a][b]=1&filter[a]=2", []string{`"filter[a]"`, "both"}},
		{"key in an array", "filter[a][0]=1&filter[a][x]=2", []string{`"filter[a][x]"`, `"x"`}},
		{"index too large", "filter[a][0]=1&filter[a][99999999]=2", []string{`"filter[a][99999999]"`}},
		{"too deep", "filter" + strings.Repeat("[a]", MaxBracketDepth+1) + "=1", []string{"nested too deeply"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBracket("filter", args(tt.query))
			if got != nil {
				t.Errorf("got %v along with the error", got)
			}
			wantError(t, err, "filter", tt.parts...)
		})
	}
}

// TestParseBracketToFilter goes from a query string to a match, the way core uses the package.
func TestParseBracketToFilter(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  [3]bool
	}{
		{"string eq", "filter[title]=Hello World", [3]bool{true, false, false}},
		{"integer from string", "filter[views][$gte]=0", [3]bool{true, true, false}},
		{"repeated key is $in", "filter[id]=1&filter[id]=3", [3]bool{true, false, true}},
		{"$in list", "filter[id][$in][]=2&filter[id][$in][]=3", [3]bool{false, true, true}},
		{"$or", "filter[$or][0][id]=1&filter[$or][1][published]=false", [3]bool{true, true, false}},
		{"nested association", "filter[category][name]=news", [3]bool{true, false, false}},
		{"$empty", "filter[title][$empty]=true", [3]bool{false, true, true}},
		{"date", "filter[createdAt][$lt]=2024-01-01", [3]bool{false, true, false}},
	}
	recs := sampleRecords()
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseBracket("filter", args(tt.query))
			if err != nil {
				t.Fatal(err)
			}
			n, err := ParseFilterValue(v, s)
			if err != nil {
				t.Fatal(err)
			}
			for i, rec := range recs {
				if got := n.Match(recordGetter(rec)); got != tt.want[i] {
					t.Errorf("record %d: Match = %v, want %v", i+1, got, tt.want[i])
				}
			}
		})
	}
}
