package lib_test

import (
	"context"
	"testing"

	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/runtime/lib"
)

func TestStandard(t *testing.T) {
	mods := lib.Standard(lib.StdConfig{})
	want := []string{"json", "log", "time", "crypto", "env", "http"}
	if len(mods) != len(want) {
		t.Fatalf("%d modules", len(mods))
	}
	for i, m := range mods {
		if m.Name != want[i] || m.Global || m.Doc == "" {
			t.Errorf("module %d: %+v", i, m)
		}
	}
	e, err := runtime.New(runtime.Config{Workers: 1}, mods...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err := e.Compile("std", `
local names = {"json", "log", "time", "crypto", "env", "http"}
for _, n in ipairs(names) do assert(type(require(n)) == "table", n) end
assert(json == nil, "standard modules are not globals")
local r, err = require("http").get("http://127.0.0.1/")
assert(r == nil and err:find("disabled"), "http off by default")
return require("json").encode({ok = true})`)
	if err != nil {
		t.Fatal(err)
	}
	res := e.Run(context.Background(), runtime.Request{Script: s})
	if res.Err != nil || res.Output != `{"ok":true}` {
		t.Fatalf("%#v %v", res.Output, res.Err)
	}
}
