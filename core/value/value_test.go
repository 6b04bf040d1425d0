package value

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want uint64
		ok   bool
	}{
		{"json number", json.Number("7"), 7, true},
		{"integral json number with a fraction", json.Number("7.0"), 7, true},
		{"float64", float64(3), 3, true},
		{"int64", int64(5), 5, true},
		{"int", 9, 9, true},
		{"string", "12", 12, true},
		{"largest safe integer", json.Number("9007199254740991"), MaxSafeInt, true},
		{"beyond the safe integers", json.Number("9007199254740992"), 0, false},
		{"zero", int64(0), 0, false},
		{"negative", float64(-1), 0, false},
		{"fraction", 1.5, 0, false},
		{"string with junk", "12abc", 0, false},
		{"hex string", "0x10", 0, false},
		{"empty string", "", 0, false},
		{"bool", true, 0, false},
		{"nil", nil, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ID(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ID(%#v) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "is not a record id") {
				t.Fatalf("error %q does not say what is wrong", err)
			}
		})
	}
}

func TestParseIDs(t *testing.T) {
	tests := []struct {
		name  string
		lists []string
		want  []uint64
		bad   string
	}{
		{"one", []string{"3"}, []uint64{3}, ""},
		{"list with spaces", []string{" 1, 2 ,3"}, []uint64{1, 2, 3}, ""},
		{"several lists, duplicates once", []string{"2,1", "1,4"}, []uint64{2, 1, 4}, ""},
		{"empty items skipped", []string{",5,,"}, []uint64{5}, ""},
		{"bad item named, good ones kept", []string{"1,x,2,y"}, []uint64{1, 2}, "x"},
		{"nothing", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, bad := ParseIDs(tc.lists...)
			if !reflect.DeepEqual(got, tc.want) || bad != tc.bad {
				t.Fatalf("ParseIDs(%q) = %v, %q; want %v, %q", tc.lists, got, bad, tc.want, tc.bad)
			}
		})
	}
}

func nested(depth int) any {
	var v any = "leaf"
	for i := 0; i < depth; i++ {
		v = []any{v}
	}
	return v
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr string
	}{
		{"integer", json.Number("3"), int64(3), ""},
		{"float", json.Number("1.5"), 1.5, ""},
		{"int", 4, int64(4), ""},
		{"nested", map[string]any{"a": []any{json.Number("1"), "x"}}, map[string]any{"a": []any{int64(1), "x"}}, ""},
		{"out of range", json.Number("1e999"), nil, "out of range"},
		{"containers nested to the limit", nested(MaxDepth + 1), nested(MaxDepth + 1), ""},
		{"containers nested beyond the limit", nested(MaxDepth + 2), nil, "nested deeper than 32"},
		{"unsupported type", struct{}{}, nil, "unsupported value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Normalize = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestCopyAndStored(t *testing.T) {
	stored := map[string]any{"a": []any{int64(1)}}
	t.Run("stored value is shared", func(t *testing.T) {
		got, err := Stored(stored)
		if err != nil || reflect.ValueOf(got).Pointer() != reflect.ValueOf(stored).Pointer() {
			t.Fatalf("Stored copied a stored value: %v", err)
		}
	})
	t.Run("other value is copied and normalised", func(t *testing.T) {
		in := map[string]any{"n": json.Number("2"), "s": []string{"x"}}
		got, err := Stored(in)
		want := map[string]any{"n": int64(2), "s": []any{"x"}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Stored = %#v, %v; want %#v", got, err, want)
		}
	})
	t.Run("nil map is nil", func(t *testing.T) {
		if got, err := Stored(map[string]any(nil)); got != nil || err != nil {
			t.Fatalf("Stored(nil map) = %#v, %v", got, err)
		}
	})
	t.Run("clone shares nothing", func(t *testing.T) {
		c := Clone(stored).(map[string]any)
		c["a"].([]any)[0] = int64(9)
		if stored["a"].([]any)[0] != int64(1) {
			t.Fatal("Clone shared a slice")
		}
	})
}

type named map[string]any

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"same strings", "a", "a", true},
		{"different strings", "a", "b", false},
		{"string and number", "1", int64(1), false},
		{"int64 and float64 of one value", int64(1), float64(1), true},
		{"int64 and float64 of two values", int64(1), 1.5, false},
		{"nils", nil, nil, true},
		{"nil and false", nil, false, false},
		{"maps in any order", map[string]any{"a": int64(1), "b": "x"}, map[string]any{"b": "x", "a": float64(1)}, true},
		{"null member and missing member", map[string]any{"a": nil}, map[string]any{}, false},
		{"arrays", []any{int64(1), "x"}, []any{int64(1), "x"}, true},
		{"arrays in another order", []any{int64(1), "x"}, []any{"x", int64(1)}, false},
		{"map and array", map[string]any{}, []any{}, false},
		{"map and a named map", map[string]any{"a": int64(1)}, named{"a": float64(1)}, true},
		{"scalar and map", "x", map[string]any{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Equal(tc.a, tc.b); got != tc.want {
				t.Fatalf("Equal(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := Equal(tc.b, tc.a); got != tc.want {
				t.Fatalf("Equal(%#v, %#v) = %v, want %v", tc.b, tc.a, got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, in  string
		n         int
		trunc, cl string
	}{
		{"fits", "abc", 3, "abc", "abc"},
		{"too long", "abcdef", 3, "abc…", "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Truncate(tc.in, tc.n); got != tc.trunc {
				t.Fatalf("Truncate = %q, want %q", got, tc.trunc)
			}
			if got := Clip(tc.in, tc.n); got != tc.cl {
				t.Fatalf("Clip = %q, want %q", got, tc.cl)
			}
		})
	}
}
