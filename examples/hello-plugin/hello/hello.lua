---@meta hello
-- LuaLS stub of the "hello" module of examples/hello-plugin (package hello's LuaModule).
-- Add this directory to your editor's Lua.workspace.library setting, next to
-- scripts/types. This file is never run.

---@class hello
local hello = {}

--- Returns the greeting "hello, <name>".
---@param name string
---@return string
function hello.greet(name) end

return hello
