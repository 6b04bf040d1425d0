package query

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/actionflow/actionflow/core/value"
)

// coercer turns a decoded operand into the Go value for one field kind.
type coercer struct {
	op   Op
	path string
	kind Kind
}

func (c coercer) wrong(val any) error {
	return errorf(paramFilter, "invalid %s value at %s: want %s, got %s", c.op, quote(c.path), c.want(), describe(val))
}

func (c coercer) want() string {
	switch c.kind {
	case KindString:
		return "a string"
	case KindInteger:
		return "an integer"
	case KindFloat:
		return "a number"
	case KindBool:
		return "a boolean"
	case KindDate:
		return "an RFC 3339 date"
	}
	return "a JSON value"
}

// scalar refuses objects and arrays (for ordering operators on json fields).
func (c coercer) scalar(val any) error {
	switch val.(type) {
	case map[string]any, []any, []string:
		return errorf(paramFilter, "invalid %s value at %s: want a number, string or boolean, got %s", c.op, quote(c.path), describe(val))
	}
	return nil
}

// value coerces val to c.kind. nil is accepted when nullable.
func (c coercer) value(val any, nullable bool, depth int) (any, error) {
	if val == nil {
		if nullable {
			return nil, nil
		}
		return nil, errorf(paramFilter, "invalid %s value at %s: want %s, got null", c.op, quote(c.path), c.want())
	}
	switch c.kind {
	case KindString:
		if s, ok := val.(string); ok {
			return s, nil
		}
	case KindInteger:
		if i, ok := toInt(val); ok {
			return i, nil
		}
	case KindFloat:
		if f, ok := toFloat(val); ok {
			return f, nil
		}
	case KindBool:
		switch x := val.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
	case KindDate:
		switch x := val.(type) {
		case string:
			if t, ok := parseDate(x); ok {
				return t, nil
			}
		case time.Time:
			return x.UTC(), nil
		}
	case KindJSON:
		return c.jsonValue(val, depth)
	}
	return nil, c.wrong(val)
}

// jsonValue normalizes a decoded JSON value: numbers become int64 or float64, containers are
// copied, and their nesting counts towards MaxFilterDepth.
func (c coercer) jsonValue(val any, depth int) (any, error) {
	switch x := val.(type) {
	case nil, bool, string:
		return x, nil
	case map[string]any:
		if err := checkDepth(depth+1, c.path); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(x))
		for k, v := range x {
			nv, err := c.jsonValue(v, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = nv
		}
		return out, nil
	case []any, []string:
		if err := checkDepth(depth+1, c.path); err != nil {
			return nil, err
		}
		list, _ := asList(x)
		out := make([]any, len(list))
		for i, v := range list {
			nv, err := c.jsonValue(v, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = nv
		}
		return out, nil
	case json.Number:
		if n, err := value.Number(x); err == nil {
			return n, nil
		}
		return nil, errorf(paramFilter, "invalid %s value at %s: number %s is out of range", c.op, quote(c.path), describe(x))
	}
	if n, ok := toNum(val); ok {
		if n.isInt {
			return n.i, nil
		}
		if isFinite(n.f) {
			return n.f, nil
		}
	}
	return nil, errorf(paramFilter, "invalid %s value at %s: unsupported value %s", c.op, quote(c.path), describe(val))
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// toInt accepts integers, integral floats (5.0) within int64, and strings or json.Numbers
// that parse as such.
func toInt(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x)
	case bool:
		return 0, false
	default:
		n, ok := toNum(v)
		if !ok {
			return 0, false
		}
		if n.isInt {
			return n.i, true
		}
		return floatToInt(n.f)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return floatToInt(f)
}

func floatToInt(f float64) (int64, bool) {
	if !isFinite(f) || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// toFloat accepts numbers, and strings or json.Numbers that parse as finite numbers.
func toFloat(v any) (float64, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x)
	case bool:
		return 0, false
	default:
		n, ok := toNum(v)
		if !ok {
			return 0, false
		}
		if n.isInt {
			return float64(n.i), true
		}
		return n.f, isFinite(n.f)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !isFinite(f) {
		return 0, false
	}
	return f, true
}

// parseDate reads an RFC 3339 date-time, the same without a zone (taken as UTC, with a "T" or
// a space), or a bare date (midnight UTC). The result is in UTC.
func parseDate(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if len(s) < len("2006-01-02") {
		return time.Time{}, false
	}
	if len(s) == len("2006-01-02") {
		t, err := time.Parse(time.DateOnly, s)
		return t, err == nil
	}
	layout := "2006-01-02T15:04:05.999999999"
	if s[10] == ' ' {
		layout = "2006-01-02 15:04:05.999999999"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// num is a number read from a record or an operand: an int64 when isInt, else a float64.
type num struct {
	i     int64
	f     float64
	isInt bool
}

// toNum reads the Go number types (and json.Number) without allocating.
func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case int64:
		return num{i: x, isInt: true}, true
	case float64:
		return num{f: x}, true
	case int:
		return num{i: int64(x), isInt: true}, true
	case int32:
		return num{i: int64(x), isInt: true}, true
	case int16:
		return num{i: int64(x), isInt: true}, true
	case int8:
		return num{i: int64(x), isInt: true}, true
	case uint:
		return uintNum(uint64(x)), true
	case uint64:
		return uintNum(x), true
	case uint32:
		return num{i: int64(x), isInt: true}, true
	case uint16:
		return num{i: int64(x), isInt: true}, true
	case uint8:
		return num{i: int64(x), isInt: true}, true
	case float32:
		return num{f: float64(x)}, true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return num{i: i, isInt: true}, true
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return num{f: f}, true
		}
	}
	return num{}, false
}

func uintNum(u uint64) num {
	if u > math.MaxInt64 {
		return num{f: float64(u)}
	}
	return num{i: int64(u), isInt: true}
}

// cmpNum compares two numbers exactly, also across int64 and float64. ok is false when a NaN
// is involved.
func cmpNum(a, b num) (int, bool) {
	switch {
	case a.isInt && b.isInt:
		return cmpOrdered(a.i, b.i), true
	case !a.isInt && !b.isInt:
		if math.IsNaN(a.f) || math.IsNaN(b.f) {
			return 0, false
		}
		return cmpOrdered(a.f, b.f), true
	case a.isInt:
		return cmpIntFloat(a.i, b.f)
	default:
		c, ok := cmpIntFloat(b.i, a.f)
		return -c, ok
	}
}

// cmpIntFloat compares i with f without losing precision on large integers.
func cmpIntFloat(i int64, f float64) (int, bool) {
	switch {
	case math.IsNaN(f):
		return 0, false
	case f >= 1<<63:
		return -1, true
	case f < -(1 << 63):
		return 1, true
	}
	t := math.Trunc(f)
	if c := cmpOrdered(i, int64(t)); c != 0 {
		return c, true
	}
	switch {
	case f > t:
		return -1, true
	case f < t:
		return 1, true
	}
	return 0, true
}

func cmpOrdered[T int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
