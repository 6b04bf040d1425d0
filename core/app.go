// Package core is actionflow's kernel: the App with its plugins, the action pipeline and its
// hooks, resources and actions, collections and records, auth and ACL, and the fasthttp
// server. See DESIGN.md for the way of a request.
package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actionflow/actionflow/core/record"
	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/store"
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/bcrypt"
)

// Config configures an App. Zero values mean the documented defaults.
type Config struct {
	// Addr is the listen address (default 127.0.0.1:13000).
	Addr string
	// Store is the store's URL: empty for the embedded badger store in DataDir, or
	// postgres://user:password@host:port/db?sslmode=disable for PostgreSQL 15 or later
	// (DataDir, InMemory, SyncWrites and ValueThreshold are then unused). Ignored with
	// WithStore.
	Store string
	// DataDir is the badger directory (default ./data); ignored with InMemory or WithStore.
	DataDir string
	// InMemory keeps data in memory only (tests).
	InMemory bool
	// SyncWrites makes every commit wait for fsync (durable mode).
	SyncWrites bool
	// ValueThreshold is the store's: records of at least this many bytes go to badger's
	// value log (0: store.DefaultValueThreshold; see store.Options.ValueThreshold).
	ValueThreshold int

	// RootEmail and RootPassword make the root user on first start (default email
	// root@actionflow.local; an empty password is generated, see App.GeneratedRootPassword).
	RootEmail    string
	RootPassword string

	// TokenTTL is how long a sign-in token lives (default 7 days).
	TokenTTL time.Duration
	// BcryptCost is the password hashing cost (default bcrypt.DefaultCost).
	BcryptCost int

	// MaxBodyBytes limits request bodies; larger ones get 413 (default 4 MiB).
	MaxBodyBytes int
	// ReadTimeout, WriteTimeout and IdleTimeout bound connections (defaults 10s, 30s, 60s).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// Concurrency caps requests served at once (default 4096).
	Concurrency int
	// MaxConnsPerIP caps the open TCP connections of one client address; more are
	// answered 429 and closed (default DefaultMaxConnsPerIP; negative: no limit).
	MaxConnsPerIP int

	// Lua configures the workflow script engine; LuaModules are its host modules.
	Lua        runtime.Config
	LuaModules []runtime.Module

	// Logger receives the app's logs (default: discard).
	Logger *slog.Logger

	// DisableAccessLog turns off the one info line per request (method, path, status,
	// duration, request id, user id).
	DisableAccessLog bool
	// DisableMetrics turns off /metrics and the request metrics.
	DisableMetrics bool
	// MetricsAddr, when set, moves /metrics off the main listener: serve it with
	// App.ServeMetrics (ListenAndServe does).
	MetricsAddr string
	// CORSOrigins are the browser origins allowed to call the API ("https://app.example",
	// or "*" for any, without credentials); empty: no CORS headers.
	CORSOrigins []string
}

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:13000"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.RootEmail == "" {
		c.RootEmail = "root@actionflow.local"
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = 7 * 24 * time.Hour
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4 << 20
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4096
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// DefaultMaxConnsPerIP is Config.MaxConnsPerIP's default: a quarter of the default
// Concurrency, so one address cannot take the whole server.
const DefaultMaxConnsPerIP = 1024

// Option configures New.
type Option func(*options)

type options struct {
	plugins []Plugin
	store   store.Store
}

// WithPlugins adds plugins, initialised in this order.
func WithPlugins(p ...Plugin) Option { return func(o *options) { o.plugins = append(o.plugins, p...) } }

// WithStore serves from an open store instead of opening one; the App closes it.
func WithStore(s store.Store) Option { return func(o *options) { o.store = s } }

// App is one actionflow application.
type App struct {
	cfg    Config
	log    *slog.Logger
	store  store.Store
	schema schemaHolder
	data   *Data
	lua    *runtime.Engine
	hooks  hookSet

	resources         map[string]map[string]Action
	collectionActions map[string]Action
	router            *router.Router
	server            *fasthttp.Server
	httpLog           *httpLogger

	plugins   []Plugin
	roles     roleCache
	sessions  sessionCache
	generated string
	ops       ops
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	closeErr  error

	// dummyHash is compared with when a sign-in names no user (checkPassword);
	// passwordChecks counts the comparisons (for tests).
	dummyOnce      sync.Once
	dummyHash      []byte
	passwordChecks atomic.Uint64

	// caches are the versions of the node's caches (versions.go), core's three among them.
	caches                                       []*CacheVersion
	schemaVersion, rolesVersion, sessionsVersion *CacheVersion
	// shared is set when other processes may write the store (any store but badger).
	shared bool
}

// New builds an App: it opens the store, loads collections, makes the built-in roles and
// the root user on first start, and initialises the plugins.
func New(cfg Config, opts ...Option) (*App, error) {
	cfg.defaults()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	a := &App{
		cfg:               cfg,
		log:               cfg.Logger,
		resources:         map[string]map[string]Action{},
		collectionActions: map[string]Action{},
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.store = o.store
	if a.store == nil {
		s, err := store.Open(cfg.Store, store.Options{Dir: cfg.DataDir, InMemory: cfg.InMemory, SyncWrites: cfg.SyncWrites,
			ValueThreshold: cfg.ValueThreshold, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
		a.store = s
	}
	if err := a.initOps(); err != nil {
		_ = a.store.Close()
		return nil, err
	}
	a.data = record.New(a.store, a.schema.load, a.hashPassword)
	if _, own := a.store.(*store.Badger); !own {
		a.shared = true // other nodes may write it (PostgreSQL)
		a.data.SharedStore()
	}
	lua, err := runtime.New(cfg.Lua, cfg.LuaModules...)
	if err != nil {
		_ = a.store.Close()
		return nil, fmt.Errorf("core: lua engine: %w", err)
	}
	a.lua = lua
	if err := a.boot(o.plugins); err != nil {
		a.cancel()
		_ = a.lua.Close()
		_ = a.store.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) boot(plugins []Plugin) error {
	if err := a.registerCaches(); err != nil {
		return err
	}
	if err := a.loadSchema(); err != nil {
		return err
	}
	if err := a.bootstrapAuth(); err != nil {
		return err
	}
	a.registerBuiltins()
	a.router = a.newRouter()
	if err := a.initPlugins(plugins); err != nil {
		return err
	}
	for _, p := range a.plugins {
		if s, ok := p.(Starter); ok {
			if err := s.Start(a.ctx); err != nil {
				_ = a.closePlugins(context.Background())
				return fmt.Errorf("core: start plugin %s: %w", p.Name(), err)
			}
		}
	}
	a.server = a.newServer()
	if a.cfg.MetricsAddr != "" && !a.cfg.DisableMetrics {
		a.ops.metricsServer = a.newMetricsServer()
	}
	return nil
}

// Config returns the configuration in force (defaults filled in).
func (a *App) Config() Config { return a.cfg }

// Logger is the app's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Data is the record layer.
func (a *App) Data() *Data { return a.data }

// Store is the underlying store.
func (a *App) Store() store.Store { return a.store }

// Lua is the script engine.
func (a *App) Lua() *runtime.Engine { return a.lua }

// Context is the app's lifetime context: cancelled when the app closes. Background work
// derives from it, never from a request.
func (a *App) Context() context.Context { return a.ctx }

// GeneratedRootPassword is the root password made on this first start when none was
// configured; empty otherwise. Show it once.
func (a *App) GeneratedRootPassword() string { return a.generated }

// Serve answers HTTP on ln until Shutdown. TCP connections are limited per client
// address (Config.MaxConnsPerIP).
func (a *App) Serve(ln net.Listener) error {
	return a.server.Serve(newConnLimiter(ln, max(a.cfg.MaxConnsPerIP, 0), a.httpLog))
}

// OpenConnections is the number of connections the server holds open now.
func (a *App) OpenConnections() int { return int(a.server.GetOpenConnectionsCount()) }

// ListenAndServe listens on Config.Addr (and Config.MetricsAddr when set) and serves
// until Shutdown. It returns once the listener is closed; call Close after it to finish.
func (a *App) ListenAndServe() error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("core: listen on %s: %w", a.cfg.Addr, err)
	}
	if a.cfg.MetricsAddr != "" && !a.cfg.DisableMetrics {
		mln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("core: listen on %s: %w", a.cfg.MetricsAddr, err)
		}
		go func() {
			if err := a.ServeMetrics(mln); err != nil {
				a.log.Error("metrics listener failed", "err", err)
			}
		}()
	}
	return a.Serve(ln)
}

// Shutdown stops accepting connections and waits for in-flight requests.
func (a *App) Shutdown(ctx context.Context) error {
	if err := a.server.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("core: shutdown http: %w", err)
	}
	if a.ops.metricsServer != nil {
		if err := a.ops.metricsServer.ShutdownWithContext(ctx); err != nil {
			return fmt.Errorf("core: shutdown metrics listener: %w", err)
		}
	}
	return nil
}

// Close stops the plugins (reverse order), the Lua engine and the store. It is safe to call
// more than once.
func (a *App) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		a.cancel()
		errs := []error{a.closePlugins(ctx)}
		a.ops.backups.Wait() // a.cancel has ended them
		if err := a.lua.Close(); err != nil {
			errs = append(errs, fmt.Errorf("core: close lua: %w", err))
		}
		if err := a.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("core: close store: %w", err))
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

func (a *App) hashPassword(p string) (string, error) {
	if len(p) < 1 {
		return "", errors.New("must not be empty")
	}
	if len(p) > 72 {
		return "", errors.New("longer than 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), a.cfg.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// addActions registers actions of a resource.
func (a *App) addActions(name string, actions map[string]Action) error {
	m, ok := a.resources[name]
	if !ok {
		m = map[string]Action{}
		a.resources[name] = m
	}
	for n, act := range actions {
		if act.Handler == nil {
			return fmt.Errorf("core: action %s:%s has no handler", name, n)
		}
		if _, dup := m[n]; dup {
			return fmt.Errorf("core: action %s:%s registered twice", name, n)
		}
		m[n] = act
	}
	return nil
}

func (a *App) addCollectionAction(name string, act Action) error {
	if act.Handler == nil {
		return fmt.Errorf("core: collection action %s has no handler", name)
	}
	if _, dup := a.collectionActions[name]; dup {
		return fmt.Errorf("core: collection action %s registered twice", name)
	}
	a.collectionActions[name] = act
	return nil
}

// run is the action pipeline: before hooks, the action in its transaction with the
// in-transaction hooks, commit (and OnCommit work), then after hooks.
func (a *App) run(ac *ActionContext, act Action) error {
	if err := a.hooks.run(BeforeAction, ac); err != nil {
		if errors.Is(err, ErrSkipAction) {
			if ac.Result == nil {
				ac.Result = &Result{}
			}
			return nil
		}
		return err
	}
	var err error
	switch act.Tx {
	case TxRead:
		err = a.View(ac.ctx, func(tx *Tx) error {
			ac.Tx = tx
			return act.Handler(ac)
		})
	case TxWrite:
		before := cloneState(ac.state)
		err = a.Update(ac.ctx, func(tx *Tx) error {
			// A retried attempt starts from the state the before hooks left.
			ac.Tx, ac.Result, ac.state = tx, nil, cloneState(before)
			if err := act.Handler(ac); err != nil {
				return err
			}
			return a.hooks.run(InTransaction, ac)
		})
	default:
		err = act.Handler(ac)
	}
	ac.Tx = nil
	if err != nil {
		return err
	}
	if ac.Result == nil {
		ac.Result = &Result{}
	}
	return a.hooks.run(AfterAction, ac)
}

func cloneState(m map[any]any) map[any]any {
	if m == nil {
		return nil
	}
	out := make(map[any]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
