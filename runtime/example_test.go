package runtime_test

import (
	"context"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/runtime/lib"
)

// A workflow script runs with ctx injected as a global and the standard
// modules available through require.
func Example() {
	eng, err := runtime.New(runtime.Config{Workers: 1}, lib.Standard(lib.StdConfig{})...)
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	s, err := eng.Compile("total", `
local json = require("json")
local d = ctx.data
return json.encode({id = d.id, total = d.price * d.qty})`)
	if err != nil {
		panic(err)
	}
	res := eng.Run(context.Background(), runtime.Request{
		Script:  s,
		Globals: map[string]any{"ctx": map[string]any{"data": map[string]any{"id": 7, "price": 2.5, "qty": 4}}},
	})
	fmt.Println(res.Output, res.Err)
	// Output: {"id":7,"total":10} <nil>
}

// A host module is a Go function building a table per run. This one is a
// global (like the workflow engine's flow) and ends runs with Run.Stop.
func ExampleModule() {
	type verdict struct{ reason string }
	gate := runtime.Module{
		Name:   "gate",
		Global: true,
		Doc:    "gate.deny(reason) ends the run",
		Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
			t := L.NewTable()
			t.RawSetString("deny", L.NewFunction(func(L *lua.LState) int {
				r.Stop(L, verdict{reason: L.CheckString(1)})
				return 0
			}))
			return t
		},
	}
	eng, err := runtime.New(runtime.Config{Workers: 1}, gate)
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	s, _ := eng.Compile("check", `
if ctx.amount > 100 then
  pcall(gate.deny, "too much") -- a script cannot catch a stop
end
return "accepted"`)
	for _, amount := range []int{50, 500} {
		res := eng.Run(context.Background(), runtime.Request{Script: s, Globals: map[string]any{"ctx": map[string]any{"amount": amount}}})
		fmt.Printf("%d: output=%v stop=%v err=%v\n", amount, res.Output, res.Stop, res.Err)
	}
	// Output:
	// 50: output=accepted stop=<nil> err=<nil>
	// 500: output=<nil> stop={too much} err=<nil>
}

// Errors carry the script's line; limits and timeouts have sentinels.
func ExampleScriptError() {
	eng, _ := runtime.New(runtime.Config{Workers: 1})
	defer eng.Close()
	s, _ := eng.Compile("validate", "local v = ctx\n\nerror({code = 'E1', message = 'missing title'})")
	res := eng.Run(context.Background(), runtime.Request{Script: s})
	var se *runtime.ScriptError
	if errors.As(res.Err, &se) {
		fmt.Println(se.Line, se.Message, se.Value)
	}
	// Output: 3 missing title map[code:E1 message:missing title]
}
