package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCompileErrors(t *testing.T) {
	e := newEngine(t, Config{Workers: 1, MaxSourceBytes: 8192})
	cases := []struct {
		name      string
		src       string
		wantLine  int
		wantMsg   string
		wantLimit bool
	}{
		{"syntax error", "local a = 1\nlocal b = = 2", 2, "near '='", false},
		{"unexpected eof", "if true then\n  x = 1\n", 3, "at end of source", false},
		{"unclosed string", "local a = 1\nlocal s = \"abc\n", 3, "unterminated string", false}, // the lexer reports the line after the newline
		{"too many locals", "local a1" + strings.Repeat(", a", 250) + " = 1", 0, "too many local variables", false},
		{"source too large", strings.Repeat("x = 1\n", 2000), 0, "more than the 8192 allowed", true},
		{"too deeply nested", strings.Repeat("\n", 4) + "return " + strings.Repeat("{", 201) + strings.Repeat("}", 201), 5, "nesting deeper than 200", true},
		{"nested functions", "local f = " + strings.Repeat("function()return ", 201) + "1" + strings.Repeat(" end", 201), 1, "nesting deeper", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Compile("chk", tc.src)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CompileError", err)
			}
			if ce.Name != "chk" || ce.Line != tc.wantLine || !strings.Contains(ce.Message, tc.wantMsg) {
				t.Fatalf("got line %d message %q, want line %d containing %q", ce.Line, ce.Message, tc.wantLine, tc.wantMsg)
			}
			if errors.Is(err, ErrLimit) != tc.wantLimit {
				t.Fatalf("ErrLimit = %v, want %v", !tc.wantLimit, tc.wantLimit)
			}
		})
	}
}

func TestNestingDepth(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want int
	}{
		{"flat", `x = 1`, 0},
		{"brackets", `x = {(1), [2] = {3}}`, 2},
		{"blocks", "if a then while b do local function f() end end end", 4},
		{"repeat", "repeat x = {} until x", 2},
		{"string contents ignored", `x = "((((" .. '{{{{' .. "\"(("`, 0},
		{"long string ignored", "x = [[ ((((( ]] .. [==[ {{{{ ]] ]==]", 0},
		{"comments ignored", "-- ((((\n--[[ {{{{\n ]] x = 1 --[=[ (( ]=]", 0},
		{"index is a bracket", "x = t[t[1]]", 2},
		{"keywords inside names", "endx = doit; functional = 1", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, got := nestingDepth(tc.src, 1000); got != tc.want {
				t.Fatalf("depth %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCompileLongChains compiles flat but long expressions that build deep
// ASTs (the nesting pre-scan does not count operators): they must compile,
// or fail cleanly, without taking the process down.
func TestCompileLongChains(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	cases := []struct {
		name string
		src  string
		want any
	}{
		{"unary minus chain", "return " + strings.Repeat("- ", 30000) + "1", int64(1)},
		{"not chain", "return " + strings.Repeat("not ", 15000) + "true", true},
		{"addition chain", "return 1" + strings.Repeat("+1", 30000), int64(30001)},
		{"concat chain", "local s = 'a' return #(s" + strings.Repeat("..s", 20000) + ")", int64(20001)},
		{"field chain", "local t = {} t.t = t return t" + strings.Repeat(".t", 20000) + " ~= nil", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := e.Compile(tc.name, tc.src)
			if err != nil {
				var ce *CompileError
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want *CompileError", err)
				}
				return
			}
			res := e.Run(context.Background(), Request{Script: s})
			if res.Err != nil || res.Output != tc.want {
				t.Fatalf("output %#v err %v, want %#v", res.Output, res.Err, tc.want)
			}
		})
	}
}

func TestCompileCache(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	a1 := mustCompile(t, e, "a", "return 1")
	a2 := mustCompile(t, e, "a", "return 1")
	b := mustCompile(t, e, "b", "return 1")
	if a1 != a2 {
		t.Fatal("same name and source compiled twice")
	}
	if a1 == b || b.Name() != "b" {
		t.Fatal("a different name must give its own script (the name is in error messages)")
	}
	if a1.Hash() == b.Hash() || len(a1.Hash()) != 64 {
		t.Fatalf("hashes %q %q", a1.Hash(), b.Hash())
	}

	t.Run("lru eviction", func(t *testing.T) {
		c := newScriptCache(2)
		s := func(name string) *Script { return &Script{name: name, hash: scriptKey(name, "")} }
		x, y, z := s("x"), s("y"), s("z")
		c.put(x.hash, x)
		c.put(y.hash, y)
		if c.get(x.hash) != x { // x is now the most recent
			t.Fatal("x missing")
		}
		c.put(z.hash, z) // evicts y
		if c.get(y.hash) != nil || c.get(x.hash) != x || c.get(z.hash) != z || c.len() != 2 {
			t.Fatal("wrong eviction")
		}
	})
}

func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"return 1",
		"local t = {1, 2, x = 3} return t",
		"for i = 1, 10 do x = (x or 0) + i end return x",
		"return ('a'):rep(3) .. 'b'",
		"local function f(n) if n < 2 then return n end return f(n-1) + f(n-2) end return f(10)",
		"return {{{{}}}}",
		"while true do end",
		"return [[ long ]] -- comment",
		"error({code = 1})",
		"x = ",
		"return 1 .. 2 .. ",
		"local a <const> = 1",
		"goto x ::x::",
	} {
		f.Add(seed)
	}
	e, err := New(Config{Workers: 1, Timeout: 50 * time.Millisecond, MemoryLimit: 256 << 20})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	f.Fuzz(func(t *testing.T, src string) {
		s, err := e.Compile("fuzz", src)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile error %v is not a *CompileError", err)
			}
			return
		}
		res := e.Run(context.Background(), Request{Script: s})
		if res == nil {
			t.Fatal("nil result")
		}
		if res.Err != nil && strings.Contains(res.Err.Error(), "internal error") {
			t.Fatalf("internal error: %v", res.Err)
		}
	})
}
