// Package log provides the Lua module "log": lines are kept on the run
// (Result.Logs, and so on the execution), with their level and time.
//
// Lua functions:
//
//	log.info(...)    -- arguments are converted with tostring and joined by spaces
//	log.warn(...)
//	log.error(...)
//
// A run keeps at most runtime.MaxLogLines lines (then one "log truncated"
// line) of at most runtime.MaxLogMessage bytes each.
//
// Example:
//
//	local log = require("log")
//	log.info("order", ctx.data.id, "total", ctx.data.total)
package log

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
)

// Module returns the "log" module.
func Module() runtime.Module {
	return runtime.Module{
		Name: "log",
		Doc:  "log.info(...), log.warn(...), log.error(...)",
		Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
			t := L.CreateTable(0, 3)
			for _, level := range []string{"info", "warn", "error"} {
				t.RawSetString(level, L.NewFunction(logger(r, level)))
			}
			return t
		},
	}
}

func logger(r *runtime.Run, level string) lua.LGFunction {
	return func(L *lua.LState) int {
		n := L.GetTop()
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteByte(' ')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
			if b.Len() > runtime.MaxLogMessage {
				break
			}
		}
		r.Log(level, b.String())
		return 0
	}
}
