// Package time provides the Lua module "time". Times are unix seconds
// (numbers, possibly fractional); there is no sleep.
//
// Lua functions:
//
//	time.now()                 -> unix seconds as a float (microsecond precision)
//	time.unix()                -> unix seconds as an integer
//	time.format(ts[, layout])  -> string in UTC; layout is a Go reference layout
//	                              ("2006-01-02 15:04") or one of "rfc3339" (default),
//	                              "rfc3339nano", "date" (2006-01-02), "datetime"
//	                              (2006-01-02 15:04:05)
//	time.parse(s[, layout])    -> unix seconds | nil, err (default layout rfc3339)
//
// Example:
//
//	local time = require("time")
//	local due = time.parse(ctx.data.dueAt)
//	if due and due < time.now() then return "overdue" end
//	return time.format(time.unix(), "date")
package time

import (
	"fmt"
	"math"
	gotime "time"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
)

// Module returns the "time" module. now is the clock (nil means time.Now).
func Module(now func() gotime.Time) runtime.Module {
	if now == nil {
		now = gotime.Now
	}
	return runtime.Module{
		Name: "time",
		Doc:  "time.now(), time.unix(), time.format(ts, layout?), time.parse(s, layout?)",
		Open: func(L *lua.LState, _ *runtime.Run) lua.LValue {
			t := L.CreateTable(0, 4)
			t.RawSetString("now", L.NewFunction(func(L *lua.LState) int {
				t := now()
				L.Push(lua.LNumber(float64(t.Unix()) + float64(t.Nanosecond()/1000)/1e6))
				return 1
			}))
			t.RawSetString("unix", L.NewFunction(func(L *lua.LState) int {
				L.Push(lua.LNumber(now().Unix()))
				return 1
			}))
			t.RawSetString("format", L.NewFunction(format))
			t.RawSetString("parse", L.NewFunction(parse))
			return t
		},
	}
}

func layout(name string) string {
	switch name {
	case "", "rfc3339":
		return gotime.RFC3339
	case "rfc3339nano":
		return gotime.RFC3339Nano
	case "date":
		return gotime.DateOnly
	case "datetime":
		return gotime.DateTime
	}
	return name
}

func format(L *lua.LState) int {
	ts := float64(L.CheckNumber(1))
	lay := layout(L.OptString(2, ""))
	if math.IsNaN(ts) || math.IsInf(ts, 0) || math.Abs(ts) > 1e13 {
		L.ArgError(1, "timestamp out of range")
	}
	if len(lay) > 256 {
		L.ArgError(2, "layout too long")
	}
	sec, frac := math.Modf(ts)
	t := gotime.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
	L.Push(lua.LString(t.Format(lay)))
	return 1
}

func parse(L *lua.LState) int {
	s := L.CheckString(1)
	lay := layout(L.OptString(2, ""))
	t, err := gotime.Parse(lay, s)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(fmt.Sprintf("time.parse: cannot parse %q", truncate(s, 64))))
		return 2
	}
	if t.Nanosecond() == 0 {
		L.Push(lua.LNumber(t.Unix()))
	} else {
		L.Push(lua.LNumber(float64(t.Unix()) + float64(t.Nanosecond())/1e9))
	}
	return 1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
