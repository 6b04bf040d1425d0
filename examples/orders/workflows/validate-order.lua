--- key: validate-order
--- title: Validate an order
--- type: action
--- sync: true
--- config: {"collection": "orders"}
--- description: Bound to the create button: POST /api/orders:create?triggerWorkflows=validate-order
-- A sync, local (bound) post-action workflow: it runs inside the request that names it and
-- decides the response. flow.fail → 400 with the message (the order stays saved, API.md §5);
-- flow.message → a message next to the order in the 200 response.
local order = ctx.data
local quantity = order.quantity

if quantity == nil or quantity < 1 or quantity > 100 then
  flow.fail("quantity must be between 1 and 100")
end

flow.message(string.format("order %d accepted: %d x %s", order.id, quantity, order.item))
return { orderId = order.id, quantity = quantity }
