package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestRunOutput(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	cases := []struct {
		name string
		src  string
		want any
	}{
		{"integer", `return 1 + 1`, int64(2)},
		{"float", `return 1 / 4`, 0.25},
		{"string", `return "a" .. "b" .. 1 .. 2.5`, "ab12.5"},
		{"bool", `return 1 < 2`, true},
		{"nothing", `local x = 1`, nil},
		{"nil", `return nil`, nil},
		{"first of several", `return 1, 2, 3`, int64(1)},
		{"array", `return {1, "two", true}`, []any{int64(1), "two", true}},
		{"object", `return {a = 1, b = {c = "d"}}`, map[string]any{"a": int64(1), "b": map[string]any{"c": "d"}}},
		{"empty table", `return {}`, map[string]any{}},
		{"mixed keys", `return {1, 2, x = 3}`, map[string]any{"1": int64(1), "2": int64(2), "x": int64(3)}},
		{"globals are per run", `x = (x or 0) + 1; return x`, int64(1)},
		{"_G is the env", `y = 5; return _G.y + _G._G.y`, int64(10)},
		{"ctx absent", `return ctx == nil`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 2; i++ { // twice: the second run reuses the pooled state
				res := runSrc(t, e, tc.src, nil)
				if res.Err != nil {
					t.Fatalf("run %d: %v", i, res.Err)
				}
				if !reflect.DeepEqual(res.Output, tc.want) {
					t.Fatalf("run %d: output %#v, want %#v", i, res.Output, tc.want)
				}
			}
		})
	}
}

func TestRunGlobals(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	globals := map[string]any{
		"ctx": map[string]any{
			"data":     map[string]any{"id": int64(7), "tags": []any{"a", "b"}, "createdAt": created, "gone": nil},
			"user":     map[string]any{"nickname": "ann"},
			"roleName": "member",
		},
	}
	src := `return {id = ctx.data.id * 2, tags = #ctx.data.tags, at = ctx.data.createdAt,
		gone = ctx.data.gone == nil, nick = ctx.user.nickname, role = ctx.roleName}`
	res := runSrc(t, e, src, globals)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := map[string]any{"id": int64(14), "tags": int64(2), "at": "2024-05-06T07:08:09Z", "gone": true, "nick": "ann", "role": "member"}
	if !reflect.DeepEqual(res.Output, want) {
		t.Fatalf("output %#v, want %#v", res.Output, want)
	}

	t.Run("unconvertible global", func(t *testing.T) {
		res := runSrc(t, e, `return 1`, map[string]any{"ctx": func() {}})
		if res.Err == nil || !strings.Contains(res.Err.Error(), `global "ctx"`) {
			t.Fatalf("err = %v", res.Err)
		}
	})
}

func TestScriptErrors(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	cases := []struct {
		name      string
		src       string
		wantLine  int
		wantMsg   string
		wantValue any
		wantLimit bool
	}{
		{"string error", "local a = 1\nerror(\"boom\")", 2, "boom", "test:2: boom", false},
		{"error level 0", "local a = 1\n\nerror(\"bare\", 0)", 3, "bare", "bare", false},
		{"table error with message", "\nerror({code = 7, message = \"bad input\"})", 2, "bad input", map[string]any{"code": int64(7), "message": "bad input"}, false},
		{"table error without message", "error({code = 7, fields = {\"a\"}})", 1, `{"code":7,"fields":["a"]}`, map[string]any{"code": int64(7), "fields": []any{"a"}}, false},
		{"number error", "\n\nerror(42)", 3, "42", int64(42), false},
		{"runtime error", "local t = nil\nlocal x = 1\nreturn t.field", 3, "attempt to index a non-table object(nil) with key 'field'", nil, false},
		{"error in a nested function", "local function f()\n  error('deep')\nend\nlocal function g() f() end\ng()", 2, "deep", nil, false},
		{"error inside a required module", "local s = require('strings')\n\nlocal parts = s.split(nil)\nreturn parts", 3, "strings.split: string expected", nil, false},
		{"limit", "local s = ('x'):rep(10)\nreturn s:rep(1e7)", 2, "string.rep: result larger than 1048576 bytes", nil, true},
		{"caught limit then other error", "pcall(string.rep, 'x', 1e9)\nerror('other')", 2, "other", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, tc.src, nil)
			var se *ScriptError
			if !errors.As(res.Err, &se) {
				t.Fatalf("err = %v, want *ScriptError", res.Err)
			}
			if se.Name != "test" || se.Line != tc.wantLine || se.Message != tc.wantMsg {
				t.Fatalf("got name %q line %d message %q; want line %d message %q", se.Name, se.Line, se.Message, tc.wantLine, tc.wantMsg)
			}
			if tc.wantValue != nil && !reflect.DeepEqual(se.Value, tc.wantValue) {
				t.Fatalf("value %#v, want %#v", se.Value, tc.wantValue)
			}
			if errors.Is(res.Err, ErrLimit) != tc.wantLimit {
				t.Fatalf("errors.Is(err, ErrLimit) = %v, want %v", !tc.wantLimit, tc.wantLimit)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	e := newEngine(t, Config{Workers: 1, Timeout: 100 * time.Millisecond})
	loop := mustCompile(t, e, "loop", "local n = 0\nwhile true do n = n + 1 end")
	cases := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		timeout time.Duration
		want    error
	}{
		{"config timeout", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, 0, ErrTimeout},
		{"request timeout", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, 50 * time.Millisecond, ErrTimeout},
		{"caller deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, time.Minute, ErrTimeout},
		{"caller cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, time.Minute, ErrCanceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			res := e.Run(ctx, Request{Script: loop, Timeout: tc.timeout})
			if !errors.Is(res.Err, tc.want) {
				t.Fatalf("err = %v, want %v", res.Err, tc.want)
			}
			if d := time.Since(start); d > 100*time.Millisecond+2*time.Second {
				t.Fatalf("run took %v", d)
			}
			if !strings.Contains(res.Err.Error(), "at line 2") {
				t.Fatalf("err %q does not name the line", res.Err)
			}
		})
	}
	t.Run("canceled before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := e.Run(ctx, Request{Script: loop})
		if !errors.Is(res.Err, ErrCanceled) {
			t.Fatalf("err = %v", res.Err)
		}
	})
	t.Run("state usable after timeout", func(t *testing.T) {
		res := runSrc(t, e, probeSrc, nil)
		if res.Err != nil || res.Output != "clean" {
			t.Fatalf("probe: %v %v", res.Output, res.Err)
		}
	})
}

// flowModule is a stand-in for the workflow engine's global "flow" module.
func flowModule(opened *int) Module {
	return Module{Name: "flow", Global: true, Doc: "test flow", Open: func(L *lua.LState, r *Run) lua.LValue {
		*opened++
		t := L.NewTable()
		t.RawSetString("finish", L.NewFunction(func(L *lua.LState) int {
			r.Stop(L, "finished")
			return 0
		}))
		t.RawSetString("fail", L.NewFunction(func(L *lua.LState) int {
			r.Stop(L, "failed: "+L.OptString(1, ""))
			return 0
		}))
		t.RawSetString("message", L.NewFunction(func(L *lua.LState) int {
			r.Log("message", L.CheckString(1))
			return 0
		}))
		return t
	}}
}

func TestStop(t *testing.T) {
	var opened int
	e := newEngine(t, Config{Workers: 1, Timeout: time.Second}, flowModule(&opened))
	cases := []struct {
		name string
		src  string
		want any
		logs int
	}{
		{"finish", `flow.message("hi") flow.finish() error("not reached")`, "finished", 1},
		{"fail with message", `flow.fail("nope")`, "failed: nope", 0},
		{"pcall does not swallow", `local ok = pcall(flow.finish) while true do end`, "finished", 0},
		{"pcall then return", `local ok, err = pcall(flow.fail, "x") return "ignored"`, "failed: x", 0},
		{"tail-called pcall", `return pcall(flow.finish)`, "finished", 0},
		{"stop in a callback", `table.sort({3, 2, 1}, function(a, b) flow.finish() return a < b end) while true do end`, "finished", 0},
		{"first stop wins", `pcall(flow.fail, "first") flow.finish()`, "failed: first", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res := runSrc(t, e, tc.src, nil)
			if res.Err != nil {
				t.Fatalf("err = %v", res.Err)
			}
			if res.Stop != tc.want {
				t.Fatalf("stop = %#v, want %#v", res.Stop, tc.want)
			}
			if res.Output != nil {
				t.Fatalf("output = %#v, want nil after stop", res.Output)
			}
			if len(res.Logs) != tc.logs {
				t.Fatalf("logs = %v", res.Logs)
			}
			if d := time.Since(start); d > 500*time.Millisecond+2*time.Second {
				t.Fatalf("stopped run took %v", d)
			}
		})
	}
	res := runSrc(t, e, probeSrc, nil)
	if res.Err != nil {
		t.Fatalf("probe after stops: %v", res.Err)
	}
}

func TestModules(t *testing.T) {
	var flowOpened, dbOpened int
	e := newEngine(t, Config{Workers: 1}, flowModule(&flowOpened), countOpen("db", false, &dbOpened))
	cases := []struct {
		name           string
		src            string
		want           any
		wantErr        string
		flowOpen, dbOp int
	}{
		{"global module is require'able", `return flow == require("flow") and flow == _G.flow`, true, "", 1, 0},
		{"global opened lazily", `return 1`, int64(1), "", 0, 0},
		{"global opened once per run", `local a = flow; local b = flow; return rawequal(a, b)`, true, "", 1, 0},
		{"non-global module is not a global", `return db == nil and require("db").name`, "db", "", 0, 1},
		{"require caches per run", `return require("db") == require("db")`, true, "", 0, 1},
		{"embedded lua module", `return require("strings").trim("  x  ")`, "x", "", 0, 0},
		{"unknown module", `return require("nope")`, nil, "module 'nope' not found", 0, 0},
		{"shadowing a global module", `flow = 1 return flow`, int64(1), "", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flowOpened, dbOpened = 0, 0
			res := runSrc(t, e, tc.src, nil)
			if tc.wantErr != "" {
				if res.Err == nil || !strings.Contains(res.Err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", res.Err, tc.wantErr)
				}
			} else if res.Err != nil || !reflect.DeepEqual(res.Output, tc.want) {
				t.Fatalf("output %#v err %v, want %#v", res.Output, res.Err, tc.want)
			}
			if flowOpened != tc.flowOpen || dbOpened != tc.dbOp {
				t.Fatalf("opened flow %d db %d times, want %d and %d", flowOpened, dbOpened, tc.flowOpen, tc.dbOp)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	open := func(L *lua.LState, r *Run) lua.LValue { return lua.LTrue }
	t.Run("duplicate in New", func(t *testing.T) {
		_, err := New(Config{Workers: 1}, Module{Name: "a", Open: open}, Module{Name: "a", Open: open})
		if err == nil || !strings.Contains(err.Error(), "duplicate") {
			t.Fatalf("err = %v", err)
		}
	})
	cases := []struct {
		name string
		m    Module
		want string
	}{
		{"ok", Module{Name: "extra", Open: open}, ""},
		{"duplicate", Module{Name: "a", Open: open}, "duplicate"},
		{"no name", Module{Open: open}, "name"},
		{"no open", Module{Name: "b"}, "Open"},
		{"global shadowing a builtin", Module{Name: "string", Global: true, Open: open}, "shadow"},
		{"global with a bad name", Module{Name: "my-mod", Global: true, Open: open}, "identifier"},
	}
	e := newEngine(t, Config{Workers: 1}, Module{Name: "a", Open: open})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Register(tc.m)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("after first run", func(t *testing.T) {
		runSrc(t, e, "return 1", nil)
		if err := e.Register(Module{Name: "late", Open: open}); err == nil {
			t.Fatal("Register after Run succeeded")
		}
	})
	if got := len(e.Modules()); got != 2 {
		t.Fatalf("Modules() has %d entries, want 2", got)
	}
}

// TestPoolReuse checks when a pooled state is kept and when it is rebuilt.
func TestPoolReuse(t *testing.T) {
	e := newEngine(t, Config{Workers: 1, Timeout: 200 * time.Millisecond}, flowModule(new(int)))
	if res := runSrc(t, e, "return 0", nil); res.Err != nil { // builds the one foreground state
		t.Fatal(res.Err)
	}
	var w *worker
	e.pool.each(func(x *worker) { w = x })
	cases := []struct {
		name    string
		src     string
		rebuilt bool
	}{
		{"clean run", `local t = {} for i = 1, 10 do t[i] = i end x = 1 return #t`, false},
		{"uses modules", `local s = require("strings") return flow ~= nil and s.trim(" a ")`, false},
		{"caught error", `pcall(error, "x") return 1`, false},
		{"error", `error("x")`, true},
		{"timeout", `while true do end`, true},
		{"stop", `flow.finish()`, true},
		{"string tampered", `string.upper = string.lower return 1`, true},
		{"string key added", `string.extra = 1 return 1`, true},
		{"string key restored", `local u = string.upper string.upper = nil string.upper = u return 1`, false},
		{"math array part", `math[1] = 1 return 1`, true},
		{"table metatable", `setmetatable(table, {}) return 1`, true},
		{"array metatable read", `return getmetatable(arr).__array`, false},
		{"conversion metatable tampered", `local mt = getmetatable(arr) mt.__index = function() return "pwned" end return 1`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, "return 0", nil) // make sure a state exists
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			before := w.L
			runSrc(t, e, tc.src, map[string]any{"arr": []any{1}})
			if rebuilt := w.L != before; rebuilt != tc.rebuilt {
				t.Fatalf("state rebuilt = %v, want %v", rebuilt, tc.rebuilt)
			}
			res = runSrc(t, e, probeSrc, nil)
			if res.Err != nil {
				t.Fatalf("probe: %v", res.Err)
			}
			res = runSrc(t, e, `return getmetatable(arr).__index == nil and arr[5] == nil`, map[string]any{"arr": []any{1}})
			if res.Err != nil || res.Output != true {
				t.Fatalf("array metatable probe: %v %v", res.Output, res.Err)
			}
		})
	}
}

func TestLogs(t *testing.T) {
	logMod := Module{Name: "log", Open: func(L *lua.LState, r *Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			r.Log(L.CheckString(1), L.CheckString(2))
			return 0
		})
	}}
	e := newEngine(t, Config{Workers: 1}, logMod)
	t.Run("levels and order", func(t *testing.T) {
		res := runSrc(t, e, `local log = require("log") log("info", "a") log("warn", "b") return 1`, nil)
		if res.Err != nil || len(res.Logs) != 2 || res.Logs[0].Level != "info" || res.Logs[1].Message != "b" || res.Logs[0].Time.IsZero() {
			t.Fatalf("logs %+v err %v", res.Logs, res.Err)
		}
	})
	t.Run("capped", func(t *testing.T) {
		res := runSrc(t, e, `local log = require("log") for i = 1, 5000 do log("info", ("x"):rep(20000)) end return 1`, nil)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if len(res.Logs) != MaxLogLines+1 || res.Logs[MaxLogLines].Message != "log truncated" {
			t.Fatalf("%d lines, last %q", len(res.Logs), res.Logs[len(res.Logs)-1].Message)
		}
		if n := len(res.Logs[0].Message); n > MaxLogMessage+8 {
			t.Fatalf("message of %d bytes", n)
		}
	})
	t.Run("print", func(t *testing.T) {
		res := runSrc(t, e, `print("a", 1, nil, true) print() return 1`, nil)
		if res.Err != nil || len(res.Logs) != 2 || res.Logs[0].Level != "info" || res.Logs[0].Message != "a\t1\tnil\ttrue" || res.Logs[1].Message != "" {
			t.Fatalf("logs %+v err %v", res.Logs, res.Err)
		}
	})
	t.Run("kept on error", func(t *testing.T) {
		res := runSrc(t, e, `require("log")("error", "before") error("x")`, nil)
		if res.Err == nil || len(res.Logs) != 1 {
			t.Fatalf("logs %+v err %v", res.Logs, res.Err)
		}
	})
}

func TestRunValuesAndHost(t *testing.T) {
	type key struct{}
	mod := Module{Name: "scratch", Open: func(L *lua.LState, r *Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			n, _ := r.Value(key{}).(int)
			r.SetValue(key{}, n+1)
			L.Push(lua.LString(fmt.Sprintf("%v:%d:%s", r.Host(), n+1, r.ScriptName())))
			return 1
		})
	}}
	e := newEngine(t, Config{Workers: 1}, mod)
	s := mustCompile(t, e, "vals", `local f = require("scratch") f() return f()`)
	for i := 0; i < 2; i++ {
		res := e.Run(context.Background(), Request{Script: s, Host: "exec-9"})
		if res.Err != nil || res.Output != "exec-9:2:vals" {
			t.Fatalf("run %d: %v %v", i, res.Output, res.Err)
		}
	}
}

func TestConcurrentRuns(t *testing.T) {
	e := newEngine(t, Config{Workers: 2})
	s := mustCompile(t, e, "conc", `
id = ctx.id
local sum = 0
for i = 1, 200 do sum = sum + i end
assert(leak == nil)
leak = true
return {id = id, sum = sum}`)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				id := int64(g*1000 + i)
				res := e.Run(context.Background(), Request{Script: s, Globals: map[string]any{"ctx": map[string]any{"id": id}}})
				want := map[string]any{"id": id, "sum": int64(20100)}
				if res.Err != nil || !reflect.DeepEqual(res.Output, want) {
					errs <- fmt.Errorf("goroutine %d run %d: %v %v", g, i, res.Output, res.Err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClose(t *testing.T) {
	e, err := New(Config{Workers: 1, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	loop := mustCompile(t, e, "loop", `while true do end`)
	done := make(chan *Result)
	go func() { done <- e.Run(context.Background(), Request{Script: loop}) }()
	for e.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiting := make(chan *Result)
	go func() { waiting <- e.Run(context.Background(), Request{Script: loop}) }()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if res := <-done; !errors.Is(res.Err, ErrCanceled) {
		t.Fatalf("in-flight run: %v", res.Err)
	}
	if res := <-waiting; !errors.Is(res.Err, ErrClosed) {
		t.Fatalf("waiting run: %v", res.Err)
	}
	if res := e.Run(context.Background(), Request{Script: loop}); !errors.Is(res.Err, ErrClosed) {
		t.Fatalf("run after close: %v", res.Err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestMemoryWatchdog(t *testing.T) {
	e := newEngine(t, Config{Workers: 2, Timeout: 20 * time.Second, MemoryLimit: 64 << 20})
	bomb := mustCompile(t, e, "bomb", "local t = {}\nlocal i = 0\nwhile true do i = i + 1 t[i] = {i, tostring(i)} end")
	start := time.Now()
	res := e.Run(context.Background(), Request{Script: bomb})
	if !errors.Is(res.Err, ErrMemory) {
		t.Fatalf("err = %v, want ErrMemory", res.Err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %v", d)
	}
	after := runSrc(t, e, probeSrc, nil)
	if after.Err != nil {
		t.Fatalf("run after the bomb: %v", after.Err)
	}
}

func TestConfigDefaults(t *testing.T) {
	e := newEngine(t, Config{})
	if e.cfg.Workers < 1 || e.cfg.Timeout != DefaultTimeout || e.cfg.MaxSourceBytes != DefaultMaxSourceBytes ||
		e.cfg.MemoryLimit != DefaultMemoryLimit || e.cfg.MaxStringBytes != DefaultMaxStringBytes {
		t.Fatalf("defaults not applied: %+v", e.cfg)
	}
	if lua.MaxArrayIndex != MaxArrayIndex {
		t.Fatalf("lua.MaxArrayIndex = %d", lua.MaxArrayIndex)
	}
	if _, err := New(Config{Workers: -1}); err == nil {
		t.Fatal("negative Workers accepted")
	}
	if res := e.Run(context.Background(), Request{}); res.Err == nil {
		t.Fatal("run without a script succeeded")
	}
}

func TestSandboxSurface(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	absent := []string{"os", "io", "debug", "package", "coroutine", "channel", "load", "loadstring", "loadfile",
		"dofile", "module", "collectgarbage", "getfenv", "setfenv", "_printregs", "newproxy", "_GOPHER_LUA_VERSION"}
	for _, name := range absent {
		t.Run("no "+name, func(t *testing.T) {
			res := runSrc(t, e, fmt.Sprintf("return %s == nil", name), nil)
			if res.Err != nil || res.Output != true {
				t.Fatalf("%s present: %v %v", name, res.Output, res.Err)
			}
		})
	}
	present := map[string]string{
		"string.dump is gone":    `return string.dump == nil and string.gfind == nil`,
		"string methods":         `return ("abc"):upper() .. ("x"):rep(2) .. ("%d"):format(5)`,
		"string metatable":       `return getmetatable("") == "locked" and getmetatable(_G) == "locked"`,
		"setmetatable on tables": `local t = setmetatable({}, {__index = function() return 1 end}) return t.x == 1`,
		"arrays from json-like":  `return type(unpack) == "function" and select("#", 1, 2) == 2`,
	}
	for name, src := range present {
		t.Run(name, func(t *testing.T) {
			res := runSrc(t, e, src, nil)
			if res.Err != nil || (res.Output != true && res.Output != "ABCxx5") {
				t.Fatalf("%v %v", res.Output, res.Err)
			}
		})
	}
}

func TestStringLimits(t *testing.T) {
	e := newEngine(t, Config{Workers: 1, MaxStringBytes: 1000})
	cases := []struct {
		name  string
		src   string
		limit bool
	}{
		{"rep at cap", `return #("ab"):rep(500)`, false},
		{"rep over cap", `return ("ab"):rep(501)`, true},
		{"rep huge count", `return ("a"):rep(1e300)`, true},
		{"rep nan count", `return ("a"):rep(0/0) == ""`, false},
		{"concat at cap", `local s = ("x"):rep(500) return #(s .. s)`, false},
		{"concat over cap", `local s = ("x"):rep(500) return s .. s .. "x"`, true},
		{"concat with numbers", `return 1 .. 2 .. "x" .. 1.5`, false},
		{"table.concat over cap", `local t = {} for i = 1, 200 do t[i] = "abcdef" end return table.concat(t, ",")`, true},
		{"format over cap", `return string.format("%s%s", ("x"):rep(600), ("x"):rep(600))`, true},
		{"gsub over cap", `return (("x"):rep(100):gsub("x", "yyyyyyyyyyyy"))`, true},
		{"gsub at cap", `return #(("x"):rep(100):gsub("x", "yyyyyyyyyy"))`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, tc.src, nil)
			if got := errors.Is(res.Err, ErrLimit); got != tc.limit {
				t.Fatalf("limit = %v, want %v (err %v)", got, tc.limit, res.Err)
			}
			if !tc.limit && res.Err != nil {
				t.Fatal(res.Err)
			}
		})
	}
}

func TestConcatSemantics(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	cases := []struct {
		name string
		src  string
		want any
	}{
		{"chain", `local a, b = "x", 2 return a .. b .. "y" .. 3.5`, "x2y3.5"},
		{"parenthesised", `return ("a" .. "b") .. ("c" .. "d")`, "abcd"},
		{"long chain", `local s = "a" return ` + strings.TrimSuffix(strings.Repeat("s .. ", 120), " .. "), strings.Repeat("a", 120)},
		{"metamethod lhs", `local mt = {__concat = function(a, b) return "L" .. tostring(type(a)) .. tostring(type(b)) end}
			return setmetatable({}, mt) .. "x"`, "Ltablestring"},
		{"metamethod rhs", `local mt = {__concat = function(a, b) return "R" .. type(a) end}
			return "x" .. setmetatable({}, mt)`, "Rstring"},
		{"right associative pairing", `local mt = {} mt.__concat = function(a, b)
			local l = type(a) == "table" and a.v or a local r = type(b) == "table" and b.v or b
			return setmetatable({v = "(" .. l .. r .. ")"}, mt) end
			local o = setmetatable({v = "o"}, mt) return (o .. "a" .. "b").v`, "(oab)"},
		{"evaluation order", `local log = {} local function f(x) log[#log + 1] = x return x end
			local s = f("a") .. f("b") .. f("c") return table.concat(log) .. s`, "abcabc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, tc.src, nil)
			if res.Err != nil || res.Output != tc.want {
				t.Fatalf("output %#v err %v, want %#v", res.Output, res.Err, tc.want)
			}
		})
	}
	res := runSrc(t, e, "local x\nreturn 'a' .. x", nil)
	var se *ScriptError
	if !errors.As(res.Err, &se) || se.Line != 2 || !strings.Contains(se.Message, "concat") {
		t.Fatalf("nil concat: %v", res.Err)
	}
}

// TestNestedRun runs a script from inside a module while every pooled state is held:
// the nested run must get a state of its own instead of waiting for one.
func TestNestedRun(t *testing.T) {
	var e *Engine
	var inner *Script
	nest := Module{Name: "nest", Global: true, Open: func(L *lua.LState, r *Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			res := e.Run(r.Context(), Request{Script: inner, Globals: map[string]any{"n": int64(L.CheckInt(1))}})
			if res.Err != nil {
				L.RaiseError("nested: %v", res.Err)
			}
			lv, err := ToLua(L, res.Output)
			if err != nil {
				L.RaiseError("%v", err)
			}
			L.Push(lv)
			return 1
		})
	}}
	var err error
	e, err = New(Config{Workers: 1, Timeout: 2 * time.Second}, nest)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	inner = mustCompile(t, e, "inner", "return n * 2")
	outer := mustCompile(t, e, "outer", "return nest(20) + nest(1)")

	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want any
		err  error
	}{
		{"resolves", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, int64(42), nil},
		{"outer cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, nil, ErrCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			res := e.Run(ctx, Request{Script: outer})
			if tc.err != nil {
				if !errors.Is(res.Err, tc.err) {
					t.Fatalf("err %v, want %v", res.Err, tc.err)
				}
				return
			}
			if res.Err != nil || res.Output != tc.want {
				t.Fatalf("output %#v err %v, want %v", res.Output, res.Err, tc.want)
			}
		})
	}
	// The pool is whole again: a plain run still works.
	if res := runSrc(t, e, "return 7", nil); res.Err != nil || res.Output != int64(7) {
		t.Fatalf("after nesting: %#v %v", res.Output, res.Err)
	}
}

// TestNestedRunInBackground: a run nested in a background run takes a background state,
// never one of the foreground states that requests' runs wait for.
func TestNestedRunInBackground(t *testing.T) {
	var e *Engine
	var inner *Script
	entered, release := make(chan struct{}), make(chan struct{})
	nest := Module{Name: "nest", Global: true, Open: func(L *lua.LState, r *Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			if res := e.Run(r.Context(), Request{Script: inner}); res.Err != nil {
				L.RaiseError("nested: %v", res.Err)
			}
			return 0
		})
	}}
	gate := Module{Name: "gate", Global: true, Open: func(L *lua.LState, r *Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			entered <- struct{}{}
			<-release
			return 0
		})
	}}
	var err error
	e, err = New(Config{Workers: 1, BackgroundWorkers: 2, Timeout: 10 * time.Second}, nest, gate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	inner = mustCompile(t, e, "inner", "gate()")
	outer := mustCompile(t, e, "outer", "nest()")
	done := make(chan *Result, 1)
	go func() { done <- e.Run(context.Background(), Request{Script: outer, Background: true}) }()
	<-entered // the nested run holds its state
	lent := e.pool.inUse()
	close(release)
	if res := <-done; res.Err != nil {
		t.Fatal(res.Err)
	}
	if lent != 0 {
		t.Fatalf("while a run nested in a background run ran, %d foreground states were lent", lent)
	}
}

func TestReadBack(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	tests := []struct {
		name string
		src  string
		want map[string]any
		err  bool
	}{
		{"changed in place", "ctx.values.total = ctx.values.total * 2; ctx.values.note = 'x'",
			map[string]any{"ctx": map[string]any{"values": map[string]any{"total": int64(4), "note": "x"}}}, false},
		{"replaced", "ctx = {values = {}}", map[string]any{"ctx": map[string]any{"values": map[string]any{}}}, false},
		{"removed", "ctx = nil", map[string]any{"ctx": nil}, false},
		{"not convertible", "ctx.values.f = function() end", nil, true},
		{"error", "error('no')", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustCompile(t, e, tc.name, tc.src)
			res := e.Run(context.Background(), Request{Script: s, ReadBack: []string{"ctx"},
				Globals: map[string]any{"ctx": map[string]any{"values": map[string]any{"total": int64(2)}}}})
			if tc.err {
				if res.Err == nil || res.Globals != nil {
					t.Fatalf("want an error and no globals, got %v %#v", res.Err, res.Globals)
				}
				return
			}
			if res.Err != nil || !reflect.DeepEqual(res.Globals, tc.want) {
				t.Fatalf("globals %#v err %v, want %#v", res.Globals, res.Err, tc.want)
			}
		})
	}
}

// TestBackgroundStates: background runs have states of their own. While background runs
// hold all of them, a foreground run still runs at once, and another background run waits
// for a state.
func TestBackgroundStates(t *testing.T) {
	e := newEngine(t, Config{Workers: 1, BackgroundWorkers: 1, Timeout: time.Minute})
	spin := mustCompile(t, e, "spin", "while true do end")
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan *Result, 1)
	go func() { held <- e.Run(ctx, Request{Script: spin, Background: true}) }()
	for e.inflight.Load() == 0 { // until the spinning run holds a state
		time.Sleep(time.Millisecond)
	}

	t.Run("a foreground run runs", func(t *testing.T) {
		// The deadline is a guard: without a state of its own the run would wait for it.
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer fcancel()
		res := e.Run(fctx, Request{Script: mustCompile(t, e, "ran", `return "ran"`)})
		if res.Err != nil || res.Output != "ran" {
			t.Fatalf("output %v, err %v", res.Output, res.Err)
		}
	})
	t.Run("another background run waits", func(t *testing.T) {
		wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer wcancel()
		res := e.Run(wctx, Request{Script: mustCompile(t, e, "one", "return 1"), Background: true})
		if !errors.Is(res.Err, ErrTimeout) {
			t.Fatalf("err %v, want a timeout waiting for a state", res.Err)
		}
	})
	cancel()
	if res := <-held; !errors.Is(res.Err, ErrCanceled) {
		t.Fatalf("spinning run ended with %v, want canceled", res.Err)
	}
	t.Run("the background state is back", func(t *testing.T) {
		res := e.Run(context.Background(), Request{Script: mustCompile(t, e, "two", "return 2"), Background: true})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	})
}
