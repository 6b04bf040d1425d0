-- Lua-side tests of the time module (the Go side fixes the clock at
-- 2024-02-29T12:00:00Z).
local time = require("time")

function TestNow(t)
  t:eq(time.unix(), 1709208000)
  t:eq(time.now(), 1709208000)
end

function TestFormat(t)
  t:eq(time.format(1709208000), "2024-02-29T12:00:00Z")
  t:eq(time.format(1709208000, "date"), "2024-02-29")
  t:eq(time.format(1709208000.5, "rfc3339nano"), "2024-02-29T12:00:00.5Z")
  t:eq(time.format(0, "2006/01/02 15:04"), "1970/01/01 00:00")
end

function TestParse(t)
  t:eq(time.parse("2024-02-29T12:00:00Z"), 1709208000)
  t:eq(time.parse("2024-02-29T13:00:00+01:00"), 1709208000, "offsets")
  t:eq(time.parse("2024-02-29T12:00:00.25Z"), 1709208000.25, "fractions")
  t:eq(time.parse("2024-02-29", "date"), 1709164800)
  local v, err = time.parse("yesterday")
  t:ok(v == nil and err:find("cannot parse"), "bad input gives nil, err")
  t:ok(time.sleep == nil, "no sleep")
end
