package value

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
)

// Number is a json.Number in stored form: an int64 when it parses as one, else a finite
// float64.
func Number(n json.Number) (any, error) {
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %s out of range", Truncate(n.String(), 40))
	}
	return f, nil
}

// Normalize turns decoded JSON (with json.Number) into its stored form, in place: integral
// numbers become int64, others float64, int becomes int64. It refuses values nested deeper
// than MaxDepth and types JSON does not have.
func Normalize(v any) (any, error) { return normalize(v, 0) }

func normalize(v any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("nested deeper than %d", MaxDepth)
	}
	switch x := v.(type) {
	case json.Number:
		return Number(x)
	case map[string]any:
		for k, e := range x {
			if scalar(e) {
				continue // already normalized: no map write
			}
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
		return x, nil
	case []any:
		for i, e := range x {
			if scalar(e) {
				continue
			}
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	case string, bool, nil, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

// IsStored reports whether v is already in stored form (scalars Normalize leaves as they
// are, in map[string]any and []any), and refuses v, as Normalize does, when it nests deeper
// than MaxDepth. It only reads v.
func IsStored(v any) (bool, error) { return isStored(v, 0) }

func isStored(v any, depth int) (bool, error) {
	if depth > MaxDepth {
		return false, fmt.Errorf("nested deeper than %d", MaxDepth)
	}
	if scalar(v) {
		return true, nil
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if ok, err := isStored(e, depth+1); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case []any:
		for _, e := range x {
			if ok, err := isStored(e, depth+1); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	}
	return false, nil
}

// scalar reports whether v is a JSON value Normalize leaves as it is.
func scalar(v any) bool {
	switch v.(type) {
	case string, bool, nil, int64, float64:
		return true
	}
	return false
}

// Clone deep-copies the maps (map[string]any) and slices ([]any) of v; other values are
// shared.
func Clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = Clone(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = Clone(e)
		}
		return a
	}
	return v
}

// Stored is v in stored form: v itself when it already is (IsStored), else a normalised deep
// copy (Copy). A nil map or slice is nil. It refuses values nested deeper than MaxDepth.
func Stored(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return nil, nil
		}
	case []any:
		if x == nil {
			return nil, nil
		}
	}
	ok, err := IsStored(v)
	if err != nil {
		return nil, err
	}
	if ok {
		return v, nil
	}
	return Copy(v)
}

// Copy is a normalised deep copy of a JSON-like value (maps, slices, strings, numbers,
// booleans, nil); any other value takes the JSON round trip. A nil map or slice is nil.
func Copy(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case json.Number:
		return Number(x)
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := Copy(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		if x == nil {
			return nil, nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			c, err := Copy(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return Normalize(out)
}

// Equal reports whether a and b are the same JSON value: maps key by key, arrays item by
// item, numbers by value (int64 1 equals float64 1), other Go values by their JSON encoding.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok && x != nil && y != nil {
			if len(x) != len(y) {
				return false
			}
			for k, e := range x {
				f, ok := y[k]
				if !ok || !Equal(e, f) {
					return false
				}
			}
			return true
		}
	case []any:
		if y, ok := b.([]any); ok && x != nil && y != nil {
			if len(x) != len(y) {
				return false
			}
			for i := range x {
				if !Equal(x[i], y[i]) {
					return false
				}
			}
			return true
		}
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case bool:
		if y, ok := b.(bool); ok {
			return x == y
		}
	case int64:
		if y, ok := b.(int64); ok {
			return x == y
		}
	case float64:
		if y, ok := b.(float64); ok {
			return x == y
		}
	}
	return encodedEqual(a, b)
}

// encodedEqual compares two values by their JSON encoding, and as Go values when either
// does not encode.
func encodedEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return bytes.Equal(ja, jb)
}
