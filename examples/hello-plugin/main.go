// Command hello-plugin is actionflow with one extra Go plugin built in: it logs every
// successful create, adds a "hello" message to the response, and serves a custom action
// GET /api/hello:greet?name=Ada.
//
//	go run ./examples/hello-plugin
//
// It shows the whole plugin API a Go developer needs: a Plugin with Name and Init, a
// post-action hook, and a custom resource action.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/actionflow/actionflow/core"
)

// Hello is the plugin.
type Hello struct{}

// Name implements core.Plugin.
func (Hello) Name() string { return "hello" }

// Init implements core.Plugin: it registers a post-action hook and a custom action.
func (Hello) Init(h *core.Host) error {
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
	return h.Resource("hello", map[string]core.Action{
		"greet": {Tx: core.TxRead, Authenticated: true, Handler: func(ac *core.ActionContext) error {
			name := ac.Params.Get("name")
			if name == "" {
				return core.BadRequest("name", "is required")
			}
			ac.Result = &core.Result{Data: map[string]any{"greeting": fmt.Sprintf("hello, %s", name)}}
			return nil
		}},
	})
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app, err := core.New(core.Config{
		Addr:         envOr("ACTIONFLOW_ADDR", "127.0.0.1:13000"),
		DataDir:      envOr("ACTIONFLOW_DATA", "./data"),
		RootPassword: os.Getenv("ACTIONFLOW_ROOT_PASSWORD"),
		Logger:       log,
	}, core.WithPlugins(Hello{}))
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	if pw := app.GeneratedRootPassword(); pw != "" {
		fmt.Println("root password:", pw)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		if err := app.ListenAndServe(); err != nil {
			log.Error("serve", "err", err)
			stop()
		}
	}()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = app.Shutdown(sctx)
	if err := app.Close(sctx); err != nil {
		log.Error("close", "err", err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
