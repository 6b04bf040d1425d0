package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/runtime/lib/crypto"
	luajson "github.com/actionflow/actionflow/runtime/lib/json"
	lualog "github.com/actionflow/actionflow/runtime/lib/log"
	luatime "github.com/actionflow/actionflow/runtime/lib/time"
)

// Lua-side tests: every testdata/*_test.lua file defines global functions
// named Test*; each runs as a Go subtest with a `t` table offering
// t:error(msg), t:fatal(msg), t:eq(a, b, msg?) (deep equality on converted
// values) and t:ok(cond, msg?). Test files must not return.

// harness is appended to each test file. With __TEST unset it lists the
// test functions; otherwise it runs the named one.
const harness = `
if __TEST == nil then
  local names = {}
  for k, v in pairs(_G) do
    if type(k) == "string" and k:sub(1, 4) == "Test" and type(v) == "function" then
      names[#names + 1] = k
    end
  end
  table.sort(names)
  return names
end
_G[__TEST](require("testing"))
`

// luaT records the failures of one Lua test.
type luaT struct {
	failures []string
}

func testingModule() runtime.Module {
	return runtime.Module{Name: "testing", Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
		lt := r.Host().(*luaT)
		fail := func(L *lua.LState, msg string) {
			lt.failures = append(lt.failures, fmt.Sprintf("%s %s", strings.TrimSuffix(L.Where(2), ":"), msg))
		}
		t := L.NewTable()
		t.RawSetString("error", L.NewFunction(func(L *lua.LState) int {
			fail(L, L.OptString(2, "error"))
			return 0
		}))
		t.RawSetString("fatal", L.NewFunction(func(L *lua.LState) int {
			fail(L, L.OptString(2, "fatal"))
			r.Stop(L, "fatal")
			return 0
		}))
		t.RawSetString("ok", L.NewFunction(func(L *lua.LState) int {
			if !lua.LVAsBool(L.Get(2)) {
				fail(L, L.OptString(3, "not ok"))
			}
			return 0
		}))
		t.RawSetString("eq", L.NewFunction(func(L *lua.LState) int {
			a, errA := runtime.FromLua(L.Get(2))
			b, errB := runtime.FromLua(L.Get(3))
			if errA != nil || errB != nil {
				fail(L, fmt.Sprintf("eq: cannot compare: %v %v", errA, errB))
				return 0
			}
			if !reflect.DeepEqual(a, b) {
				fail(L, fmt.Sprintf("%s: got %#v, want %#v", L.OptString(4, "eq"), a, b))
			}
			return 0
		}))
		return t
	}}
}

func TestLuaFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*_test.lua"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lua test files: %v", err)
	}
	fixed := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	mods := []runtime.Module{
		testingModule(), luajson.Module(0), lualog.Module(), crypto.Module(),
		luatime.Module(func() time.Time { return fixed }),
	}
	e, err := runtime.New(runtime.Config{Workers: 1, Timeout: 5 * time.Second}, mods...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, "_test.lua"), func(t *testing.T) {
			s, err := e.Compile(name, string(src)+harness)
			if err != nil {
				t.Fatal(err)
			}
			list := e.Run(context.Background(), runtime.Request{Script: s, Host: &luaT{}})
			names, ok := list.Output.([]any)
			if list.Err != nil || !ok || len(names) == 0 {
				t.Fatalf("listing tests: %v (output %#v)", list.Err, list.Output)
			}
			for _, n := range names {
				n := n.(string)
				t.Run(n, func(t *testing.T) {
					lt := &luaT{}
					res := e.Run(context.Background(), runtime.Request{Script: s, Host: lt, Globals: map[string]any{"__TEST": n}})
					for _, f := range lt.failures {
						t.Error(f)
					}
					if res.Err != nil {
						t.Errorf("lua error: %v", res.Err)
					}
				})
			}
		})
	}
}
