package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestToLuaFromLua(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	type named struct{ A int }
	when := time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"string", "héllo", "héllo"},
		{"bytes", []byte("raw"), "raw"},
		{"bool", true, true},
		{"int", 42, int64(42)},
		{"int8", int8(-3), int64(-3)},
		{"uint64", uint64(7), int64(7)},
		{"float integral", 3.0, int64(3)},
		{"float", 2.5, 2.5},
		{"float32", float32(0.5), 0.5},
		{"json integer", json.Number("12"), int64(12)},
		{"json float", json.Number("1.25"), 1.25},
		{"time", when, "2024-01-02T03:04:05.0000006Z"},
		{"map", map[string]any{"a": 1, "b": "x", "n": nil}, map[string]any{"a": int64(1), "b": "x"}},
		{"array", []any{1, nil, "x"}, []any{int64(1), nil, "x"}},
		{"empty array", []any{}, []any{}},
		{"empty map", map[string]any{}, map[string]any{}},
		{"string slice", []string{"a", "b"}, []any{"a", "b"}},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"typed slice", []float64{1, 1.5}, []any{int64(1), 1.5}},
		{"array of maps", []map[string]any{{"id": 1}}, []any{map[string]any{"id": int64(1)}}},
		{"pointer", &[]int{1}, []any{int64(1)}},
		{"nested", map[string]any{"a": []any{map[string]any{"b": []any{}}}}, map[string]any{"a": []any{map[string]any{"b": []any{}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lv, err := ToLua(L, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FromLua(lv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}

	bad := []struct {
		name  string
		in    any
		limit bool
	}{
		{"func", func() {}, false},
		{"struct", named{1}, false},
		{"int keys", map[int]any{1: 1}, false},
		{"nan", math.NaN(), false},
		{"inf", math.Inf(1), false},
		{"too deep", deepMap(MaxDepth + 1), true},
		{"too many elements", make([]any, MaxElements+1), true},
	}
	for _, tc := range bad {
		t.Run("error "+tc.name, func(t *testing.T) {
			_, err := ToLua(L, tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrLimit) != tc.limit {
				t.Fatalf("ErrLimit = %v, want %v: %v", !tc.limit, tc.limit, err)
			}
		})
	}
	if _, err := ToLua(L, deepMap(MaxDepth-1)); err != nil {
		t.Fatalf("depth %d refused: %v", MaxDepth-1, err)
	}
}

func deepMap(depth int) any {
	var v any = "leaf"
	for i := 0; i < depth; i++ {
		v = map[string]any{"k": v}
	}
	return v
}

func TestFromLuaTables(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	cases := []struct {
		name string
		src  string
		want any
	}{
		{"sequence", `return {10, 20, 30}`, []any{int64(10), int64(20), int64(30)}},
		{"sparse", `return {[1] = "a", [3] = "c"}`, map[string]any{"1": "a", "3": "c"}},
		{"zero index", `return {[0] = "z", [1] = "a"}`, map[string]any{"0": "z", "1": "a"}},
		{"float keys", `return {[1.5] = true}`, map[string]any{"1.5": true}},
		{"integers", `return {a = 2^53, b = -2^63, c = 2^63, d = -0.0, e = 1e300}`,
			map[string]any{"a": int64(1 << 53), "b": int64(math.MinInt64), "c": 9.223372036854775808e18, "d": int64(0), "e": 1e300}},
		{"shared table is fine", `local s = {1} return {a = s, b = s}`, map[string]any{"a": []any{int64(1)}, "b": []any{int64(1)}}},
		{"empty", `return {}`, map[string]any{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := L.DoString(tc.src); err != nil {
				t.Fatal(err)
			}
			got, err := FromLua(L.Get(-1))
			L.Pop(1)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}

	t.Run("marked empty array", func(t *testing.T) {
		tb := L.NewTable()
		MarkArray(L, tb)
		got, err := FromLua(tb)
		if err != nil || !reflect.DeepEqual(got, []any{}) {
			t.Fatalf("got %#v, %v", got, err)
		}
		if !IsArray(tb) {
			t.Fatal("IsArray false")
		}
	})
	t.Run("null sentinel", func(t *testing.T) {
		tb := L.NewTable()
		tb.RawSetInt(1, Null(L))
		tb.RawSetInt(2, lua.LNumber(1))
		got, err := FromLua(tb)
		if err != nil || !reflect.DeepEqual(got, []any{nil, int64(1)}) {
			t.Fatalf("got %#v, %v", got, err)
		}
		if !IsNull(Null(L)) || Null(L) != Null(L) || IsNull(lua.LNil) {
			t.Fatal("null sentinel")
		}
	})

	bad := []struct {
		name  string
		src   string
		want  string
		limit bool
	}{
		{"cycle", `local t = {} t.self = t return t`, "contains itself", false},
		{"indirect cycle", `local a, b = {}, {} a.b = b b.list = {a} return a`, "contains itself", false},
		{"function", `return {f = function() end}`, "function", false},
		{"nan", `return {x = 0/0}`, "NaN", false},
		{"inf", `return {1/0}`, "Inf", false},
		{"boolean key", `return {[true] = 1}`, "boolean key", false},
		{"table key", `return {[{}] = 1}`, "table key", false},
		{"too deep", `local t = {} local c = t for i = 1, 40 do c.n = {} c = c.n end return t`, "deeper", true},
		{"too many", `local t = {} for i = 1, 300000 do t[i] = i end return t`, "elements", true},
	}
	for _, tc := range bad {
		t.Run("error "+tc.name, func(t *testing.T) {
			if err := L.DoString(tc.src); err != nil {
				t.Fatal(err)
			}
			_, err := FromLua(L.Get(-1))
			L.Pop(1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, ErrLimit) != tc.limit {
				t.Fatalf("ErrLimit = %v, want %v", !tc.limit, tc.limit)
			}
		})
	}
}

// FuzzRoundTrip: JSON -> Go -> Lua -> Go -> JSON must keep the data, modulo
// what Lua cannot hold (null object members are dropped, numbers are float64).
func FuzzRoundTrip(f *testing.F) {
	for _, seed := range []string{
		`{"a":1,"b":[1,2,{"c":null}],"d":"x","e":true,"f":[],"g":{}}`,
		`[1,null,3]`,
		`"str"`,
		`null`,
		`-0.5e10`,
		`{"n":9007199254740993,"big":1e300,"neg":-12}`,
		`[[[[[[]]]]]]`,
		`{"":{"":[{"":""}]}}`,
		`{"1":"a","2":"b"}`,
	} {
		f.Add([]byte(seed))
	}
	L := lua.NewState()
	f.Cleanup(L.Close)
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var in any
		if err := dec.Decode(&in); err != nil {
			return
		}
		lv, err := ToLua(L, in)
		if err != nil {
			return // out-of-range numbers, too deep, too large: refused, not crashed
		}
		out, err := FromLua(lv)
		if err != nil {
			t.Fatalf("FromLua(ToLua(%s)): %v", data, err)
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		want := normalize(in)
		got := normalize(out)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %s:\n got %#v\nwant %#v", data, got, want)
		}
	})
}

// normalize makes JSON data comparable with its Lua round trip: numbers
// become float64, null members of objects disappear.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case int64:
		return float64(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if e != nil {
				m[k] = normalize(e)
			}
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = normalize(e)
		}
		return s
	}
	return v
}
