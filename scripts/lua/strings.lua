-- strings: small string helpers for workflows.
--   local strings = require("strings")
-- All functions take plain strings (no Lua patterns in separators).
local M = {}

local find, sub = string.find, string.sub

-- split(s, sep[, max]) -> array of pieces. sep defaults to ",". An empty sep
-- splits into single bytes. max (optional) limits the number of pieces; the
-- last piece holds the rest.
function M.split(s, sep, max)
  if type(s) ~= "string" then error("strings.split: string expected", 2) end
  sep = sep or ","
  local out = {}
  if sep == "" then
    for i = 1, #s do out[i] = sub(s, i, i) end
    return out
  end
  local start = 1
  while true do
    if max and #out == max - 1 then break end
    local i, j = find(s, sep, start, true)
    if not i then break end
    out[#out + 1] = sub(s, start, i - 1)
    start = j + 1
  end
  out[#out + 1] = sub(s, start)
  return out
end

local function isspace(c)
  return c == " " or c == "\t" or c == "\n" or c == "\r" or c == "\f" or c == "\v"
end

-- ltrim(s) removes leading whitespace.
function M.ltrim(s)
  local i = 1
  while i <= #s and isspace(sub(s, i, i)) do i = i + 1 end
  return sub(s, i)
end

-- rtrim(s) removes trailing whitespace.
function M.rtrim(s)
  local j = #s
  while j >= 1 and isspace(sub(s, j, j)) do j = j - 1 end
  return sub(s, 1, j)
end

-- trim(s) removes leading and trailing whitespace.
function M.trim(s)
  return M.rtrim(M.ltrim(s))
end

-- startswith(s, prefix) -> boolean
function M.startswith(s, prefix)
  return sub(s, 1, #prefix) == prefix
end

-- endswith(s, suffix) -> boolean
function M.endswith(s, suffix)
  return suffix == "" or sub(s, -#suffix) == suffix
end

-- contains(s, needle) -> boolean (plain search)
function M.contains(s, needle)
  return find(s, needle, 1, true) ~= nil
end

-- join(list, sep) -> string; elements are converted with tostring.
function M.join(list, sep)
  local parts = {}
  for i = 1, #list do parts[i] = tostring(list[i]) end
  return table.concat(parts, sep or "")
end

return M
