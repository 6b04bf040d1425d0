package core

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/store"
	"github.com/valyala/fasthttp"
)

// Plugin extends an App. Init runs in list order when the app is built; a plugin that also
// implements Closer is closed in reverse order when the app closes.
type Plugin interface {
	Name() string
	Init(h *Host) error
}

// Closer is implemented by plugins that hold resources.
type Closer interface {
	Close(ctx context.Context) error
}

// Starter is implemented by plugins that start background work (workers, dispatchers) once
// every plugin has initialised and the app is about to serve.
type Starter interface {
	Start(ctx context.Context) error
}

// Host is what a plugin may touch: hooks, resources and actions, routes, its store
// namespace, the record layer, the Lua module registry and a logger.
type Host struct {
	app    *App
	plugin string
	logger *slog.Logger
}

// Name is the plugin's name.
func (h *Host) Name() string { return h.plugin }

// Logger logs with plugin=<name>.
func (h *Host) Logger() *slog.Logger { return h.logger }

// Hook adds a pipeline hook. IDs are global: use "<plugin>.<what>".
func (h *Host) Hook(p Phase, hk Hook) error { return h.app.hooks.add(p, hk) }

// Resource adds actions to a resource. A resource named like a collection overrides that
// collection's default actions; a nested resource is named "<parent>.<child>"
// (collections.fields). Adding an action twice is an error.
func (h *Host) Resource(name string, actions map[string]Action) error {
	return h.app.addActions(name, actions)
}

// CollectionAction adds an action every data collection answers (e.g. "trigger").
func (h *Host) CollectionAction(name string, a Action) error {
	return h.app.addCollectionAction(name, a)
}

// Route adds a plain fasthttp route outside /api (health checks, webhooks). The handler must
// not keep the RequestCtx after it returns. The node's caches are brought up to date with
// the store first (App.SyncCaches), as for an API request.
func (h *Host) Route(method, path string, handler fasthttp.RequestHandler) {
	app := h.app
	h.app.router.Handle(method, path, func(ctx *fasthttp.RequestCtx) {
		if err := app.SyncCaches(); err != nil {
			writeError(ctx, asError(err))
			return
		}
		handler(ctx)
	})
}

// Store is the plugin's namespace in the store: keys under the returned prefix are its own.
func (h *Host) Store() (store.Store, []byte) { return h.app.store, store.PluginPrefix(h.plugin) }

// Data is the record layer.
func (h *Host) Data() *Data { return h.app.data }

// App is the application (for Update/View and the schema).
func (h *Host) App() *App { return h.app }

// OnRecord adds a listener that sees every record write inside its transaction.
func (h *Host) OnRecord(l RecordListener) { h.app.data.Listen(l) }

// DefineCollection creates a system collection at start-up when it does not exist yet
// (workflows, executions). Its records are served by the data API under root/admin rules.
func (h *Host) DefineCollection(def *Collection) error {
	def.System = true
	return h.app.ensureCollection(def)
}

// Lua is the Lua module registry plugins add modules to (the workflow engine adds flow and
// db). It is nil when the app runs without a Lua engine.
func (h *Host) Lua() *runtime.Engine { return h.app.lua }

// LuaModule adds a host Lua module that every workflow script can use: require(m.Name),
// or the global m.Name when m.Global. Call it from Init; module names are unique across
// plugins and may not shadow a Lua builtin.
func (h *Host) LuaModule(m runtime.Module) error {
	if err := h.app.lua.Register(m); err != nil {
		return fmt.Errorf("core: plugin %s: %w", h.plugin, err)
	}
	return nil
}

// initPlugins runs Init in order; on failure it closes the ones already initialised.
func (a *App) initPlugins(plugins []Plugin) error {
	seen := map[string]bool{}
	for _, p := range plugins {
		name := p.Name()
		if name == "" || seen[name] {
			return fmt.Errorf("core: plugin name %q is empty or used twice", name)
		}
		seen[name] = true
	}
	for _, p := range plugins {
		h := &Host{app: a, plugin: p.Name(), logger: a.log.With("plugin", p.Name())}
		if err := p.Init(h); err != nil {
			a.closePlugins(context.Background())
			return fmt.Errorf("core: init plugin %s: %w", p.Name(), err)
		}
		a.plugins = append(a.plugins, p)
	}
	return nil
}

func (a *App) closePlugins(ctx context.Context) error {
	var first error
	for i := len(a.plugins) - 1; i >= 0; i-- {
		if c, ok := a.plugins[i].(Closer); ok {
			if err := c.Close(ctx); err != nil && first == nil {
				first = fmt.Errorf("core: close plugin %s: %w", a.plugins[i].Name(), err)
			}
		}
	}
	a.plugins = nil
	return first
}
