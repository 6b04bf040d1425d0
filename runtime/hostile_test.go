package runtime

import (
	"context"
	"errors"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// outcome classes a hostile script may end with.
type outcome int

const (
	endScriptError outcome = iota // a *ScriptError that is not a limit
	endLimit                      // ErrLimit (compile or run time)
	endTimeout                    // ErrTimeout
	endResource                   // ErrTimeout, ErrMemory or ErrLimit: whichever guard trips first
	endAnyError                   // any error (the guard that trips first depends on machine speed)
	endOK                         // the script may finish: the guard makes it harmless
)

func (o outcome) check(t *testing.T, res *Result) {
	t.Helper()
	err := res.Err
	switch o {
	case endOK:
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	case endScriptError:
		var se *ScriptError
		if !errors.As(err, &se) || errors.Is(err, ErrLimit) {
			t.Fatalf("want a script error, got %v", err)
		}
	case endLimit:
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("want ErrLimit, got %v", err)
		}
	case endTimeout:
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("want ErrTimeout, got %v", err)
		}
	case endAnyError:
		if err == nil {
			t.Fatal("want an error, got success")
		}
	case endResource:
		if !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrMemory) && !errors.Is(err, ErrLimit) {
			t.Fatalf("want ErrTimeout, ErrMemory or ErrLimit, got %v", err)
		}
	}
}

// timeout is the deadline a case runs with: short where the deadline (or a guard racing
// it) is the expected end, and long where it is not, so that a loaded machine (the race
// detector on two shared cores) cannot turn a limit or a result into a timeout.
func (o outcome) timeout(short time.Duration) time.Duration {
	if o == endTimeout || o == endResource {
		return short
	}
	return 30 * time.Second
}

func TestHostileScripts(t *testing.T) {
	const timeout = 500 * time.Millisecond
	deep := "return " + strings.Repeat("{", 100000) + strings.Repeat("}", 100000)
	cases := []struct {
		name string
		src  string
		want outcome
	}{
		{"os access", `return os.execute("id")`, endScriptError},
		{"io access", `return io.open("/etc/passwd"):read("*a")`, endScriptError},
		{"debug access", `return debug.getregistry()`, endScriptError},
		{"package access", `return package.loadlib("libc.so.6", "system")`, endScriptError},
		{"load", `return load("return 1")()`, endScriptError},
		{"loadstring", `return loadstring("return 1")()`, endScriptError},
		{"dofile", `return dofile("/etc/passwd")`, endScriptError},
		{"loadfile", `return loadfile("/etc/passwd")`, endScriptError},
		{"require file", `return require("../../../etc/passwd")`, endScriptError},
		{"require os", `return require("os").exit(1)`, endScriptError},
		{"getfenv", `return getfenv(0)`, endScriptError},
		{"setfenv", `setfenv(1, {})`, endScriptError},
		{"env escape via metatable", `return getmetatable(_G).__index.print`, endScriptError},
		{"collectgarbage loop", `while true do collectgarbage() end`, endScriptError},
		{"string.dump", `return string.dump(function() end)`, endScriptError},
		{"newproxy", `return newproxy(true)`, endScriptError},
		{"print", `print("x", 1, nil, {})`, endOK},
		{"setmetatable on number", `setmetatable(1, {__index = function() return "pwned" end})`, endScriptError},
		{"setmetatable on string", `setmetatable("", {__index = function() return "pwned" end})`, endScriptError},
		{"string metatable write", `getmetatable("").__index.upper = nil`, endScriptError},
		{"protected env metatable", `setmetatable(_G, {__index = function() return 1 end})`, endScriptError},
		{"library tampering", `string.upper = nil; string.foo = print; math.foo = 1; table.insert = nil; return 1`, endOK},
		{"library tampering rawset", `rawset(string, "upper", nil); rawset(math, 1, 2); return 1`, endOK},
		{"library metatable", `setmetatable(math, {__index = function() return "pwned" end}); return 1`, endOK},
		{"global leak", `leak = "secret"; _G.leak2 = 1; return 1`, endOK},
		{"infinite loop", `while true do end`, endTimeout},
		{"infinite loop in pcall", `while true do pcall(function() while true do end end) end`, endTimeout},
		{"pcall nest loop", `local function f() while true do pcall(f) end end f()`, endTimeout},
		{"infinite loop in __index", `local t = setmetatable({}, {__index = function() while true do end end}) return t.x`, endTimeout},
		{"__index table loop", `local t = {}; setmetatable(t, {__index = t}); local mt = getmetatable(t); mt.__index = setmetatable({}, mt); return t.x`, endScriptError},
		{"infinite loop in sort comparator", `table.sort({3, 2, 1}, function(a, b) while true do end end)`, endTimeout},
		{"infinite loop in gsub callback", `return ("abc"):gsub(".", function() while true do end end)`, endTimeout},
		{"infinite loop in xpcall handler", `xpcall(function() error("x") end, function() while true do end end)`, endTimeout},
		{"long numeric for", `for i = 1, 1e15 do end`, endTimeout},
		{"deep recursion", `local function f(n) return 1 + f(n + 1) end return f(1)`, endScriptError},
		{"__tostring recursion", `local t = setmetatable({}, {__tostring = function(s) return tostring(s) end}) return tostring(t)`, endScriptError},
		{"__concat recursion", `local mt = {}; mt.__concat = function(a, b) return a .. b end; return setmetatable({}, mt) .. "x"`, endScriptError},
		{"memory bomb table growth", `local t = {} local i = 0 while true do i = i + 1 t[i] = {i, i, i} end`, endResource},
		{"memory bomb string.rep", `local t = {} while true do t[#t + 1] = ("x"):rep(1e6 - #t) end`, endResource},
		{"memory bomb concat doubling", `local s = "x" while true do s = s .. s end`, endLimit},
		{"memory bomb concat chain", `local s = ("x"):rep(1e6) return s..s..s..s..s..s..s..s..s..s..s..s..s..s..s..s`, endLimit},
		{"memory bomb table.concat", `local big = ("x"):rep(1e6) local t = {} for i = 1, 60000 do t[i] = big end return table.concat(t)`, endLimit},
		{"memory bomb gsub", `return (("x"):rep(65536):gsub(".", ("y"):rep(1e6)))`, endLimit},
		{"memory bomb format width", `return string.format("%099999999d", 1)`, endScriptError},
		{"memory bomb format", `local big = ("x"):rep(5e5) return string.format("%s%s%s", big, big, big)`, endLimit},
		{"sparse index", `local t = {} t[1048575] = 1 t[1e9] = 1 t[2^53] = 1 return #t`, endOK},
		{"sparse index bomb", `local t = {} local i = 1 while true do t[i * 1048576] = {} i = i + 1 end`, endResource},
		{"unpack bomb", `return unpack({}, 1, 1e8)`, endScriptError},
		{"string.byte bomb", `return ("x"):rep(1e6):byte(1, -1)`, endScriptError},
		{"pathological pattern", `return ("a"):rep(2000):find(".-.-b$")`, endLimit},
		{"pathological pattern 1e6", `return string.rep("a", 1e6):find(".-.-.-b$")`, endResource},
		{"pathological gmatch", `for m in ("a"):rep(5000):gmatch("a*a*a*b") do end`, endLimit},
		{"coroutine", `return coroutine.create(function() end)`, endScriptError},
		{"coroutine bomb", `local t = {} while true do t[#t + 1] = coroutine.create(function() end) end`, endScriptError},
		{"error object table", `error({code = 42, message = "custom"})`, endScriptError},
		{"cyclic return", `local t = {} t.self = t return t`, endScriptError},
		{"deeply nested source", deep, endLimit},
		{"deeply nested table constructor", "return " + strings.Repeat("{", 30000) + strings.Repeat("}", 30000), endLimit},
		{"deeply nested parens", "return " + strings.Repeat("(", 30000) + "1" + strings.Repeat(")", 30000), endLimit},
		{"deeply nested blocks", strings.Repeat("do ", 5000) + strings.Repeat("end ", 5000), endLimit},
		{"huge source", "return 1 --" + strings.Repeat("x", 100<<10), endLimit},
	}
	e := newEngine(t, Config{Workers: 2, Timeout: timeout, MemoryLimit: 96 << 20})
	benign := mustCompile(t, e, "benign", `local s = 0 for i = 1, 100 do s = s + i end return s`)
	probe := mustCompile(t, e, "probe", probeSrc)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			goruntime.GC() // start each case from a collected heap (the watchdog watches the whole process)
			var wg sync.WaitGroup
			var hostile, ok *Result
			var compileErr error
			start := time.Now()
			wg.Add(2)
			go func() {
				defer wg.Done()
				s, err := e.Compile(tc.name, tc.src)
				if err != nil {
					compileErr = err
					return
				}
				hostile = e.Run(context.Background(), Request{Script: s, Timeout: tc.want.timeout(timeout)})
			}()
			go func() {
				defer wg.Done()
				ok = e.Run(context.Background(), Request{Script: benign})
			}()
			wg.Wait()
			elapsed := time.Since(start)
			if compileErr != nil {
				hostile = &Result{Err: compileErr}
			}
			tc.want.check(t, hostile)
			t.Logf("ended in %v: %v", elapsed.Round(time.Millisecond), firstLine(hostile.Err))
			if d := tc.want.timeout(timeout); d == timeout && elapsed > d+5*time.Second {
				t.Errorf("took %v, deadline %v", elapsed, d)
			}
			if ok.Err != nil || ok.Output != int64(5050) {
				t.Errorf("concurrent benign run: output %v, err %v", ok.Output, ok.Err)
			}
			// Both pooled states must be clean afterwards (sequential runs
			// alternate between the two workers of the FIFO pool).
			for i := 0; i < 3; i++ {
				res := e.Run(context.Background(), Request{Script: probe})
				if res.Err != nil || res.Output != "clean" {
					t.Fatalf("probe run %d after %q: %v", i, tc.name, res.Err)
				}
			}
		})
	}
	if len(cases) < 20 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
}

func firstLine(err error) string {
	if err == nil {
		return "ok"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
