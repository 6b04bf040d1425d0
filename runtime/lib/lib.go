// Package lib assembles the standard host modules of the Lua runtime:
// json, log, time, crypto, env and http (see each package under runtime/lib
// for its Lua functions).
//
//	eng, err := runtime.New(runtime.Config{}, lib.Standard(lib.StdConfig{
//		HTTPAllowHosts: []string{"api.example.com"},
//	})...)
package lib

import (
	"os"
	"time"

	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/runtime/lib/crypto"
	"github.com/actionflow/actionflow/runtime/lib/env"
	luahttp "github.com/actionflow/actionflow/runtime/lib/http"
	luajson "github.com/actionflow/actionflow/runtime/lib/json"
	lualog "github.com/actionflow/actionflow/runtime/lib/log"
	luatime "github.com/actionflow/actionflow/runtime/lib/time"
)

// StdConfig configures the standard modules. The zero value is usable:
// outbound HTTP is off, sizes take their defaults.
type StdConfig struct {
	HTTPAllowHosts []string      // hosts the http module may reach; empty refuses every request
	HTTPTimeout    time.Duration // per-request timeout; 0 means 10s
	HTTPMaxBody    int64         // response body cap; 0 means 1 MiB
	JSONMaxBytes   int           // json encode/decode cap; 0 means 1 MiB
}

// Standard returns json, log, time, crypto, env (reading os.LookupEnv) and
// http, none of them global: scripts require them.
func Standard(cfg StdConfig) []runtime.Module {
	return []runtime.Module{
		luajson.Module(cfg.JSONMaxBytes),
		lualog.Module(),
		luatime.Module(nil),
		crypto.Module(),
		env.Module(os.LookupEnv),
		luahttp.Module(luahttp.Config{AllowHosts: cfg.HTTPAllowHosts, Timeout: cfg.HTTPTimeout, MaxBody: cfg.HTTPMaxBody}),
	}
}
