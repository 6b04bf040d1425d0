// Package env provides the Lua module "env": read-only access to the
// environment variables whose name starts with ACTIONFLOW_ENV_ (nothing else
// is visible, so secrets of the server stay out of scripts).
//
// Lua functions:
//
//	env.get(name) -> string | nil   -- nil for unset names and names without the prefix
//
// Example:
//
//	local env = require("env")
//	local token = env.get("ACTIONFLOW_ENV_SLACK_TOKEN")
package env

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
)

// Prefix is the only visible variable name prefix.
const Prefix = "ACTIONFLOW_ENV_"

// Module returns the "env" module reading variables through lookup
// (os.LookupEnv in production; a map in tests).
func Module(lookup func(string) (string, bool)) runtime.Module {
	return runtime.Module{
		Name: "env",
		Doc:  "env.get(name) for names starting with " + Prefix,
		Open: func(L *lua.LState, _ *runtime.Run) lua.LValue {
			t := L.CreateTable(0, 1)
			t.RawSetString("get", L.NewFunction(func(L *lua.LState) int {
				name := L.CheckString(1)
				if !strings.HasPrefix(name, Prefix) || lookup == nil {
					L.Push(lua.LNil)
					return 1
				}
				v, ok := lookup(name)
				if !ok {
					L.Push(lua.LNil)
					return 1
				}
				L.Push(lua.LString(v))
				return 1
			}))
			return t
		},
	}
}
