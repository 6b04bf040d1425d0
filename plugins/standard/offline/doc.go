// Package offline runs workflow scripts without a server, the way a server runs them:
// `actionflow lua run FILE` and `actionflow test DIR`.
//
// A run starts a throw-away app on an in-memory store with the binary's plugins (and so
// the Lua modules they register), serves it on an in-memory listener,
// creates the fixtures and the workflow (from the file's "--- name: value" header, the
// format of `workflows apply` files) through the HTTP API, runs it with
// workflows:execute, and reads its execution back. Statuses, outputs, error messages and
// lines, timeouts, logs (print included) and messages are therefore the server's own; the
// records the script wrote (committed) are reported as writes.
//
// Golden tests: a FILE.lua with a FILE.test.json next to it —
//
//	{"fixtures": FIXTURES | "file.json",
//	 "cases": [{"name", "fixtures"?, "context": {data, user, userId, role, params, previous},
//	            "timeout"?: "200ms",
//	            "expect": {"status" (default 1), "output"?, "messages"?, "error"? (substring),
//	                       "line"?, "writes"? [{collection, action, id?, values (subset)}]}}]}
//
// where FIXTURES is {"collections": [collections:create bodies], "records": {"<coll>":
// [values...]}}. Each case runs on a fresh app; only what expect names is compared.
//
//	offline.LuaCommand(args, os.Stdout, os.Stderr, func() []core.Plugin { return myPlugins() })
package offline
