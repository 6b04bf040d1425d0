-- Lua-side checks of the sandbox as scripts see it.

function TestNoEscapeHatches(t)
  for _, name in ipairs({"os", "io", "debug", "package", "coroutine", "load", "loadstring",
                         "dofile", "loadfile", "getfenv", "setfenv", "collectgarbage"}) do
    t:ok(_G[name] == nil, name .. " must not exist")
  end
  t:ok(string.dump == nil, "string.dump must not exist")
end

function TestMetatables(t)
  t:eq(getmetatable(""), "locked")
  t:ok(not pcall(setmetatable, 1, {}), "setmetatable on a number")
  t:ok(not pcall(setmetatable, _G, {}), "env metatable is protected")
  local obj = setmetatable({}, {__index = function(_, k) return k .. "!" end})
  t:eq(obj.hi, "hi!", "metatables on tables work")
end

function TestGlobalsAreFresh(t)
  t:ok(leftover == nil, "no global from an earlier test")
  leftover = true
end

function TestLimits(t)
  t:ok(not pcall(string.rep, "x", 2^30), "string.rep is capped")
  local ok, err = pcall(function() return ("a"):rep(3000):find(".-.-b$") end)
  t:ok(not ok and err:find("too complex"), "backtracking is budgeted")
end

function TestLogs(t)
  local log = require("log")
  log.info("hello", 1, true)
  log.warn("careful")
end
