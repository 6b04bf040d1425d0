package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/actionflow/actionflow/core/value"
)

// Record is one record as the data API sees it: field name → value. Values are string,
// int64, float64, bool, nil, map[string]any and []any; dates are RFC 3339 strings in UTC
// with milliseconds (TimeFormat).
type Record = map[string]any

// TimeFormat is the form dates are stored and returned in.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Limits on values.
const (
	maxStringLen = 64 << 10 // string fields
	maxTextLen   = 4 << 20  // text and json fields (the body limit usually comes first)
	maxSafeInt   = value.MaxSafeInt
)

// MaxJSONDepth is how deep a JSON field's value may nest.
const MaxJSONDepth = value.MaxDepth

// FormatTime renders t as stored.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// coerceValue checks v against the field's type and returns the stored form.
func coerceValue(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Type {
	case TypeString, TypeText, TypePassword:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string, got %s", kindOf(v))
		}
		limit := maxStringLen
		if f.Type == TypeText {
			limit = maxTextLen
		}
		if len(s) > limit {
			return nil, fmt.Errorf("longer than %d bytes", limit)
		}
		return s, nil
	case TypeInteger:
		return toInt(v)
	case TypeFloat:
		return toFloat(v)
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be a boolean, got %s", kindOf(v))
		}
		return b, nil
	case TypeDate:
		switch x := v.(type) {
		case time.Time:
			return FormatTime(x), nil
		case string:
			t, err := parseDate(x)
			if err != nil {
				return nil, err
			}
			return FormatTime(t), nil
		}
		return nil, fmt.Errorf("must be an RFC 3339 date string, got %s", kindOf(v))
	case TypeJSON:
		return value.Normalize(v)
	}
	return nil, fmt.Errorf("cannot hold a value")
}

// increment is an update value {"$inc": n}, prepared: n is an int64 for an integer field,
// a float64 for a float one. Data.update adds it to the value it read in its transaction.
type increment struct{ n any }

// hasOperator reports whether an object value holds an operator key ("$inc", ...).
func hasOperator(m map[string]any) bool {
	for k := range m {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}

// prepareOperator checks an object value with operator keys for a field that is not json:
// only {"$inc": n} on an integer or float field in an update.
func prepareOperator(f *Field, m map[string]any, create bool) (any, error) {
	n, ok := m["$inc"]
	if !ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			if strings.HasPrefix(k, "$") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return nil, fmt.Errorf("unknown operator %q; the only one is {\"$inc\": n}", value.Truncate(keys[0], 40))
	}
	if len(m) != 1 {
		return nil, fmt.Errorf(`{"$inc": n} may hold nothing else`)
	}
	if create {
		return nil, fmt.Errorf(`{"$inc": n} is for update; a create sets the value`)
	}
	switch f.Type {
	case TypeInteger:
		i, err := toInt(n)
		if err != nil {
			return nil, fmt.Errorf("$inc %w", err)
		}
		return increment{n: i}, nil
	case TypeFloat:
		x, err := toFloat(n)
		if err != nil {
			return nil, fmt.Errorf("$inc %w", err)
		}
		return increment{n: x}, nil
	}
	return nil, fmt.Errorf("$inc needs an integer or float field, not %s", f.Type)
}

// apply adds the increment to cur, the field's value before the update (missing or null
// counts as 0).
func (op increment) apply(cur any) (any, error) {
	switch n := op.n.(type) {
	case int64:
		var c int64
		if cur != nil {
			var err error
			if c, err = toInt(cur); err != nil {
				return nil, fmt.Errorf("$inc: the stored value %w", err)
			}
		}
		sum := c + n
		if sum > maxSafeInt || sum < -maxSafeInt {
			return nil, fmt.Errorf("$inc: %d + %d is out of range (integers are exact up to 2^53)", c, n)
		}
		return sum, nil
	case float64:
		var c float64
		if cur != nil {
			var err error
			if c, err = toFloat(cur); err != nil {
				return nil, fmt.Errorf("$inc: the stored value %w", err)
			}
		}
		sum := c + n
		if math.IsInf(sum, 0) {
			return nil, fmt.Errorf("$inc: %v + %v is out of range", c, n)
		}
		return sum, nil
	}
	return nil, fmt.Errorf("$inc of %T", op.n)
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date", value.Truncate(s, 40))
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case uint64:
		if x > maxSafeInt {
			return 0, fmt.Errorf("integer out of range")
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("must be an integer, got %v", x)
		}
		if math.Abs(x) > maxSafeInt {
			return 0, fmt.Errorf("integer out of range")
		}
		return int64(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			if i > maxSafeInt || i < -maxSafeInt {
				return 0, fmt.Errorf("integer out of range")
			}
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("must be an integer, got %s", value.Truncate(x.String(), 40))
		}
		return toInt(f)
	}
	return 0, fmt.Errorf("must be an integer, got %s", kindOf(v))
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return 0, fmt.Errorf("must be a number, got %s", value.Truncate(x.String(), 40))
		}
		return f, nil
	}
	return 0, fmt.Errorf("must be a number, got %s", kindOf(v))
}

// IsStoredJSON reports whether v is already in the stored form of a JSON field (value.IsStored):
// for a caller of CreateStored or UpdateStored that passes such values on without a copy.
func IsStoredJSON(v any) (bool, error) { return value.IsStored(v) }

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int64, int:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// DecodeJSON decodes a JSON document keeping numbers as json.Number; trailing data is an error.
func DecodeJSON(b []byte, v any) error {
	if m, ok := v.(*map[string]any); ok && *m == nil {
		if fast, ok := decodeValuesFast(b); ok {
			*m = fast
			return nil
		}
	}
	return decodeJSONSlow(b, v)
}

// decodeJSONSlow is DecodeJSON by encoding/json alone.
func decodeJSONSlow(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// DecodeRecord reads a stored record and gives its values their field types.
func DecodeRecord(c *Collection, b []byte) (Record, error) {
	if r, ok := decodeRecordFast(c, b); ok {
		return r, nil
	}
	return decodeRecordSlow(c, b)
}

// decodeRecordSlow is DecodeRecord by encoding/json alone.
func decodeRecordSlow(c *Collection, b []byte) (Record, error) {
	var r Record
	if err := decodeJSONSlow(b, &r); err != nil {
		return nil, fmt.Errorf("core: decode %s record: %w", c.Name, err)
	}
	for k, v := range r {
		n, ok := v.(json.Number)
		if !ok {
			if m, isMap := v.(map[string]any); isMap {
				nv, _ := value.Normalize(m)
				r[k] = nv
			} else if a, isArr := v.([]any); isArr {
				nv, _ := value.Normalize(a)
				r[k] = nv
			}
			continue
		}
		if f, ok := c.Field(k); ok && f.Type == TypeFloat {
			x, _ := n.Float64()
			r[k] = x
			continue
		}
		nv, err := value.Normalize(n)
		if err != nil {
			return nil, fmt.Errorf("core: decode %s record field %s: %w", c.Name, k, err)
		}
		r[k] = nv
	}
	return r, nil
}
