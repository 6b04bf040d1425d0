---@meta
-- LuaLS type stubs for actionflow workflows (API.md §7).
-- Add this directory to your editor's Lua.workspace.library setting.
-- This file is never run.

---------------------------------------------------------------------------
-- ctx: the run's context (a fresh global in every run)
---------------------------------------------------------------------------

---@class actionflow.Workflow
---@field id integer
---@field key string
---@field title string

---@class actionflow.Execution
---@field id integer

---@class actionflow.Params
---@field filterByTk any|nil       # target key of the action, if any
---@field filter table|nil         # the action's filter
---@field values table|nil         # values of create/update; a pre-action script may change them

---@class actionflow.Context
---@field data table|nil            # the record of the action (post-action), with its appends
---@field user table|nil            # the acting user, hidden fields removed
---@field roleName string|nil       # the role the user acted with
---@field params actionflow.Params|nil # pre-action (request-interception) workflows only
---@field workflow actionflow.Workflow
---@field execution actionflow.Execution

---@type actionflow.Context
ctx = {}

---------------------------------------------------------------------------
-- flow: control of the execution (a global; require("flow") is the same table)
---------------------------------------------------------------------------

---@class actionflow.flow
flow = {}

--- Adds a message to the response ("messages": [{"message": text}]).
---@param text string
function flow.message(text) end

--- Ends the run as failed (status -1). In a sync workflow the action answers 400 with msg.
---@param msg string
function flow.fail(msg) end

--- Ends the run as resolved and skips the workflows after this one.
function flow.finish() end

---------------------------------------------------------------------------
-- db: records (require("db")); every function returns its result or nil, err
---------------------------------------------------------------------------

---@class actionflow.ListOptions
---@field filter table|nil     # same operators as the HTTP API ($eq, $in, $and, ...)
---@field sort string|string[]|nil # "-createdAt,title" or {"-createdAt", "title"}
---@field page integer|nil     # from 1
---@field pageSize integer|nil # default 20, max 1000
---@field appends string[]|nil

---@class actionflow.db
local db = {}

---@param collection string
---@param id any
---@return table|nil record
---@return string|nil err
function db.get(collection, id) end

---@param collection string
---@param options actionflow.ListOptions|nil
---@return table[]|nil records
---@return string|nil err
function db.list(collection, options) end

---@param collection string
---@param values table
---@return table|nil record
---@return string|nil err
function db.create(collection, values) end

--- Updates the records; `{n = {["$inc"] = 1}}` adds to an integer or float field atomically.
---@param collection string
---@param id_or_filter any
---@param values table
---@return table[]|nil records
---@return string|nil err
function db.update(collection, id_or_filter, values) end

---@param collection string
---@param id_or_filter any
---@return integer|nil removed
---@return string|nil err
function db.destroy(collection, id_or_filter) end

---------------------------------------------------------------------------
-- json (require("json"))
---------------------------------------------------------------------------

---@class actionflow.json
---@field null userdata # sentinel for JSON null
local json = {}

--- Encodes a value; an empty table encodes as {} unless made with json.array().
---@param value any
---@return string|nil text
---@return string|nil err
function json.encode(value) end

--- Decodes a JSON document; arrays keep their array-ness, null members of objects are dropped.
---@param text string
---@return any value
---@return string|nil err
function json.decode(text) end

--- Marks t (or a new table) as an array, so that it encodes as [] when empty.
---@param t table|nil
---@return table
function json.array(t) end

---------------------------------------------------------------------------
-- log (require("log")): lines are kept on the execution
---------------------------------------------------------------------------

---@class actionflow.log
local log = {}

---@param ... any
function log.info(...) end

---@param ... any
function log.warn(...) end

---@param ... any
function log.error(...) end

---------------------------------------------------------------------------
-- time (require("time")): unix seconds; no sleep
---------------------------------------------------------------------------

---@alias actionflow.TimeLayout "rfc3339"|"rfc3339nano"|"date"|"datetime"|string

---@class actionflow.time
local time = {}

---@return number seconds unix time with microseconds
function time.now() end

---@return integer seconds
function time.unix() end

--- Formats in UTC; layout is a name or a Go reference layout ("2006-01-02 15:04").
---@param ts number
---@param layout actionflow.TimeLayout|nil
---@return string
function time.format(ts, layout) end

---@param text string
---@param layout actionflow.TimeLayout|nil
---@return number|nil seconds
---@return string|nil err
function time.parse(text, layout) end

---------------------------------------------------------------------------
-- crypto (require("crypto"))
---------------------------------------------------------------------------

---@class actionflow.crypto
local crypto = {}

---@param s string
---@return string hex
function crypto.sha256(s) end

---@param key string
---@param s string
---@return string hex
function crypto.hmac_sha256(key, s) end

---@return string uuid a random (v4) UUID
function crypto.uuid() end

---@param n integer bytes, 1..1024
---@return string hex 2n hex characters
function crypto.random_hex(n) end

---------------------------------------------------------------------------
-- env (require("env")): only ACTIONFLOW_ENV_* variables
---------------------------------------------------------------------------

---@class actionflow.env
local env = {}

---@param name string
---@return string|nil
function env.get(name) end

---------------------------------------------------------------------------
-- http (require("http")): allowed hosts only, off by default
---------------------------------------------------------------------------

---@class actionflow.HTTPRequest
---@field method string|nil               # default "GET"
---@field url string
---@field headers table<string, string>|nil
---@field body string|nil
---@field timeout number|nil              # seconds

---@class actionflow.HTTPResponse
---@field status integer
---@field headers table<string, string>   # lower-case names
---@field body string

---@class actionflow.http
local http = {}

---@param req actionflow.HTTPRequest
---@return actionflow.HTTPResponse|nil
---@return string|nil err
function http.request(req) end

---@param url string
---@param headers table<string, string>|nil
---@return actionflow.HTTPResponse|nil
---@return string|nil err
function http.get(url, headers) end

---@param url string
---@param body string|nil
---@param headers table<string, string>|nil
---@return actionflow.HTTPResponse|nil
---@return string|nil err
function http.post(url, body, headers) end

---------------------------------------------------------------------------
-- strings (require("strings")): pure-Lua helpers shipped in scripts/lua
---------------------------------------------------------------------------

---@class actionflow.strings
local strings = {}

---@param s string
---@param sep string|nil plain separator, default ","
---@param max integer|nil
---@return string[]
function strings.split(s, sep, max) end

---@param s string
---@return string
function strings.trim(s) end

---@param s string
---@return string
function strings.ltrim(s) end

---@param s string
---@return string
function strings.rtrim(s) end

---@param s string
---@param prefix string
---@return boolean
function strings.startswith(s, prefix) end

---@param s string
---@param suffix string
---@return boolean
function strings.endswith(s, suffix) end

---@param s string
---@param needle string
---@return boolean
function strings.contains(s, needle) end

---@param list any[]
---@param sep string|nil
---@return string
function strings.join(list, sep) end

---------------------------------------------------------------------------
-- require: host modules and embedded modules only
---------------------------------------------------------------------------

---@overload fun(name: "flow"): actionflow.flow
---@overload fun(name: "db"): actionflow.db
---@overload fun(name: "json"): actionflow.json
---@overload fun(name: "log"): actionflow.log
---@overload fun(name: "time"): actionflow.time
---@overload fun(name: "crypto"): actionflow.crypto
---@overload fun(name: "env"): actionflow.env
---@overload fun(name: "http"): actionflow.http
---@overload fun(name: "strings"): actionflow.strings
---@param name string
---@return any
function require(name) end
