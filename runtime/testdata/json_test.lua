-- Lua-side tests of the json module.
local json = require("json")

function TestRoundTrip(t)
  local doc = '{"a":1,"b":[1,2,3],"c":{"d":"x"},"e":true,"f":1.5}'
  local v = json.decode(doc)
  t:eq(v.a, 1)
  t:eq(#v.b, 3)
  t:eq(v.c.d, "x")
  t:eq(json.encode(v), doc, "encode(decode(doc))")
end

function TestEmptyTables(t)
  t:eq(json.encode({}), "{}", "plain empty table is an object")
  t:eq(json.encode(json.array()), "[]", "json.array() is an array")
  local v = json.decode('{"list":[],"obj":{}}')
  t:eq(json.encode(v), '{"list":[],"obj":{}}', "decoded arrays keep array-ness")
  table.insert(v.list, 1)
  table.remove(v.list)
  t:eq(json.encode(v.list), "[]", "array emptied by the script stays an array")
end

function TestNull(t)
  local v = json.decode('[1,null,3]')
  t:ok(v[2] == json.null, "null element is json.null")
  t:eq(#v, 3)
  t:eq(json.encode(v), "[1,null,3]")
  t:eq(json.encode({a = json.null}), '{"a":null}')
  local o = json.decode('{"a":null,"b":1}')
  t:ok(o.a == nil, "null members are dropped")
  t:ok(json.decode("null") == json.null, "top-level null")
  t:eq(tostring(json.null), "null")
end

function TestErrors(t)
  local v, err = json.decode("{bad")
  t:ok(v == nil and type(err) == "string", "decode error returns nil, err")
  v, err = json.decode("[1] [2]")
  t:ok(v == nil and err:find("after the document"), "trailing data")
  v, err = json.encode({f = function() end})
  t:ok(v == nil and err:find("function"), "functions cannot be encoded")
  local cyc = {}
  cyc.self = cyc
  v, err = json.encode(cyc)
  t:ok(v == nil and err:find("itself"), "cycles are errors, not hangs")
  v, err = json.encode(0/0)
  t:ok(v == nil, "NaN cannot be encoded")
end

function TestNumbersAndStrings(t)
  t:eq(json.encode({n = 3, f = 0.25, big = 2^53}), '{"big":9007199254740992,"f":0.25,"n":3}')
  t:eq(json.encode("<a & b>"), '"<a & b>"', "no HTML escaping")
  t:eq(json.decode('"\\u00e9\\n"'), "é\n")
end

function TestMixedTables(t)
  t:eq(json.encode({1, 2, x = 3}), '{"1":1,"2":2,"x":3}', "mixed tables become objects")
  t:eq(json.encode({[1] = "a", [3] = "c"}), '{"1":"a","3":"c"}', "sparse tables become objects")
end
