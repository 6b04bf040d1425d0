package core_test

import (
	"context"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/runtime"
)

// luaModulePlugin registers one Lua module through the Host.
type luaModulePlugin struct{ name, module string }

func (p luaModulePlugin) Name() string { return p.name }
func (p luaModulePlugin) Init(h *core.Host) error {
	return h.LuaModule(runtime.Module{Name: p.module, Open: func(L *lua.LState, _ *runtime.Run) lua.LValue {
		return lua.LString(p.name)
	}})
}

func TestHostLuaModule(t *testing.T) {
	tests := []struct {
		name    string
		plugins []core.Plugin
		wantErr string // empty: the app starts and scripts can require the module
	}{
		{"registered", []core.Plugin{luaModulePlugin{"a", "greeter"}}, ""},
		{"a name two plugins use", []core.Plugin{luaModulePlugin{"a", "greeter"}, luaModulePlugin{"b", "greeter"}}, `core: plugin b: runtime: duplicate module "greeter"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, err := core.New(core.Config{InMemory: true, BcryptCost: 4, RootPassword: "pw"}, core.WithPlugins(tc.plugins...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close(context.Background())
			script, err := app.Lua().Compile("t", `return require("greeter")`)
			if err != nil {
				t.Fatal(err)
			}
			res := app.Lua().Run(context.Background(), runtime.Request{Script: script})
			if res.Err != nil || res.Output != "a" {
				t.Fatalf("output %v, err %v", res.Output, res.Err)
			}
		})
	}
}
