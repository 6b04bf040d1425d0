--- key: check-order
--- title: Check an order before it is written
--- type: request-interception
--- config: {"collection": "orders", "global": true, "actions": ["create"]}
--- description: Runs before every orders:create; refuses unknown items, fills in the total
-- A pre-action workflow (always sync): it runs before the order is written. flow.fail → 400
-- and nothing is written; when it resolves, the create goes on with ctx.params.values as
-- the script left it, validated like any request.
local prices = { teapot = 19.9, cup = 4.5, saucer = 3 }

local values = ctx.params.values
local price = prices[values.item]
if price == nil then
  flow.fail(string.format("we do not sell %s", tostring(values.item)))
end

if values.total == nil then
  values.total = price * (values.quantity or 0)
end
