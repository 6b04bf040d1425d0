package query

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseFilterTree checks the compiled tree: flattening, collapsing and key order.
func TestParseFilterTree(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   *Node
	}{
		{"empty input", ``, nil},
		{"empty object", `{}`, nil},
		{"null", `null`, nil},
		{"bare value", `{"title":"a"}`, &Node{Op: OpEq, Path: "title", Value: "a"}},
		{"bare null", `{"title":null}`, &Node{Op: OpEq, Path: "title"}},
		{"bare array on integer is $in", `{"views":[1,"2"]}`, &Node{Op: OpIn, Path: "views", Value: []any{int64(1), int64(2)}}},
		{"bare array on json is $eq", `{"tags":[1,"2"]}`, &Node{Op: OpEq, Path: "tags", Value: []any{int64(1), "2"}}},
		{"nested association", `{"category":{"name":"news"}}`, &Node{Op: OpEq, Path: "category.name", Value: "news"}},
		{"two operators", `{"views":{"$lt":5,"$gt":1}}`, &Node{Op: OpAnd, Children: []*Node{
			{Op: OpGt, Path: "views", Value: int64(1)},
			{Op: OpLt, Path: "views", Value: int64(5)},
		}}},
		{"flattened $and", `{"$and":[{"id":1},{"$and":[{"views":2},{"title":"t"}]}],"status":"s"}`, &Node{Op: OpAnd, Children: []*Node{
			{Op: OpEq, Path: "id", Value: int64(1)},
			{Op: OpEq, Path: "views", Value: int64(2)},
			{Op: OpEq, Path: "title", Value: "t"},
			{Op: OpEq, Path: "status", Value: "s"},
		}}},
		{"single element $or collapses", `{"$or":[{"id":1}]}`, &Node{Op: OpEq, Path: "id", Value: int64(1)}},
		{"nested $or flattened", `{"$or":[{"id":1},{"$or":[{"id":2},{"id":3}]}]}`, &Node{Op: OpOr, Children: []*Node{
			{Op: OpEq, Path: "id", Value: int64(1)},
			{Op: OpEq, Path: "id", Value: int64(2)},
			{Op: OpEq, Path: "id", Value: int64(3)},
		}}},
		{"$or of nothing", `{"$or":[]}`, &Node{Op: OpOr}},
		{"$and of nothing", `{"$and":[]}`, nil},
		{"$or with an empty element is true", `{"$or":[{"id":1},{}]}`, nil},
		{"$empty has no value", `{"title":{"$empty":true}}`, &Node{Op: OpEmpty, Path: "title"}},
		{"$notEmpty any operand", `{"title":{"$notEmpty":""}}`, &Node{Op: OpNotEmpty, Path: "title"}},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilter([]byte(tt.filter), s)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(n *Node) string {
	if n == nil {
		return "<nil>"
	}
	if n.Op == OpAnd || n.Op == OpOr {
		parts := make([]string, len(n.Children))
		for i, c := range n.Children {
			parts[i] = dump(c)
		}
		return string(n.Op) + "(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("%s %s %#v", n.Path, n.Op, n.Value)
}

// TestParseFilterCoercion checks the Value each operand becomes.
func TestParseFilterCoercion(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   any
	}{
		{"integer from number", `{"views":5}`, int64(5)},
		{"integer from string", `{"views":"5"}`, int64(5)},
		{"integer from negative string", `{"views":"-5"}`, int64(-5)},
		{"integer from 5.0", `{"views":5.0}`, int64(5)},
		{"integer from \"5.0\"", `{"views":"5.0"}`, int64(5)},
		{"integer from exponent", `{"views":1e3}`, int64(1000)},
		{"integer beyond 2^53 exact", `{"views":9007199254740993}`, int64(9007199254740993)},
		{"integer max", `{"views":"9223372036854775807"}`, int64(9223372036854775807)},
		{"float from number", `{"rating":1.5}`, 1.5},
		{"float from integer", `{"rating":2}`, 2.0},
		{"float from string", `{"rating":"-0.25"}`, -0.25},
		{"bool from bool", `{"published":false}`, false},
		{"bool from string true", `{"published":"true"}`, true},
		{"bool from string 0", `{"published":"0"}`, false},
		{"string keeps text", `{"title":"5"}`, "5"},
		{"date to UTC", `{"createdAt":"2024-01-15T11:00:00+01:00"}`, time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)},
		{"date with fraction", `{"createdAt":"2024-01-15T10:00:00.123Z"}`, time.Date(2024, 1, 15, 10, 0, 0, 123e6, time.UTC)},
		{"bare date", `{"createdAt":"2024-01-15"}`, time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"zone-less date-time", `{"createdAt":"2024-01-15T10:30:00"}`, time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{"space date-time", `{"createdAt":"2024-01-15 10:30:00.5"}`, time.Date(2024, 1, 15, 10, 30, 0, 5e8, time.UTC)},
		{"json number int", `{"meta":{"$eq":3}}`, int64(3)},
		{"json number float", `{"meta":{"$eq":3.5}}`, 3.5},
		{"json string stays string", `{"meta":{"$eq":"3"}}`, "3"},
		{"json object normalized", `{"meta":{"$eq":{"a":[1,2.5,{"b":null}]}}}`, map[string]any{"a": []any{int64(1), 2.5, map[string]any{"b": nil}}}},
		{"$in coerced", `{"views":{"$in":["1",2,3.0,null]}}`, []any{int64(1), int64(2), int64(3), nil}},
		{"$notIn dates", `{"createdAt":{"$notIn":["2024-01-15"]}}`, []any{time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)}},
		{"$includes json object", `{"tags":{"$includes":{"a":1}}}`, map[string]any{"a": int64(1)}},
		{"$includes json null", `{"tags":{"$includes":null}}`, nil},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter([]byte(tt.filter), s)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if n == nil || n.Children != nil {
				t.Fatalf("got %s, want one condition", dump(n))
			}
			if !reflect.DeepEqual(n.Value, tt.want) {
				t.Errorf("Value = %#v, want %#v", n.Value, tt.want)
			}
			if tm, ok := n.Value.(time.Time); ok && tm.Location() != time.UTC {
				t.Errorf("date in %v, want UTC", tm.Location())
			}
		})
	}
}

// TestParseFilterErrors checks every refusal: the error is an *Error for "filter" whose
// message names the path and/or operator at fault.
func TestParseFilterErrors(t *testing.T) {
	deep := func(levels int) string {
		return strings.Repeat(`{"n":`, levels-1) + `{"id":1}` + strings.Repeat(`}`, levels-1)
	}
	manyFields := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"f%d":1`, i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	manyValues := func(n int) string {
		return `{"id":{"$in":[` + strings.TrimSuffix(strings.Repeat("1,", n), ",") + `]}}`
	}
	tests := []struct {
		name   string
		filter string
		parts  []string
	}{
		{"invalid JSON", `{"title":`, []string{"invalid JSON"}},
		{"invalid JSON token", `{title:1}`, []string{"invalid JSON"}},
		{"trailing data", `{"title":"a"} x`, []string{"invalid JSON", "after"}},
		{"two objects", `{}{}`, []string{"invalid JSON"}},
		{"not an object", `[{"title":"a"}]`, []string{"must be a JSON object", "an array"}},
		{"a string", `"title"`, []string{"must be a JSON object"}},
		{"unknown operator", `{"title":{"$foo":1}}`, []string{`unknown operator "$foo" at "title"`}},
		{"unknown operator nested", `{"category":{"name":{"$like":"x"}}}`, []string{`"$like"`, `"category.name"`}},
		{"unknown operator at top", `{"$foo":1}`, []string{`unknown operator "$foo"`}},
		{"operator without field", `{"$eq":1}`, []string{`"$eq"`, "needs a field"}},
		{"unknown field", `{"nope":1}`, []string{`"nope"`}},
		{"unknown nested field", `{"category":{"nope":1}}`, []string{`"category.nope"`}},
		{"unknown field inside $or", `{"$or":[{"title":"a"},{"nope":1}]}`, []string{`"nope"`}},
		{"to-many path", `{"comments.body":"x"}`, []string{`"comments.body"`, "to-many"}},
		{"empty path segment", `{"category..name":"x"}`, []string{`invalid field path "category..name"`}},
		{"empty key", `{"":"x"}`, []string{"invalid field path"}},
		{"trailing dot", `{"category.":"x"}`, []string{`"category."`}},
		{"integer from text", `{"views":"abc"}`, []string{`$eq`, `"views"`, "integer", `"abc"`}},
		{"integer from fraction", `{"views":5.5}`, []string{`"views"`, "integer", "5.5"}},
		{"integer from fraction string", `{"views":{"$gt":"5.5"}}`, []string{`$gt`, `"views"`, "integer"}},
		{"integer overflow", `{"views":"9223372036854775808"}`, []string{`"views"`, "integer"}},
		{"integer overflow number", `{"views":1e30}`, []string{`"views"`, "integer"}},
		{"integer from bool", `{"views":true}`, []string{`"views"`, "integer", "true"}},
		{"integer from empty string", `{"views":""}`, []string{`"views"`, "integer"}},
		{"float from text", `{"rating":"high"}`, []string{`"rating"`, "number"}},
		{"float NaN string", `{"rating":"NaN"}`, []string{`"rating"`, "number"}},
		{"float Inf string", `{"rating":{"$lt":"Inf"}}`, []string{`$lt`, `"rating"`}},
		{"float overflow", `{"rating":1e400}`, []string{`"rating"`}},
		{"string from number", `{"title":5}`, []string{`"title"`, "a string", "5"}},
		{"string from bool", `{"title":true}`, []string{`"title"`, "a string"}},
		{"bool from text", `{"published":"yes"}`, []string{`"published"`, "boolean", `"yes"`}},
		{"bool from number", `{"published":1}`, []string{`"published"`, "boolean"}},
		{"date from text", `{"createdAt":"yesterday"}`, []string{`"createdAt"`, "date", `"yesterday"`}},
		{"date from number", `{"createdAt":{"$gt":1700000000}}`, []string{`$gt`, `"createdAt"`, "date"}},
		{"date bad month", `{"createdAt":"2024-13-01"}`, []string{`"createdAt"`}},
		{"object for a string", `{"title":{"$eq":{"a":1}}}`, []string{`$eq`, `"title"`, "an object"}},
		{"array for $gt", `{"views":{"$gt":[1]}}`, []string{`$gt`, `"views"`, "an array"}},
		{"object in $in", `{"views":{"$in":[{"a":1}]}}`, []string{`$in`, `"views"`, "an object"}},
		{"object for json $gt", `{"meta":{"$gt":{"a":1}}}`, []string{`$gt`, `"meta"`, "an object"}},
		{"array for json $lt", `{"meta":{"$lt":[]}}`, []string{`$lt`, `"meta"`, "an array"}},
		{"null for $gt", `{"views":{"$gt":null}}`, []string{`$gt`, `"views"`, "null"}},
		{"null for $includes on string", `{"title":{"$includes":null}}`, []string{`$includes`, `"title"`, "null"}},
		{"$in with a non-array", `{"views":{"$in":5}}`, []string{`$in at "views" expects an array`}},
		{"$notIn with a string", `{"title":{"$notIn":"a,b"}}`, []string{`$notIn at "title" expects an array`}},
		{"$in with a bad element", `{"views":{"$in":[1,"x"]}}`, []string{`$in`, `"views"`, `"x"`}},
		{"$in too long", manyValues(MaxInValues + 1), []string{`$in`, `"id"`, "too many"}},
		{"$and with a non-array", `{"$and":{"title":"a"}}`, []string{"$and expects an array"}},
		{"$or with a string", `{"$or":"x"}`, []string{"$or expects an array"}},
		{"$or under a prefix with a non-array", `{"category":{"$or":{}}}`, []string{`$or at "category" expects an array`}},
		{"$and element not an object", `{"$and":[{"id":1},2]}`, []string{"$and", "element 1"}},
		{"$includes on integer", `{"views":{"$includes":1}}`, []string{`$includes`, `"views"`, "integer"}},
		{"$notIncludes on date", `{"createdAt":{"$notIncludes":"2024"}}`, []string{`$notIncludes`, `"createdAt"`}},
		{"$includes number on string", `{"title":{"$includes":5}}`, []string{`$includes`, `"title"`, "a string"}},
		{"$startsWith on date", `{"createdAt":{"$startsWith":"2024"}}`, []string{`$startsWith`, `"createdAt"`, "date"}},
		{"$endsWith on bool", `{"published":{"$endsWith":"e"}}`, []string{`$endsWith`, `"published"`}},
		{"$startsWith a number", `{"title":{"$startsWith":5}}`, []string{`$startsWith`, `"title"`, "a string"}},
		{"$empty false", `{"title":{"$empty":false}}`, []string{`$empty`, `"title"`, "$notEmpty"}},
		{"$empty 0", `{"title":{"$empty":0}}`, []string{`$empty`, `"title"`, "0"}},
		{"$notEmpty \"false\"", `{"title":{"$notEmpty":"false"}}`, []string{`$notEmpty`, `"title"`}},
		{"depth 17", deep(MaxFilterDepth + 1), []string{"nested too deeply", "16"}},
		{"deep $and", strings.Repeat(`{"$and":[`, 20) + `{"id":1}` + strings.Repeat(`]}`, 20), []string{"nested too deeply"}},
		{"deep json value", `{"meta":{"$eq":` + strings.Repeat(`[`, 20) + strings.Repeat(`]`, 20) + `}}`, []string{"nested too deeply", `"meta"`}},
		{"too many nodes", manyFields(MaxFilterNodes), []string{"too many conditions", "256"}},
		{"too many nodes in $or", `{"$or":[` + strings.TrimSuffix(strings.Repeat(`{"id":1},`, MaxFilterNodes+1), ",") + `]}`, []string{"too many conditions"}},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter([]byte(tt.filter), s)
			if n != nil {
				t.Errorf("got node %s along with the error", dump(n))
			}
			wantError(t, err, "filter", tt.parts...)
		})
	}
}

// TestParseFilterLimits checks that the limits are inclusive.
func TestParseFilterLimits(t *testing.T) {
	s := newTestSchema()
	t.Run("depth 16 is fine", func(t *testing.T) {
		f := strings.Repeat(`{"n":`, MaxFilterDepth-1) + `{"id":{"$gt":1}}` + strings.Repeat(`}`, MaxFilterDepth-1)
		if _, err := ParseFilter([]byte(f), s); err == nil {
			t.Fatalf("%d levels with an operator object parsed, want an error", MaxFilterDepth+1)
		}
		f = strings.Repeat(`{"n":`, MaxFilterDepth-1) + `{"id":1}` + strings.Repeat(`}`, MaxFilterDepth-1)
		n, err := ParseFilter([]byte(f), s)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Repeat("n.", MaxFilterDepth-1) + "id"
		if n == nil || n.Path != want || n.Value != int64(1) {
			t.Errorf("got %s, want %s $eq 1", dump(n), want)
		}
	})
	t.Run("256 nodes are fine", func(t *testing.T) {
		parts := make([]string, MaxFilterNodes-1)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"f%d":%d`, i, i)
		}
		n, err := ParseFilter([]byte("{"+strings.Join(parts, ",")+"}"), s)
		if err != nil {
			t.Fatal(err)
		}
		if len(n.Children) != MaxFilterNodes-1 {
			t.Errorf("got %d children, want %d", len(n.Children), MaxFilterNodes-1)
		}
	})
	t.Run("1000 $in values are fine", func(t *testing.T) {
		f := `{"id":{"$in":[` + strings.TrimSuffix(strings.Repeat("7,", MaxInValues), ",") + `]}}`
		n, err := ParseFilter([]byte(f), s)
		if err != nil {
			t.Fatal(err)
		}
		if l := n.Value.([]any); len(l) != MaxInValues {
			t.Errorf("got %d values", len(l))
		}
	})
}

// TestParseFilterValue covers already decoded input: bracket notation (strings), encoding/json
// without UseNumber (float64), Go values.
func TestParseFilterValue(t *testing.T) {
	var fromJSON any
	if err := json.Unmarshal([]byte(`{"views":{"$gte":5},"rating":2.5,"meta":{"$eq":{"n":1}}}`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		in    any
		want  string
		match map[string]any // a record the filter must match, when set
	}{
		{"nil", nil, "<nil>", nil},
		{"empty map", map[string]any{}, "<nil>", nil},
		{"bracket strings", map[string]any{"views": map[string]any{"$gt": "5"}, "published": "true"},
			`$and(published $eq true, views $gt 5)`, map[string]any{"views": int64(6), "published": true}},
		{"bracket $in list", map[string]any{"id": map[string]any{"$in": []any{"1", "2"}}},
			`id $in []interface {}{1, 2}`, map[string]any{"id": int64(2)}},
		{"bracket $and", map[string]any{"$and": []any{map[string]any{"title": "a"}}},
			`title $eq "a"`, map[string]any{"title": "a"}},
		{"encoding/json float64", fromJSON,
			`$and(meta $eq map[string]interface {}{"n":1}, rating $eq 2.5, views $gte 5)`,
			map[string]any{"views": int64(5), "rating": 2.5, "meta": map[string]any{"n": int64(1)}}},
		{"go integers", map[string]any{"views": 7, "rating": int32(2), "id": uint8(1)},
			`$and(id $eq 1, rating $eq 2, views $eq 7)`, map[string]any{"id": int64(1), "rating": 2.0, "views": int64(7)}},
		{"string slice", map[string]any{"title": map[string]any{"$in": []string{"a", "b"}}},
			`title $in []interface {}{"a", "b"}`, map[string]any{"title": "b"}},
		{"json.Number", map[string]any{"views": json.Number("12")}, `views $eq 12`, map[string]any{"views": int64(12)}},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilterValue(tt.in, s)
			if err != nil {
				t.Fatalf("ParseFilterValue: %v", err)
			}
			if got := dump(n); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if tt.match != nil && !n.Match(recordGetter(tt.match)) {
				t.Errorf("does not match %v", tt.match)
			}
		})
	}
}

func TestParseFilterValueErrors(t *testing.T) {
	selfMap := map[string]any{}
	selfMap["n"] = selfMap
	selfList := []any{nil}
	selfList[0] = map[string]any{"$or": selfList}
	selfJSON := []any{nil}
	selfJSON[0] = selfJSON
	tests := []struct {
		name   string
		in     any
		schema Schema
		parts  []string
	}{
		{"not a map", []any{1}, newTestSchema(), []string{"must be a JSON object"}},
		{"a string", "title=a", newTestSchema(), []string{"must be a JSON object", `"title=a"`}},
		{"unsupported type for integer", map[string]any{"views": struct{}{}}, newTestSchema(), []string{`"views"`, "integer"}},
		{"unsupported type for json", map[string]any{"meta": map[string]any{"$eq": struct{}{}}}, newTestSchema(), []string{`"meta"`, "unsupported"}},
		{"NaN for json", map[string]any{"meta": map[string]any{"$eq": math.NaN()}}, newTestSchema(), []string{`"meta"`}},
		{"NaN for float", map[string]any{"rating": math.NaN()}, newTestSchema(), []string{`"rating"`}},
		{"self-referencing map", selfMap, newTestSchema(), []string{"nested too deeply"}},
		{"self-referencing $or", map[string]any{"$or": selfList}, newTestSchema(), []string{"nested too deeply"}},
		{"self-referencing json value", map[string]any{"meta": map[string]any{"$eq": selfJSON}}, newTestSchema(), []string{"nested too deeply"}},
		{"schema kind out of range", map[string]any{"x": 1}, badKindSchema{}, []string{`"x"`, "unsupported"}},
		{"nil schema", map[string]any{"x": 1}, nil, []string{"schema"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilterValue(tt.in, tt.schema)
			if n != nil {
				t.Errorf("got node %s along with the error", dump(n))
			}
			wantError(t, err, "filter", tt.parts...)
		})
	}
}

type badKindSchema struct{}

func (badKindSchema) Resolve(string) (Kind, error) { return Kind(42), nil }

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"with param", &Error{Param: "filter", Message: `unknown operator "$foo" at "title"`}, `filter: unknown operator "$foo" at "title"`},
		{"without param", &Error{Message: "bad"}, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("exact unknown operator message", func(t *testing.T) {
		_, err := ParseFilter([]byte(`{"title":{"$foo":1}}`), newTestSchema())
		if err == nil || err.Error() != `filter: unknown operator "$foo" at "title"` {
			t.Errorf("got %v", err)
		}
	})
	t.Run("long input is cut in messages", func(t *testing.T) {
		long := strings.Repeat("é", 500)
		_, err := ParseFilter([]byte(`{"title":{"$`+long+`":1}}`), newTestSchema())
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("got %d bytes: %v", len(fmt.Sprint(err)), err)
		}
	})
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{KindString, "string"}, {KindInteger, "integer"}, {KindFloat, "float"}, {KindBool, "boolean"},
		{KindDate, "date"}, {KindJSON, "json"}, {Kind(0), "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
