--- key: notify-order
--- title: Notify about a new order
--- type: action
--- config: {"collection": "orders", "global": true, "actions": ["create"], "appends": ["customer"]}
--- description: Runs after every order create, in the background; writes a notifications record
-- An async, global post-action workflow: it fires on every orders:create, queued with the
-- order and run after the response. config.appends loads the order's customer into ctx.data.
local db = require("db")
local log = require("log")

local order = ctx.data
local who = order.customer and order.customer.name or "an unknown customer"
local text = string.format("%s ordered %d x %s", who, order.quantity or 0, order.item)

log.info(text)

local notification, err = db.create("notifications", { text = text, orderId = order.id })
if not notification then
  error("could not write the notification: " .. err)
end
return { notificationId = notification.id }
