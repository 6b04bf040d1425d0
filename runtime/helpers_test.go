package runtime

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func newEngine(t testing.TB, cfg Config, mods ...Module) *Engine {
	t.Helper()
	e, err := New(cfg, mods...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustCompile(t testing.TB, e *Engine, name, src string) *Script {
	t.Helper()
	s, err := e.Compile(name, src)
	if err != nil {
		t.Fatalf("Compile(%s): %v", name, err)
	}
	return s
}

func runSrc(t testing.TB, e *Engine, src string, globals map[string]any) *Result {
	t.Helper()
	s := mustCompile(t, e, "test", src)
	return e.Run(context.Background(), Request{Script: s, Globals: globals})
}

// probeSrc checks that a pooled state shows no trace of earlier runs.
const probeSrc = `
assert(leak == nil, "global leaked")
assert(string.upper("a") == "A", "string.upper tampered")
assert(string.foo == nil and math.foo == nil and table.foo == nil, "library key added")
assert(rawget(string, 1) == nil and rawget(math, 1) == nil, "library array part")
assert(getmetatable(string) == nil and getmetatable(math) == nil, "library metatable")
assert(getmetatable("") == "locked", "string metatable")
assert(not pcall(function() return (5).foo end), "number metatable poisoned")
assert(not pcall(function() return (true).foo end), "boolean metatable poisoned")
assert(("x"):rep(2) == "xx", "string methods")
assert(math.floor(2.5) == 2 and table.concat({1, 2}, ",") == "1,2", "libraries")
assert(type(pairs) == "function" and type(tostring) == "function", "base functions")
return "clean"
`

// countOpen returns a module whose Open counts its calls.
func countOpen(name string, global bool, n *int) Module {
	return Module{Name: name, Global: global, Open: func(L *lua.LState, r *Run) lua.LValue {
		*n++
		t := L.NewTable()
		t.RawSetString("name", lua.LString(name))
		return t
	}}
}
