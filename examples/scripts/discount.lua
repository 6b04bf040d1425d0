-- A workflow script to try with `actionflow lua run`:
--
--   go run ./cmd/actionflow lua run examples/scripts/discount.lua \
--     --data '{"id":7,"total":120,"items":["a","b","c"]}' --user '{"email":"ada@example.com"}'
--
-- It reads the record (ctx.data) and the acting user (ctx.user), logs a line and returns a
-- small table, which becomes the execution's output.
local json = require("json")
local log = require("log")

local total = ctx.data.total or 0
local discount = 0
if #ctx.data.items >= 3 then
  discount = math.floor(total * 0.1)
end

log.info("order " .. ctx.data.id .. " by " .. ctx.user.email .. ": discount " .. discount)

return {
  order = ctx.data.id,
  discount = discount,
  pay = total - discount,
  summary = json.encode({ items = #ctx.data.items }),
}
