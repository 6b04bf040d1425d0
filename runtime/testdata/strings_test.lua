-- Lua-side tests of the embedded strings module (scripts/lua/strings.lua).
local strings = require("strings")

function TestSplit(t)
  t:eq(strings.split("a,b,c", ","), {"a", "b", "c"})
  t:eq(strings.split("a,,c", ","), {"a", "", "c"}, "empty pieces kept")
  t:eq(strings.split("abc", ","), {"abc"}, "no separator")
  t:eq(strings.split("a.b.c", "."), {"a", "b", "c"}, "separator is plain, not a pattern")
  t:eq(strings.split("a::b::c", "::", 2), {"a", "b::c"}, "max pieces")
  t:eq(strings.split("abc", ""), {"a", "b", "c"}, "empty separator")
  t:eq(strings.split("x,y"), {"x", "y"}, "comma by default")
  local ok = pcall(strings.split, nil)
  t:ok(not ok, "split(nil) raises")
end

function TestTrim(t)
  t:eq(strings.trim("  hi \t\n"), "hi")
  t:eq(strings.ltrim("  hi  "), "hi  ")
  t:eq(strings.rtrim("  hi  "), "  hi")
  t:eq(strings.trim(""), "")
  t:eq(strings.trim("   "), "")
end

function TestPrefixes(t)
  t:ok(strings.startswith("actionflow", "action"))
  t:ok(not strings.startswith("actionflow", "flow"))
  t:ok(strings.endswith("actionflow", "flow"))
  t:ok(strings.endswith("x", ""))
  t:ok(not strings.endswith("x", "xx"))
  t:ok(strings.contains("a.b", "."))
  t:ok(not strings.contains("ab", "."))
end

function TestJoin(t)
  t:eq(strings.join({"a", 1, true}, "-"), "a-1-true")
  t:eq(strings.join({}), "")
end

function TestSameTableWithinRun(t)
  t:ok(require("strings") == strings, "require caches per run")
end
