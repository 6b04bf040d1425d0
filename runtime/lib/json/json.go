// Package json provides the Lua module "json": a JSON codec over the
// runtime's value converters (runtime.FromLua / runtime.ToLua).
//
// Lua functions:
//
//	json.encode(value)  -> string | nil, err   -- tables with keys 1..n become arrays,
//	                                            -- other tables objects; an empty table is {}
//	                                            -- unless made with json.array()
//	json.decode(string) -> value  | nil, err   -- arrays keep their array-ness (json.array)
//	json.array([t])     -> t                   -- marks t (or a new table) as an array
//	json.null                                  -- sentinel for null (decoded inside arrays,
//	                                            -- encoded as null anywhere)
//
// Object members whose value is null are dropped on decode (Lua tables
// cannot hold nil); null array elements decode to json.null so positions are
// kept. Numbers are float64 in Lua; integral values encode without a
// fraction. Input and output are capped at the module's byte limit (1 MiB by
// default); NaN, ±Inf, functions and cyclic tables cannot be encoded.
//
// Example:
//
//	local json = require("json")
//	local t = json.decode('{"ids":[1,2],"tags":[]}')
//	t.count = #t.ids
//	return json.encode(t)   -- {"count":2,"ids":[1,2],"tags":[]}
package json

import (
	"bytes"
	gojson "encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
)

// DefaultMaxBytes caps encode output and decode input when Module gets 0.
const DefaultMaxBytes = 1 << 20

// Module returns the "json" module. maxBytes caps encoded output and decoded
// input (0 means DefaultMaxBytes).
func Module(maxBytes int) runtime.Module {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	c := codec{max: maxBytes}
	return runtime.Module{
		Name: "json",
		Doc:  "json.encode(v), json.decode(s), json.array(t), json.null",
		Open: func(L *lua.LState, _ *runtime.Run) lua.LValue {
			t := L.CreateTable(0, 4)
			t.RawSetString("encode", L.NewFunction(c.encode))
			t.RawSetString("decode", L.NewFunction(c.decode))
			t.RawSetString("array", L.NewFunction(array))
			t.RawSetString("null", runtime.Null(L))
			return t
		},
	}
}

type codec struct{ max int }

func (c codec) encode(L *lua.LState) int {
	b, err := Encode(L.CheckAny(1), c.max)
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LString(b))
	return 1
}

func (c codec) decode(L *lua.LState) int {
	v, err := Decode(L, L.CheckString(1), c.max)
	if err != nil {
		return fail(L, err)
	}
	L.Push(v)
	return 1
}

func array(L *lua.LState) int {
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		if L.Get(1) != lua.LNil {
			L.ArgError(1, "table expected")
		}
		t = L.CreateTable(0, 0)
	}
	runtime.MarkArray(L, t)
	L.Push(t)
	return 1
}

func fail(L *lua.LState, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(strings.TrimPrefix(err.Error(), "runtime: ")))
	return 2
}

// Encode encodes a Lua value as compact JSON of at most max bytes.
func Encode(v lua.LValue, max int) (string, error) {
	g, err := runtime.FromLua(v)
	if err != nil {
		return "", fmt.Errorf("json: encode: %w", err)
	}
	var buf bytes.Buffer
	enc := gojson.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g); err != nil {
		return "", fmt.Errorf("json: encode: %w", err)
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(out) > max {
		return "", fmt.Errorf("json: encode: result larger than %d bytes: %w", max, runtime.ErrLimit)
	}
	return string(out), nil
}

// Decode decodes one JSON document of at most max bytes into a Lua value.
// A top-level null gives the null sentinel.
func Decode(L *lua.LState, s string, max int) (lua.LValue, error) {
	if len(s) > max {
		return lua.LNil, fmt.Errorf("json: decode: input larger than %d bytes: %w", max, runtime.ErrLimit)
	}
	dec := gojson.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return lua.LNil, fmt.Errorf("json: decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return lua.LNil, errors.New("json: decode: unexpected data after the document")
	}
	if g == nil {
		return runtime.Null(L), nil
	}
	v, err := runtime.ToLua(L, g)
	if err != nil {
		return lua.LNil, fmt.Errorf("json: decode: %w", err)
	}
	return v, nil
}
