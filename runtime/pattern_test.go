package runtime

import (
	"reflect"
	"strings"
	"testing"
)

// packSrc wraps an expression list so that every result (nil included) is
// returned in an array.
func packSrc(exprs string) string {
	return `local function pack(...)
  local t = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v == nil then v = "nil" end
    t[i] = v
  end
  return t
end
return pack(` + exprs + `)`
}

func TestPatterns(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	cases := []struct {
		name string
		expr string
		want []any
	}{
		{"find plain", `("hello world"):find("wor")`, []any{int64(7), int64(9)}},
		{"find plain flag", `("a.b"):find(".", 1, true)`, []any{int64(2), int64(2)}},
		{"find pattern dot", `("a.b"):find(".")`, []any{int64(1), int64(1)}},
		{"find negative init", `("hello"):find("l", -2)`, []any{int64(4), int64(4)}},
		{"find init past end", `("abc"):find("", 10)`, []any{int64(4), int64(3)}},
		{"find not found", `("hello"):find("xyz")`, []any{"nil"}},
		{"find captures", `("key=val"):find("(%w+)=(%w+)")`, []any{int64(1), int64(7), "key", "val"}},
		{"find anchored", `("hello"):find("^h")`, []any{int64(1), int64(1)}},
		{"find anchored miss", `("hello"):find("^e")`, []any{"nil"}},
		{"find dollar literal", `("a$b"):find("$b")`, []any{int64(2), int64(3)}},
		{"find %z", "(\"a\\0b\"):find(\"%z\")", []any{int64(2), int64(2)}},
		{"match trim", `("  trim me  "):match("^%s*(.-)%s*$")`, []any{"trim me"}},
		{"match whole", `("abc123"):match("%a+")`, []any{"abc"}},
		{"match digits", `("abc123"):match("%d+")`, []any{"123"}},
		{"match upper miss", `("x"):match("%u")`, []any{"nil"}},
		{"match complement class", `("abc"):match("%D+")`, []any{"abc"}},
		{"match set with escape", `("a-b_c"):match("[%w%-]+")`, []any{"a-b"}},
		{"match set with bracket", `("]x["):match("[]x]+")`, []any{"]x"}},
		{"match negated set", `("abc"):match("[^b]+")`, []any{"a"}},
		{"match range", `("2024-01-05"):match("(%d+)-(%d+)-(%d+)")`, []any{"2024", "01", "05"}},
		{"match position captures", `("hello"):match("()ll()")`, []any{int64(3), int64(5)}},
		{"match balanced", `("f(a(b)c)d"):match("%b()")`, []any{"(a(b)c)"}},
		{"match frontier", `("THE (quick) fox"):match("%f[%a]%a+", 5)`, []any{"quick"}},
		{"match back reference", `([[say "hi" ok]]):match("([\"'])(.-)%1")`, []any{`"`, "hi"}},
		{"match lazy", `("<a><b>"):match("<(.-)>")`, []any{"a"}},
		{"match greedy", `("<a><b>"):match("<(.*)>")`, []any{"a><b"}},
		{"match optional", `("colour"):match("colou?r")`, []any{"colour"}},
		{"match plus miss", `("abc"):match("%d+")`, []any{"nil"}},
		{"match empty subject", `(""):match(".*")`, []any{""}},
		{"match init", `("abcabc"):match("b", 3)`, []any{"b"}},
		{"gsub string", `("hello world"):gsub("o", "0")`, []any{"hell0 w0rld", int64(2)}},
		{"gsub captures", `("hello world"):gsub("(%w+) (%w+)", "%2 %1")`, []any{"world hello", int64(1)}},
		{"gsub whole match", `("abc"):gsub("%w", "%0%0")`, []any{"aabbcc", int64(3)}},
		{"gsub escaped percent", `("a"):gsub("a", "%%")`, []any{"%", int64(1)}},
		{"gsub table", `("$name is $age"):gsub("%$(%w+)", {name = "Ann", age = 3})`, []any{"Ann is 3", int64(2)}},
		{"gsub function", `("abc"):gsub("%w", function(c) if c == "b" then return "B" end end)`, []any{"aBc", int64(3)}},
		{"gsub limit", `("aaa"):gsub("a", "b", 2)`, []any{"bba", int64(2)}},
		{"gsub anchored", `("aaa"):gsub("^a", "b")`, []any{"baa", int64(1)}},
		{"gsub empty pattern", `("abc"):gsub("", "-")`, []any{"-a-b-c-", int64(4)}},
		{"gsub position capture", `("abc"):gsub("()", "%1")`, []any{"1a2b3c4", int64(4)}},
		{"gmatch pairs", `(function() local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t + 1] = k .. v end return table.concat(t, ",") end)()`, []any{"a1,b2"}},
		{"gmatch words", `(function() local n = 0 for w in ("one two  three"):gmatch("%a+") do n = n + 1 end return n end)()`, []any{int64(3)}},
		{"gmatch no anchor", `(function() local t = {} for w in ("^a^b"):gmatch("^.") do t[#t + 1] = w end return table.concat(t, ",") end)()`, []any{"^a,^b"}},
		{"classes", `("\t x1_!"):gsub("%s", "S"), ("x1_!"):gsub("%p", "P"), ("x1"):gsub("%w", "W"), ("aF9g"):gsub("%x", "X"), ("a\1"):gsub("%c", "C")`,
			[]any{"SSx1_!", "x1PP", "WW", "XXXg", "aC", int64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, packSrc(tc.expr), nil)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if !reflect.DeepEqual(res.Output, tc.want) {
				t.Fatalf("got %#v, want %#v", res.Output, tc.want)
			}
		})
	}
}

func TestPatternErrors(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	cases := []struct {
		name string
		expr string
		want string
	}{
		{"missing bracket", `("x"):find("[a")`, "missing ']'"},
		{"trailing percent", `("x"):find("%")`, "ends with '%'"},
		{"unfinished capture", `("x"):match("(x")`, "unfinished capture"},
		{"invalid capture close", `("x"):match("x)")`, "invalid pattern capture"},
		{"invalid back reference", `("x"):match("%1")`, "invalid capture index"},
		{"invalid replacement index", `("x"):gsub("x", "%2")`, "invalid capture index"},
		{"bad replacement type", `("x"):gsub("x", {x = {}})`, "invalid replacement value"},
		{"frontier without set", `("x"):find("%fx")`, "missing '['"},
		{"unbalanced %b", `("x"):find("%b")`, "unbalanced pattern"},
		{"too many captures", `("x"):find(("()"):rep(40))`, "too many captures"},
		{"nesting", `(("x"):rep(300)):find(("x?"):rep(300))`, "pattern too complex"},
		{"bad gsub repl", `("x"):gsub("x", true)`, "string/function/table expected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, "return "+tc.expr, nil)
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", res.Err, tc.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	e := newEngine(t, Config{Workers: 1})
	cases := []struct {
		name string
		expr string
		want string
	}{
		{"float precision", `("%5.2f"):format(3.14159)`, " 3.14"},
		{"integer truncates", `("%d"):format(3.7)`, "3"},
		{"integer from string", `("%d"):format("42")`, "42"},
		{"hex", `("%x|%X|%#x|%o"):format(255, 255, 255, 8)`, "ff|FF|0xff|10"},
		{"unsigned negative", `("%u"):format(-1)`, "18446744073709551615"},
		{"widths", `("%5s|%-5s|"):format("ab", "cd")`, "   ab|cd   |"},
		{"string precision", `("%.3s"):format("abcdef")`, "abc"},
		{"quoted", `("%q"):format("a\"b\n\0")`, "\"a\\\"b\\\n\\000\""},
		{"char", `("%c%c"):format(72, 105)`, "Hi"},
		{"exp", `("%e"):format(12345.678)`, "1.234568e+04"},
		{"g default precision", `("%g|%g|%g"):format(1234567, 0.1, 100)`, "1.23457e+06|0.1|100"},
		{"flags", `("%+d|% d|%05d|%-4d|"):format(5, 5, 42, 7)`, "+5| 5|00042|7   |"},
		{"percent", `("100%%"):format()`, "100%"},
		{"tostring semantics", `("%s|%s|%s"):format(1, 1.5, setmetatable({}, {__tostring = function() return "T" end}))`, "1|1.5|T"},
		{"long string kept", `#("%s"):format(("x"):rep(300))`, "300"},
		{"inf and nan", `("%f|%5.1f|%e"):format(1/0, -1/0, 0/0)`, "inf| -inf|nan"},
		{"i conversion", `("%i"):format(42)`, "42"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, "return tostring("+tc.expr+")", nil)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if res.Output != tc.want {
				t.Fatalf("got %q, want %q", res.Output, tc.want)
			}
		})
	}
	errs := []struct {
		name string
		expr string
		want string
	}{
		{"unknown option", `("%y"):format(1)`, "invalid option '%y'"},
		{"go verb", `("%v"):format(1)`, "invalid option '%v'"},
		{"width too long", `("%123d"):format(1)`, "too long"},
		{"missing argument", `("%d %d"):format(1)`, "bad argument #3"},
		{"not a number", `("%d"):format("x")`, "number expected"},
		{"trailing percent", `("abc%"):format()`, "invalid option"},
		{"repeated flags", `("%------d"):format(1)`, "repeated flags"},
	}
	for _, tc := range errs {
		t.Run("error "+tc.name, func(t *testing.T) {
			res := runSrc(t, e, "return "+tc.expr, nil)
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", res.Err, tc.want)
			}
		})
	}
}
