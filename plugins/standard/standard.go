// Package standard is the actionflow product: the plugins an actionflow server runs
// (Plugins), the way it serves and stops (Serve, Stop), and the whole actionflow command
// line — serve with every flag and env variable, lua run|check, workflows apply, version,
// help — as one call with extra plugins after the standard ones:
//
//	func main() { standard.Main(hello.New()) }
//
// cmd/actionflow is that line without extra plugins; the load benchmark serves Plugins too,
// so that both run the same product. The file format and planner of "workflows apply" are
// in package workflowfiles.
package standard

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/admin"
	"github.com/actionflow/actionflow/plugins/collectiontrigger"
	"github.com/actionflow/actionflow/plugins/customaction"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// MemoryLimit is the default soft limit of the Go heap (`actionflow serve --memory-limit`,
// debug.SetMemoryLimit): the GC works harder above it instead of letting the heap grow to
// twice the live heap. Under actionflow-bench W1-W4 the live heap stays near 60-65 MB.
// In --quick runs the limit costs no measurable throughput and keeps the peak RSS near
// 140 MB (180-190 MB with 150 MiB); once the store is large (10 s runs) it costs W2 about
// a fifth of its rate (9.7k against 12.4k req/s with 150 MiB) for 55 MB less RSS. It is
// far below the Lua memory watchdog's limit (256 MiB of live heap), so the GC works
// harder long before the watchdog would judge.
const MemoryLimit = 100 << 20

// Plugins returns the workflow engine and every trigger plugin: pre-action interception,
// post-action, collection events and custom actions; and the admin console at /admin/.
func Plugins(cfg workflow.Config) []core.Plugin {
	wf := workflow.New(cfg)
	return []core.Plugin{wf, interceptor.New(wf), actiontrigger.New(wf), collectiontrigger.New(wf), customaction.New(wf), admin.New()}
}

// Serve runs serve (which blocks while it serves) until it returns or the process gets
// SIGINT or SIGTERM; ready runs once serve has been started. A failure of serve is logged;
// Serve reports whether there was none. The caller then stops the app (Stop).
func Serve(serve func() error, log *slog.Logger, ready func()) bool {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- serve() }()
	ready()
	select {
	case err := <-serveErr:
		if err != nil {
			log.Error("serve", "err", err)
			return false
		}
	case <-ctx.Done():
		log.Info("shutting down")
	}
	return true
}

// Stop shuts app down gracefully (in-flight requests finish) and closes it, within 30 s.
// Failures are logged; it reports whether both steps succeeded.
func Stop(app *core.App, log *slog.Logger) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok := true
	if err := app.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		ok = false
	}
	if err := app.Close(ctx); err != nil {
		log.Error("close", "err", err)
		ok = false
	}
	return ok
}
