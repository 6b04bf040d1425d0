--- key: order-shipped
--- title: Tell the customer an order has shipped
--- type: collection
--- config: {"collection": "orders", "mode": 2, "changed": ["status"], "condition": {"status": "shipped"}, "appends": ["customer"]}
--- description: Runs in the background when an order's status changes to shipped, however it was changed
-- A collection-event workflow: it fires on every write to orders that matches its config —
-- HTTP actions, plugins and other workflows' db writes alike. mode 2 is update; "changed"
-- and "condition" narrow it to a status that just became "shipped". ctx.previous is the
-- order before the update.
local db = require("db")

local order = ctx.data
local text = string.format("order %d for %s shipped (was %s)", order.id, order.customer.name, ctx.previous.status)
local notification, err = db.create("notifications", { text = text, orderId = order.id })
if not notification then
  error("could not write the notification: " .. err)
end
return { notificationId = notification.id }
