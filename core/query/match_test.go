package query

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestMatch evaluates each filter on the three sample records: r1 is full, r2 holds zero
// values (empty string, 0, false, empty json, null category), r3 holds only its id.
func TestMatch(t *testing.T) {
	recs := sampleRecords()
	tests := []struct {
		name   string
		filter string
		want   [3]bool
	}{
		// string
		{"string bare eq", `{"title":"Hello World"}`, [3]bool{true, false, false}},
		{"string $eq", `{"title":{"$eq":"Hello World"}}`, [3]bool{true, false, false}},
		{"string $eq is case-sensitive", `{"title":{"$eq":"hello world"}}`, [3]bool{false, false, false}},
		{"string $ne", `{"title":{"$ne":"Hello World"}}`, [3]bool{false, true, true}},
		{"string $gt", `{"title":{"$gt":"A"}}`, [3]bool{true, false, false}},
		{"string $gte", `{"title":{"$gte":"Hello World"}}`, [3]bool{true, false, false}},
		{"string $lt", `{"title":{"$lt":"Hello"}}`, [3]bool{false, true, false}},
		{"string $lte", `{"title":{"$lte":""}}`, [3]bool{false, true, false}},
		{"string $in", `{"title":{"$in":["x","Hello World"]}}`, [3]bool{true, false, false}},
		{"string $in with null", `{"title":{"$in":[null,"Hello World"]}}`, [3]bool{true, false, true}},
		{"string $in empty", `{"title":{"$in":[]}}`, [3]bool{false, false, false}},
		{"string $notIn", `{"title":{"$notIn":["Hello World"]}}`, [3]bool{false, true, true}},
		{"string $notIn empty", `{"title":{"$notIn":[]}}`, [3]bool{true, true, true}},
		{"string $includes", `{"title":{"$includes":"o W"}}`, [3]bool{true, false, false}},
		{"string $includes ignores case", `{"title":{"$includes":"o w"}}`, [3]bool{true, false, false}},
		{"string $includes empty operand", `{"title":{"$includes":""}}`, [3]bool{true, true, false}},
		{"string $notIncludes", `{"title":{"$notIncludes":"World"}}`, [3]bool{false, true, true}},
		{"string $startsWith", `{"title":{"$startsWith":"Hello"}}`, [3]bool{true, false, false}},
		{"string $startsWith ignores case", `{"title":{"$startsWith":"hello"}}`, [3]bool{true, false, false}},
		{"string $endsWith ignores case", `{"title":{"$endsWith":"WORLD"}}`, [3]bool{true, false, false}},
		{"string $startsWith empty", `{"title":{"$startsWith":""}}`, [3]bool{true, true, false}},
		{"string $endsWith", `{"title":{"$endsWith":"World"}}`, [3]bool{true, false, false}},
		{"string $empty", `{"title":{"$empty":true}}`, [3]bool{false, true, true}},
		{"string $notEmpty", `{"title":{"$notEmpty":true}}`, [3]bool{true, false, false}},
		{"string $eq null", `{"title":null}`, [3]bool{false, false, true}},
		{"string $ne null", `{"title":{"$ne":null}}`, [3]bool{true, true, false}},

		// integer
		{"integer bare eq", `{"views":10}`, [3]bool{true, false, false}},
		{"integer eq from string", `{"views":"10"}`, [3]bool{true, false, false}},
		{"integer eq from 10.0", `{"views":10.0}`, [3]bool{true, false, false}},
		{"integer eq zero", `{"views":0}`, [3]bool{false, true, false}},
		{"integer $ne", `{"views":{"$ne":10}}`, [3]bool{false, true, true}},
		{"integer $gt", `{"views":{"$gt":5}}`, [3]bool{true, false, false}},
		{"integer $gt from string", `{"views":{"$gt":"5"}}`, [3]bool{true, false, false}},
		{"integer $gte", `{"views":{"$gte":10}}`, [3]bool{true, false, false}},
		{"integer $lt", `{"views":{"$lt":10}}`, [3]bool{false, true, false}},
		{"integer $lte", `{"views":{"$lte":0}}`, [3]bool{false, true, false}},
		{"integer range", `{"views":{"$gt":0,"$lt":11}}`, [3]bool{true, false, false}},
		{"integer $in", `{"views":{"$in":[0,10]}}`, [3]bool{true, true, false}},
		{"integer bare array is $in", `{"views":[0,"10"]}`, [3]bool{true, true, false}},
		{"integer $notIn", `{"views":{"$notIn":[0]}}`, [3]bool{true, false, true}},
		{"integer $empty", `{"views":{"$empty":true}}`, [3]bool{false, false, true}},
		{"integer $notEmpty zero is not empty", `{"views":{"$notEmpty":true}}`, [3]bool{true, true, false}},

		// float
		{"float bare eq", `{"rating":4.5}`, [3]bool{true, false, false}},
		{"float eq integer operand", `{"rating":2}`, [3]bool{false, true, false}},
		{"float eq from string", `{"rating":"4.5"}`, [3]bool{true, false, false}},
		{"float $ne", `{"rating":{"$ne":4.5}}`, [3]bool{false, true, true}},
		{"float $gt", `{"rating":{"$gt":2}}`, [3]bool{true, false, false}},
		{"float $gte", `{"rating":{"$gte":2}}`, [3]bool{true, true, false}},
		{"float $lt", `{"rating":{"$lt":4.5}}`, [3]bool{false, true, false}},
		{"float $lte", `{"rating":{"$lte":"4.5"}}`, [3]bool{true, true, false}},
		{"float $in", `{"rating":{"$in":[2,4.5]}}`, [3]bool{true, true, false}},
		{"float $notIn", `{"rating":{"$notIn":[2.0]}}`, [3]bool{true, false, true}},
		{"float $empty", `{"rating":{"$empty":true}}`, [3]bool{false, false, true}},

		// boolean
		{"bool bare eq", `{"published":true}`, [3]bool{true, false, false}},
		{"bool eq from string", `{"published":"false"}`, [3]bool{false, true, false}},
		{"bool $ne", `{"published":{"$ne":true}}`, [3]bool{false, true, true}},
		{"bool $gt", `{"published":{"$gt":false}}`, [3]bool{true, false, false}},
		{"bool $gte", `{"published":{"$gte":false}}`, [3]bool{true, true, false}},
		{"bool $lt", `{"published":{"$lt":true}}`, [3]bool{false, true, false}},
		{"bool $lte", `{"published":{"$lte":true}}`, [3]bool{true, true, false}},
		{"bool $in", `{"published":{"$in":[true,false]}}`, [3]bool{true, true, false}},
		{"bool $notIn", `{"published":{"$notIn":[true]}}`, [3]bool{false, true, true}},
		{"bool $empty", `{"published":{"$empty":true}}`, [3]bool{false, false, true}},
		{"bool $notEmpty false is not empty", `{"published":{"$notEmpty":true}}`, [3]bool{true, true, false}},

		// date
		{"date eq same instant other form", `{"createdAt":"2024-01-15T10:00:00Z"}`, [3]bool{true, false, false}},
		{"date eq other zone", `{"createdAt":"2024-01-15T11:00:00+01:00"}`, [3]bool{true, false, false}},
		{"date eq bare date is midnight", `{"createdAt":"2023-06-01"}`, [3]bool{false, true, false}},
		{"date $ne", `{"createdAt":{"$ne":"2024-01-15T10:00:00.000Z"}}`, [3]bool{false, true, true}},
		{"date $gt", `{"createdAt":{"$gt":"2024-01-01"}}`, [3]bool{true, false, false}},
		{"date $gte", `{"createdAt":{"$gte":"2023-06-01"}}`, [3]bool{true, true, false}},
		{"date $lt", `{"createdAt":{"$lt":"2024-01-01"}}`, [3]bool{false, true, false}},
		{"date $lte", `{"createdAt":{"$lte":"2023-06-01T00:00:00.000Z"}}`, [3]bool{false, true, false}},
		{"date $gte zone-less with space", `{"createdAt":{"$gte":"2024-01-15 10:00:00"}}`, [3]bool{true, false, false}},
		{"date $gt sub-millisecond", `{"createdAt":{"$gt":"2024-01-15T09:59:59.9999Z"}}`, [3]bool{true, false, false}},
		{"date $in", `{"createdAt":{"$in":["2023-06-01","2020-01-01"]}}`, [3]bool{false, true, false}},
		{"date $notIn", `{"createdAt":{"$notIn":["2023-06-01"]}}`, [3]bool{true, false, true}},
		{"date $empty", `{"createdAt":{"$empty":true}}`, [3]bool{false, false, true}},

		// json
		{"json array $includes string", `{"tags":{"$includes":"go"}}`, [3]bool{true, false, false}},
		{"json array $includes number", `{"tags":{"$includes":7}}`, [3]bool{true, false, false}},
		{"json array $includes 7.0", `{"tags":{"$includes":7.0}}`, [3]bool{true, false, false}},
		{"json array $includes string 7 is not 7", `{"tags":{"$includes":"7"}}`, [3]bool{false, false, false}},
		{"json array $notIncludes", `{"tags":{"$notIncludes":"go"}}`, [3]bool{false, true, true}},
		{"json array $empty", `{"tags":{"$empty":true}}`, [3]bool{false, true, true}},
		{"json array $notEmpty", `{"tags":{"$notEmpty":true}}`, [3]bool{true, false, false}},
		{"json bare array is deep $eq", `{"tags":["go","db",7]}`, [3]bool{true, false, false}},
		{"json array $eq order matters", `{"tags":{"$eq":["db","go",7]}}`, [3]bool{false, false, false}},
		{"json $eq empty array", `{"tags":{"$eq":[]}}`, [3]bool{false, true, false}},
		{"json $ne array", `{"tags":{"$ne":[]}}`, [3]bool{true, false, true}},
		{"json object $eq", `{"meta":{"$eq":{"size":3,"color":"red"}}}`, [3]bool{true, false, false}},
		{"json object $eq missing key", `{"meta":{"$eq":{"color":"red"}}}`, [3]bool{false, false, false}},
		{"json object $empty", `{"meta":{"$empty":true}}`, [3]bool{false, true, true}},
		{"json $in of objects", `{"meta":{"$in":[{},{"a":1}]}}`, [3]bool{false, true, false}},
		{"json subpath eq", `{"meta.color":"red"}`, [3]bool{true, false, false}},
		{"json subpath $gt number", `{"meta.size":{"$gt":2}}`, [3]bool{true, false, false}},
		{"json subpath $gt string does not compare with number", `{"meta.size":{"$gt":"2"}}`, [3]bool{false, false, false}},
		{"json subpath $startsWith", `{"meta.color":{"$startsWith":"r"}}`, [3]bool{true, false, false}},
		{"json subpath $endsWith", `{"meta.color":{"$endsWith":"ed"}}`, [3]bool{true, false, false}},
		{"json subpath $includes substring", `{"meta.color":{"$includes":"e"}}`, [3]bool{true, false, false}},
		{"json subpath $in", `{"meta.color":{"$in":["blue","red"]}}`, [3]bool{true, false, false}},
		{"json subpath $notIn", `{"meta.color":{"$notIn":["red"]}}`, [3]bool{false, true, true}},
		{"json subpath $lte", `{"meta.size":{"$lte":3.0}}`, [3]bool{true, false, false}},
		{"json $eq null", `{"meta.color":null}`, [3]bool{false, true, true}},

		// dotted paths and nesting
		{"dotted path", `{"category.name":"news"}`, [3]bool{true, false, false}},
		{"nested association form", `{"category":{"name":"news"}}`, [3]bool{true, false, false}},
		{"nested association with operator", `{"category":{"name":{"$ne":"news"}}}`, [3]bool{false, true, true}},
		{"nested two levels", `{"category":{"parent":{"id":9}}}`, [3]bool{true, false, false}},
		{"nested prefix with dotted key", `{"category":{"parent.id":{"$gte":9}}}`, [3]bool{true, false, false}},
		{"dotted createdBy", `{"createdBy.email":{"$endsWith":"@example.com"}}`, [3]bool{true, false, false}},
		{"$or under a prefix", `{"category":{"$or":[{"name":"news"},{"id":2}]}}`, [3]bool{true, false, false}},
		{"$or under a field", `{"views":{"$or":[{"$lt":1},{"$gt":9}]}}`, [3]bool{true, true, false}},

		// logic
		{"several fields are $and", `{"views":10,"published":true}`, [3]bool{true, false, false}},
		{"several fields one fails", `{"views":10,"published":false}`, [3]bool{false, false, false}},
		{"$or", `{"$or":[{"views":0},{"title":"Hello World"}]}`, [3]bool{true, true, false}},
		{"$and", `{"$and":[{"views":{"$gte":0}},{"published":false}]}`, [3]bool{false, true, false}},
		{"$and with sibling field", `{"$and":[{"views":{"$gte":0}}],"id":2}`, [3]bool{false, true, false}},
		{"$or nested in $and", `{"$and":[{"$or":[{"id":1},{"id":3}]},{"views":{"$ne":0}}]}`, [3]bool{true, false, true}},
		{"$and nested in $or", `{"$or":[{"$and":[{"views":10},{"published":true}]},{"id":3}]}`, [3]bool{true, false, true}},
		{"$or of nothing", `{"$or":[]}`, [3]bool{false, false, false}},
		{"$and of nothing", `{"$and":[]}`, [3]bool{true, true, true}},
		{"$or with an empty element", `{"$or":[{},{"views":1}]}`, [3]bool{true, true, true}},
		{"empty field object", `{"title":{}}`, [3]bool{true, true, true}},
		{"empty filter", `{}`, [3]bool{true, true, true}},
		{"null filter", `null`, [3]bool{true, true, true}},
		{"blank filter", "  \n", [3]bool{true, true, true}},
		{"large int exact", `{"id":{"$lt":9007199254740993}}`, [3]bool{true, true, true}},
	}
	s := newTestSchema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter([]byte(tt.filter), s)
			if err != nil {
				t.Fatalf("ParseFilter(%s): %v", tt.filter, err)
			}
			for i, rec := range recs {
				if got := n.Match(recordGetter(rec)); got != tt.want[i] {
					t.Errorf("record %d: Match = %v, want %v", i+1, got, tt.want[i])
				}
			}
		})
	}
}

// TestMatchValues exercises the comparison rules on record values core may hand over, beyond
// the sample records: mixed number types, exact int/float comparison, stored dates.
func TestMatchValues(t *testing.T) {
	day := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		op     Op
		record any
		value  any
		want   bool
	}{
		{"int64 eq float64", OpEq, int64(3), 3.0, true},
		{"float64 eq int64", OpEq, 3.0, int64(3), true},
		{"int eq int64", OpEq, 3, int64(3), true},
		{"huge uint64 gt max int64", OpGt, uint64(math.MaxUint64), int64(math.MaxInt64), true},
		{"uint32 eq", OpEq, uint32(7), 7.0, true},
		{"float32 lt", OpLt, float32(1.5), int64(2), true},
		{"float64 ne int64 fraction", OpEq, 3.5, int64(3), false},
		{"huge int vs float exact", OpEq, int64(1<<53 + 1), float64(1 << 53), false},
		{"huge int gt float", OpGt, int64(1<<53 + 1), float64(1 << 53), true},
		{"int lt huge float", OpLt, int64(math.MaxInt64), 1e19, true},
		{"int gt very negative float", OpGt, int64(math.MinInt64), -1e19, true},
		{"int gt float fraction", OpGt, int64(3), 2.5, true},
		{"int lt float fraction", OpLt, int64(-3), -2.5, true},
		{"negative fraction", OpGt, int64(-2), -2.5, true},
		{"NaN record never matches", OpEq, math.NaN(), 1.0, false},
		{"NaN record not ordered", OpLt, math.NaN(), 1.0, false},
		{"string vs number not equal", OpEq, "3", int64(3), false},
		{"number vs string not ordered", OpGt, int64(3), "1", false},
		{"bool vs string", OpEq, true, "true", false},
		{"date string eq", OpEq, "2024-01-15T10:00:00.000Z", day, true},
		{"date time.Time eq", OpEq, day, day, true},
		{"bad stored date", OpEq, "not a date", day, false},
		{"bad stored date not ordered", OpLt, "not a date", day, false},
		{"date number not ordered", OpGt, int64(5), day, false},
		{"missing $gt", OpGt, nil, int64(1), false},
		{"missing $gte", OpGte, nil, int64(1), false},
		{"missing $lt", OpLt, nil, int64(1), false},
		{"missing $lte", OpLte, nil, int64(1), false},
		{"missing $eq", OpEq, nil, int64(1), false},
		{"missing $ne", OpNe, nil, int64(1), true},
		{"missing $in", OpIn, nil, []any{int64(1)}, false},
		{"missing $notIn", OpNotIn, nil, []any{int64(1)}, true},
		{"missing $includes", OpIncludes, nil, "a", false},
		{"missing $notIncludes", OpNotIncludes, nil, "a", true},
		{"missing $startsWith", OpStartsWith, nil, "a", false},
		{"missing $endsWith", OpEndsWith, nil, "a", false},
		{"missing $empty", OpEmpty, nil, nil, true},
		{"missing $notEmpty", OpNotEmpty, nil, nil, false},
		{"$startsWith on number", OpStartsWith, int64(12), "1", false},
		{"$includes on object", OpIncludes, map[string]any{"a": "b"}, "a", false},
		{"$includes deep element", OpIncludes, []any{map[string]any{"a": int64(1)}}, map[string]any{"a": 1.0}, true},
		{"nested array eq", OpEq, []any{[]any{int64(1)}}, []any{[]any{1.0}}, true},
		{"unknown op", Op("$nope"), "a", "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &Node{Op: tt.op, Path: "x", Value: tt.value}
			get := func(path string) (any, bool) {
				if path != "x" {
					t.Errorf("read path %q, want x", path)
				}
				return tt.record, tt.record != nil
			}
			if got := n.Match(get); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchNilCases(t *testing.T) {
	tests := []struct {
		name string
		node *Node
		get  Getter
		want bool
	}{
		{"nil node matches", nil, recordGetter(map[string]any{}), true},
		{"nil getter reads missing", &Node{Op: OpEmpty, Path: "a"}, nil, true},
		{"nil getter $eq", &Node{Op: OpEq, Path: "a", Value: "x"}, nil, false},
		{"nil child in $and", &Node{Op: OpAnd, Children: []*Node{nil}}, nil, true},
		{"$or without children", &Node{Op: OpOr}, nil, false},
		{"$and without children", &Node{Op: OpAnd}, nil, true},
		{"$in with a non-list value", &Node{Op: OpIn, Path: "a", Value: "x"}, recordGetter(map[string]any{"a": "x"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.node.Match(tt.get); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	s := newTestSchema()
	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"none", `{}`, nil},
		{"one", `{"title":"a"}`, []string{"title"}},
		{"distinct in order", `{"$or":[{"title":"a"},{"views":1}],"category":{"name":"x"},"title":{"$ne":"b"}}`, []string{"title", "views", "category.name"}},
		{"same path twice", `{"views":{"$gt":1,"$lt":5}}`, []string{"views"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter([]byte(tt.filter), s)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Paths(); fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
				t.Errorf("Paths = %q, want %q", got, tt.want)
			}
		})
	}
}
