package runtime

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Conversion limits shared by ToLua and FromLua.
const (
	// MaxDepth is the deepest nesting of tables/maps/slices converted.
	MaxDepth = 32
	// MaxElements is the most values (scalars and containers) one conversion visits.
	MaxElements = 1 << 18
)

const (
	registryArrayKey = "actionflow.array"
	registryNullKey  = "actionflow.null"
	arrayMarkerKey   = "__array"
)

// nullValue is the Value of the json.null userdata. Each state owns its own
// userdata; FromLua recognises it by this type.
type nullValue struct{}

// Null returns the per-state null sentinel (json.null in scripts). FromLua
// converts it to nil; ToLua produces it for nil elements of slices.
func Null(L *lua.LState) lua.LValue {
	if ud, ok := L.G.Registry.RawGetString(registryNullKey).(*lua.LUserData); ok {
		return ud
	}
	ud := L.NewUserData()
	ud.Value = nullValue{}
	mt := L.CreateTable(0, 2)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("null"))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString("null"))
	ud.Metatable = mt
	L.G.Registry.RawSetString(registryNullKey, ud)
	return ud
}

// IsNull reports whether v is the null sentinel of some state.
func IsNull(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(nullValue)
	return ok
}

// arrayMetatable returns the per-state metatable that marks tables as arrays.
func arrayMetatable(L *lua.LState) *lua.LTable {
	if mt, ok := L.G.Registry.RawGetString(registryArrayKey).(*lua.LTable); ok {
		return mt
	}
	mt := L.CreateTable(0, 1)
	mt.RawSetString(arrayMarkerKey, lua.LTrue)
	L.G.Registry.RawSetString(registryArrayKey, mt)
	return mt
}

// MarkArray marks t as an array, so FromLua (and json.encode) treat it as one
// even when it is empty. It replaces t's metatable only if t has none.
func MarkArray(L *lua.LState, t *lua.LTable) {
	if t.Metatable == lua.LNil {
		t.Metatable = arrayMetatable(L)
	}
}

// IsArray reports whether t carries the array mark.
func IsArray(t *lua.LTable) bool {
	mt, ok := t.Metatable.(*lua.LTable)
	return ok && mt.RawGetString(arrayMarkerKey) == lua.LTrue
}

// ToLua converts a Go value to a Lua value owned by L.
//
// Supported: nil, bool, string, []byte (as a string), all integer kinds,
// float32/64 (NaN and ±Inf are refused), json.Number, time.Time (an RFC 3339
// string with nanoseconds when non-zero), lua.LValue (passed through),
// map[string]any and []any, and by reflection any map with string keys and any
// slice or array of supported values. Slices become tables marked as arrays (see
// MarkArray); nil slice elements become the null sentinel so positions are
// kept; nil map values are left out. Nesting deeper than MaxDepth or more than
// MaxElements values gives an error wrapping ErrLimit.
func ToLua(L *lua.LState, v any) (lua.LValue, error) {
	c := toLuaConv{L: L}
	return c.conv(v, 0)
}

type toLuaConv struct {
	L       *lua.LState
	arrayMT *lua.LTable
	null    lua.LValue
	n       int
}

func (c *toLuaConv) markArray(t *lua.LTable) {
	if c.arrayMT == nil {
		c.arrayMT = arrayMetatable(c.L)
	}
	t.Metatable = c.arrayMT
}

func (c *toLuaConv) nullValue() lua.LValue {
	if c.null == nil {
		c.null = Null(c.L)
	}
	return c.null
}

func (c *toLuaConv) conv(v any, depth int) (lua.LValue, error) {
	c.n++
	if c.n > MaxElements {
		return lua.LNil, fmt.Errorf("runtime: value has more than %d elements: %w", MaxElements, ErrLimit)
	}
	switch x := v.(type) {
	case nil:
		return lua.LNil, nil
	case string:
		return lua.LString(x), nil
	case bool:
		return lua.LBool(x), nil
	case int:
		return lua.LNumber(x), nil
	case int64:
		return lua.LNumber(x), nil
	case int32:
		return lua.LNumber(x), nil
	case float64:
		return floatToLua(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return lua.LNumber(i), nil
		}
		f, err := x.Float64()
		if err != nil {
			return lua.LNil, fmt.Errorf("runtime: bad json number %q: %w", string(x), err)
		}
		return floatToLua(f)
	case time.Time:
		return lua.LString(x.Format(time.RFC3339Nano)), nil
	case []byte:
		return lua.LString(x), nil
	case lua.LValue:
		return x, nil
	case map[string]any:
		if depth >= MaxDepth {
			return lua.LNil, errTooDeep()
		}
		t := c.L.CreateTable(0, len(x))
		for k, e := range x {
			if e == nil {
				continue
			}
			lv, err := c.conv(e, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	case []any:
		if depth >= MaxDepth {
			return lua.LNil, errTooDeep()
		}
		t := c.L.CreateTable(len(x), 0)
		for i, e := range x {
			var lv lua.LValue
			if e == nil {
				if c.n++; c.n > MaxElements {
					return lua.LNil, fmt.Errorf("runtime: value has more than %d elements: %w", MaxElements, ErrLimit)
				}
				lv = c.nullValue()
			} else {
				var err error
				if lv, err = c.conv(e, depth+1); err != nil {
					return lua.LNil, err
				}
			}
			t.RawSetInt(i+1, lv)
		}
		c.markArray(t)
		return t, nil
	case []string:
		t := c.L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, lua.LString(e))
		}
		c.n += len(x)
		c.markArray(t)
		return t, nil
	}
	return c.convReflect(reflect.ValueOf(v), depth)
}

func (c *toLuaConv) convReflect(rv reflect.Value, depth int) (lua.LValue, error) {
	switch rv.Kind() {
	case reflect.Bool:
		return lua.LBool(rv.Bool()), nil
	case reflect.String:
		return lua.LString(rv.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return lua.LNumber(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return lua.LNumber(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return floatToLua(rv.Float())
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return lua.LNil, nil
		}
		if depth >= MaxDepth {
			return lua.LNil, errTooDeep()
		}
		return c.conv(rv.Elem().Interface(), depth+1)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if depth >= MaxDepth {
			return lua.LNil, errTooDeep()
		}
		t := c.L.CreateTable(0, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			e := it.Value()
			if (e.Kind() == reflect.Interface || e.Kind() == reflect.Pointer) && e.IsNil() {
				continue
			}
			lv, err := c.conv(e.Interface(), depth+1)
			if err != nil {
				return lua.LNil, err
			}
			t.RawSetString(it.Key().String(), lv)
		}
		return t, nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return lua.LNil, nil
		}
		if depth >= MaxDepth {
			return lua.LNil, errTooDeep()
		}
		n := rv.Len()
		t := c.L.CreateTable(n, 0)
		for i := 0; i < n; i++ {
			e := rv.Index(i)
			var lv lua.LValue
			if (e.Kind() == reflect.Interface || e.Kind() == reflect.Pointer) && e.IsNil() {
				lv = c.nullValue()
			} else {
				var err error
				if lv, err = c.conv(e.Interface(), depth+1); err != nil {
					return lua.LNil, err
				}
			}
			t.RawSetInt(i+1, lv)
		}
		c.markArray(t)
		return t, nil
	}
	return lua.LNil, fmt.Errorf("runtime: cannot convert %s to a lua value", rv.Type())
}

func floatToLua(f float64) (lua.LValue, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return lua.LNil, fmt.Errorf("runtime: cannot convert %v to a lua value", f)
	}
	return lua.LNumber(f), nil
}

func errTooDeep() error {
	return fmt.Errorf("runtime: value nested deeper than %d: %w", MaxDepth, ErrLimit)
}

// FromLua converts a Lua value to plain Go data: nil, bool, int64 (numbers
// with an integral value in the int64 range), float64 (other numbers), string,
// []any and map[string]any.
//
// A table whose keys are exactly 1..n (n > 0) becomes []any; an empty table
// becomes map[string]any{} unless it carries the array mark (json.array,
// arrays made by ToLua), then []any{}. Other tables become maps; number keys
// are written in decimal ("1", "2.5"). The null sentinel becomes nil. Functions,
// userdata, NaN, ±Inf, keys that are neither strings nor numbers, and cycles are
// errors; so are nesting deeper than MaxDepth and more than MaxElements values
// (those wrap ErrLimit). A table reached twice without a cycle is converted
// twice.
func FromLua(v lua.LValue) (any, error) {
	c := fromLuaConv{}
	return c.conv(v, 0)
}

type fromLuaConv struct {
	path []*lua.LTable // tables being converted, for cycle detection
	n    int
}

func (c *fromLuaConv) conv(v lua.LValue, depth int) (any, error) {
	c.n++
	if c.n > MaxElements {
		return nil, fmt.Errorf("runtime: value has more than %d elements: %w", MaxElements, ErrLimit)
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LString:
		return string(x), nil
	case lua.LNumber:
		return numberFromLua(x)
	case *lua.LTable:
		return c.table(x, depth)
	case *lua.LUserData:
		if IsNull(x) {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("runtime: cannot convert a lua %s", v.Type())
}

func numberFromLua(x lua.LNumber) (any, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("runtime: cannot convert number %v", f)
	}
	if f == math.Trunc(f) && f >= -9223372036854775808 && f < 9223372036854775808 {
		return int64(f), nil
	}
	return f, nil
}

func (c *fromLuaConv) table(t *lua.LTable, depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, errTooDeep()
	}
	for _, p := range c.path {
		if p == t {
			return nil, fmt.Errorf("runtime: cannot convert a table that contains itself")
		}
	}
	c.path = append(c.path, t)
	defer func() { c.path = c.path[:len(c.path)-1] }()

	// Classify: count keys and check whether they are exactly 1..n.
	n, maxIdx, seq := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		n++
		if !seq {
			return
		}
		num, ok := k.(lua.LNumber)
		if !ok || num < 1 || float64(num) != math.Trunc(float64(num)) || num > lua.LNumber(MaxElements) {
			seq = false
			return
		}
		if int(num) > maxIdx {
			maxIdx = int(num)
		}
	})
	if n+c.n > MaxElements {
		return nil, fmt.Errorf("runtime: value has more than %d elements: %w", MaxElements, ErrLimit)
	}
	if (n == 0 && IsArray(t)) || (n > 0 && seq && maxIdx == n) {
		out := make([]any, n)
		for i := 1; i <= n; i++ {
			e, err := c.conv(t.RawGetInt(i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i-1] = e
		}
		return out, nil
	}
	out := make(map[string]any, n)
	var ferr error
	t.ForEach(func(k, v lua.LValue) {
		if ferr != nil {
			return
		}
		var key string
		switch kk := k.(type) {
		case lua.LString:
			key = string(kk)
		case lua.LNumber:
			key = numberKey(kk)
		default:
			ferr = fmt.Errorf("runtime: cannot convert a table with a %s key", k.Type())
			return
		}
		e, err := c.conv(v, depth+1)
		if err != nil {
			ferr = err
			return
		}
		out[key] = e
	})
	if ferr != nil {
		return nil, ferr
	}
	return out, nil
}

func numberKey(n lua.LNumber) string {
	f := float64(n)
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
