package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/actionflow/actionflow/core/value"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/actionflow/actionflow/store"
	"github.com/valyala/fasthttp"
)

// Operations (API.md §12): request ids, the access log, CORS, /healthz, /readyz and
// /metrics are served here, around the router and before auth.

// maxRequestIDLen bounds a client's X-Request-Id; a longer or odd one is replaced.
const maxRequestIDLen = 64

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

// unknownAction is the action label of a request that names no registered action.
const unknownAction = "unknown"

// ReadyCheck is a readiness check a plugin adds (Host.Ready): nil when its part is ready.
type ReadyCheck func(ctx context.Context) error

type readyCheck struct {
	name  string
	check ReadyCheck
}

// ops is the App's operational state.
type ops struct {
	reqPrefix string // random per process, so request ids are unique across restarts
	reqSeq    atomic.Uint64

	metrics  *metrics.Set
	requests sync.Map // requestKey → *metrics.Counter
	reqDur   *metrics.PrometheusHistogram

	readyMu sync.Mutex
	ready   []readyCheck

	metricsServer *fasthttp.Server
	backups       sync.WaitGroup // backups streaming (GET /api/app:backup)
}

type requestKey struct {
	action string
	code   int
}

// requestInfo is what serveAPI learns about a request for the access log and metrics.
type requestInfo struct {
	action string
	userID uint64
	id     string
}

// requestInfoKey is the fasthttp user value key of the request's *requestInfo.
type requestInfoKey struct{}

func requestInfoOf(ctx *fasthttp.RequestCtx) *requestInfo {
	ri, _ := ctx.UserValue(requestInfoKey{}).(*requestInfo)
	return ri
}

func (a *App) initOps() error {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("core: request id prefix: %w", err)
	}
	a.ops.reqPrefix = hex.EncodeToString(b[:]) + "-"
	s := metrics.NewSet()
	a.ops.metrics = s
	a.ops.reqDur = s.NewPrometheusHistogram("actionflow_http_request_duration_seconds")
	s.NewGauge("actionflow_lua_states_in_use", func() float64 { return float64(a.lua.StatesInUse()) })
	if rc, ok := a.store.(store.RetryCounter); ok {
		// A counter read from the store (a gauge function is how the metrics package
		// publishes a value it does not increment itself).
		s.NewGauge("actionflow_store_conflict_retries_total", func() float64 { return float64(rc.ConflictRetries()) })
	}
	return nil
}

// Metrics is the app's metrics registry, served at /metrics in Prometheus text format.
// Plugins add their metrics here (names prefixed actionflow_, label values bounded).
func (h *Host) Metrics() *metrics.Set { return h.app.ops.metrics }

// Ready adds a readiness check: GET /readyz answers 503 naming name while check fails.
func (h *Host) Ready(name string, check ReadyCheck) {
	h.app.ops.readyMu.Lock()
	defer h.app.ops.readyMu.Unlock()
	h.app.ops.ready = append(h.app.ops.ready, readyCheck{name: name, check: check})
}

// handle is the server's handler: request id, CORS, the operational endpoints, then the
// router; the access log line and the request metrics when it is done.
func (a *App) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	ri := &requestInfo{action: unknownAction, id: a.requestID(ctx)}
	if bytes.HasPrefix(ctx.Path(), []byte("/webhooks/")) {
		ri.action = "webhook" // webhook paths are many; one label for them all
	}
	ctx.Response.Header.Set("X-Request-Id", ri.id)
	ctx.SetUserValue(requestInfoKey{}, ri)
	switch {
	case a.cors(ctx):
	case ctx.IsGet() || ctx.IsHead():
		switch string(ctx.Path()) {
		case "/healthz":
			ri.action = "healthz"
			ctx.SetStatusCode(http.StatusOK)
			ctx.SetContentType("application/json; charset=utf-8")
			ctx.SetBodyString(`{"status":"ok"}`)
		case "/readyz":
			ri.action = "readyz"
			a.serveReady(ctx)
		case "/metrics":
			if !a.cfg.DisableMetrics && a.cfg.MetricsAddr == "" {
				ri.action = "metrics"
				a.serveMetrics(ctx)
				break
			}
			a.router.Handler(ctx)
		default:
			a.router.Handler(ctx)
		}
	default:
		a.router.Handler(ctx)
	}
	a.finishRequest(ctx, ri, start)
}

// requestID is the client's X-Request-Id when it is short and plain, else a new one.
func (a *App) requestID(ctx *fasthttp.RequestCtx) string {
	if id := ctx.Request.Header.Peek("X-Request-Id"); validRequestID(id) {
		return string(id)
	}
	b := make([]byte, 0, len(a.ops.reqPrefix)+12)
	b = append(b, a.ops.reqPrefix...)
	b = strconv.AppendUint(b, a.ops.reqSeq.Add(1), 10)
	return string(b)
}

func validRequestID(id []byte) bool {
	if len(id) == 0 || len(id) > maxRequestIDLen {
		return false
	}
	for _, c := range id {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// finishRequest counts the request and writes its access log line.
func (a *App) finishRequest(ctx *fasthttp.RequestCtx, ri *requestInfo, start time.Time) {
	d := time.Since(start)
	code := ctx.Response.StatusCode()
	if !a.cfg.DisableMetrics {
		a.requestCounter(ri.action, code).Inc()
		a.ops.reqDur.Update(d.Seconds())
	}
	if a.cfg.DisableAccessLog || !a.log.Enabled(a.ctx, slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", string(ctx.Method())),
		slog.String("path", value.Truncate(string(ctx.Path()), 200)),
		slog.Int("status", code),
		slog.Duration("duration", d),
		slog.String("request", ri.id),
	}
	if ri.userID != 0 {
		attrs = append(attrs, slog.Uint64("user", ri.userID))
	}
	a.log.LogAttrs(a.ctx, slog.LevelInfo, "request", attrs...)
}

func (a *App) requestCounter(action string, code int) *metrics.Counter {
	k := requestKey{action, code}
	if c, ok := a.ops.requests.Load(k); ok {
		return c.(*metrics.Counter)
	}
	c := a.ops.metrics.GetOrCreateCounter(fmt.Sprintf(`actionflow_http_requests_total{action=%q,code="%d"}`, action, code))
	a.ops.requests.Store(k, c)
	return c
}

// actionLabel is the bounded action label of a resolved request: registered resources and
// actions only (collection names are the operator's).
func actionLabel(ac *ActionContext) string { return ac.Resource + ":" + ac.Action }

func (a *App) serveMetrics(ctx *fasthttp.RequestCtx) {
	var b bytes.Buffer
	a.ops.metrics.WritePrometheus(&b)
	metrics.WriteProcessMetrics(&b)
	ctx.SetStatusCode(http.StatusOK)
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetBody(b.Bytes())
}

// serveReady answers 200 when the store answers a write and a read and every plugin's
// check passes, else 503 naming what is not ready.
func (a *App) serveReady(ctx *fasthttp.RequestCtx) {
	failed := a.notReady()
	ctx.SetContentType("application/json; charset=utf-8")
	if len(failed) == 0 {
		ctx.SetStatusCode(http.StatusOK)
		ctx.SetBodyString(`{"status":"ready"}`)
		return
	}
	writeError(ctx, &Error{Status: http.StatusServiceUnavailable, Code: "NOT_READY",
		Message: "not ready: " + strings.Join(failed, "; ")})
}

// notReady runs the readiness checks; it returns "<name>: <error>" for each that fails.
func (a *App) notReady() []string {
	checks := []readyCheck{{name: "store", check: a.checkStore}}
	a.ops.readyMu.Lock()
	checks = append(checks, a.ops.ready...)
	a.ops.readyMu.Unlock()
	var failed []string
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(a.ctx, readyTimeout)
		err := runCheck(ctx, c.check)
		cancel()
		if err != nil {
			failed = append(failed, c.name+": "+err.Error())
		}
	}
	return failed
}

// runCheck runs check, giving up when ctx ends (a store that hangs is not ready).
func runCheck(ctx context.Context, check ReadyCheck) error {
	done := make(chan error, 1)
	go func() { done <- check(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", readyTimeout)
	}
}

// checkStore writes the readiness key and reads it back.
func (a *App) checkStore(context.Context) error {
	v := strconv.AppendInt(nil, time.Now().UnixNano(), 10)
	if err := a.store.Update(func(tx store.Txn) error { return tx.Set(store.ReadinessKey(), v) }); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	var got []byte
	if err := a.store.View(func(tx store.Txn) error {
		var err error
		got, err = tx.Get(store.ReadinessKey())
		return err
	}); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if len(got) == 0 {
		return errors.New("read: value missing")
	}
	return nil
}

// cors applies Config.CORSOrigins: it adds the CORS headers for an allowed Origin, and
// answers a preflight (OPTIONS with Access-Control-Request-Method) itself, before auth. It
// reports whether it answered the request.
func (a *App) cors(ctx *fasthttp.RequestCtx) bool {
	if len(a.cfg.CORSOrigins) == 0 {
		return false
	}
	// Every response depends on Origin when CORS is configured: a cache must not serve an
	// answer without the CORS headers to a request that has an allowed Origin.
	ctx.Response.Header.Add("Vary", "Origin")
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		return false
	}
	any := slices.Contains(a.cfg.CORSOrigins, "*")
	allowed := any || slices.Contains(a.cfg.CORSOrigins, string(origin))
	preflight := ctx.IsOptions() && len(ctx.Request.Header.Peek("Access-Control-Request-Method")) > 0
	if !allowed {
		if preflight {
			writeError(ctx, Forbidden("origin %q is not allowed (--cors-origins)", value.Truncate(string(origin), 100)))
			return true
		}
		return false
	}
	h := &ctx.Response.Header
	if any {
		// Credentials are never allowed with "*": the API takes a bearer token, not cookies.
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", string(origin))
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
	if !preflight {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Role, X-Request-Id")
	h.Set("Access-Control-Max-Age", "600")
	ctx.SetStatusCode(http.StatusNoContent)
	return true
}

// ServeMetrics serves /metrics alone on ln (Config.MetricsAddr) until Shutdown.
func (a *App) ServeMetrics(ln net.Listener) error {
	if a.ops.metricsServer == nil {
		return errors.New("core: no metrics listener: Config.MetricsAddr is empty or metrics are off")
	}
	return a.ops.metricsServer.Serve(ln)
}

// newMetricsServer is the server of the metrics listener (Config.MetricsAddr).
func (a *App) newMetricsServer() *fasthttp.Server {
	return &fasthttp.Server{
		Name:                  "actionflow-metrics",
		NoDefaultServerHeader: true,
		ReadTimeout:           a.cfg.ReadTimeout,
		WriteTimeout:          a.cfg.WriteTimeout,
		IdleTimeout:           a.cfg.IdleTimeout,
		Handler: func(ctx *fasthttp.RequestCtx) {
			if string(ctx.Path()) != "/metrics" {
				writeError(ctx, NotFound("no route for %s", value.Truncate(string(ctx.Path()), 100)))
				return
			}
			a.serveMetrics(ctx)
		},
	}
}

// backupResource is /api/app:backup: a consistent backup of the running store, streamed;
// root only. `actionflow restore` (store.Restore) reads it.
func (a *App) backupResource() map[string]Action {
	return map[string]Action{
		"backup": {Tx: TxNone, AllowGET: true, Handler: func(ac *ActionContext) error {
			if ac.Role != RoleRoot {
				return Forbidden("only root may back up the app")
			}
			b, ok := a.store.(store.Backuper)
			if !ok {
				return &Error{Status: http.StatusBadRequest, Code: "NOT_SUPPORTED",
					Message: "this store has no built-in backup; use the database's own tools"}
			}
			pr, pw := io.Pipe()
			a.ops.backups.Add(1)
			go func() {
				defer a.ops.backups.Done()
				// Close ends the backup (and waits for it) before it closes the store.
				stop := context.AfterFunc(a.ctx, func() { _ = pr.CloseWithError(errors.New("core: the server is closing")) })
				defer stop()
				// An error closes the pipe with it: the response then ends without its last
				// chunk, so the client sees a broken transfer, never a short backup.
				err := b.Backup(pw)
				if err != nil {
					a.log.Error("backup failed", "request", ac.RequestID, "err", err)
				}
				pw.CloseWithError(err)
			}()
			ac.Result = &Result{Body: pr, ContentType: "application/octet-stream",
				Header: [][2]string{{"Content-Disposition", `attachment; filename="actionflow.backup"`}}}
			return nil
		}},
	}
}
