// Package hello is a complete actionflow Go plugin: a post-action hook, a resource action
// and a Lua module for workflow scripts.
//
//   - After every successful create it logs the record and adds the response message
//     "hello from the hello plugin".
//   - GET /api/hello:greet?name=Ada answers {"data":{"greeting":"hello, Ada"}}.
//   - Workflow scripts may require("hello"): hello.greet("Ada") returns "hello, Ada"
//     (LuaLS stub: hello.lua next to this file).
package hello

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/runtime"
)

// Plugin is the hello plugin.
type Plugin struct{}

// New returns the plugin, for core.WithPlugins or standard.Main.
func New() *Plugin { return &Plugin{} }

// Name implements core.Plugin.
func (*Plugin) Name() string { return "hello" }

// Init implements core.Plugin: it registers a post-action hook, a resource action and a
// Lua module.
func (*Plugin) Init(h *core.Host) error {
	log := h.Logger()
	err := h.Hook(core.AfterAction, core.Hook{ID: "hello.after-create", Fn: func(ac *core.ActionContext) error {
		if ac.Collection == nil || ac.Action != "create" {
			return nil
		}
		log.Info("record created", "collection", ac.Collection.Name, "user", ac.UserID)
		ac.Result.Messages = append(ac.Result.Messages, core.Message{Message: "hello from the hello plugin"})
		return nil
	}})
	if err != nil {
		return err
	}
	err = h.Resource("hello", map[string]core.Action{
		"greet": {Tx: core.TxRead, Authenticated: true, Handler: func(ac *core.ActionContext) error {
			name := ac.Params.Get("name")
			if name == "" {
				return core.BadRequest("name", "is required")
			}
			ac.Result = &core.Result{Data: map[string]any{"greeting": Greet(name)}}
			return nil
		}},
	})
	if err != nil {
		return err
	}
	return h.LuaModule(LuaModule())
}

// Greet is the greeting of both the action and the Lua module.
func Greet(name string) string { return "hello, " + name }

// LuaModule is the Lua module "hello": hello.greet(name) returns Greet(name).
func LuaModule() runtime.Module {
	return runtime.Module{
		Name: "hello",
		Doc:  "hello.greet(name) -> \"hello, <name>\"",
		Open: func(L *lua.LState, _ *runtime.Run) lua.LValue {
			t := L.CreateTable(0, 1)
			t.RawSetString("greet", L.NewFunction(func(L *lua.LState) int {
				L.Push(lua.LString(Greet(L.CheckString(1))))
				return 1
			}))
			return t
		},
	}
}
