package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/actionflow/actionflow/core/query"
)

// TxMode says which transaction the pipeline opens around an action.
type TxMode int

// Transaction modes.
const (
	// TxRead runs the action in a read-only transaction; it answers GET and POST.
	TxRead TxMode = iota
	// TxWrite runs the action and the in-transaction hooks in one read-write transaction,
	// retried on conflict; it answers POST only.
	TxWrite
	// TxNone opens no transaction: the action manages its own (App.Update / App.View). It
	// answers POST only.
	TxNone
)

// Action is one action of a resource.
type Action struct {
	Handler func(ac *ActionContext) error
	Tx      TxMode
	// Public actions need no token (auth:signIn).
	Public bool
	// Permission is the data permission the role needs on the action's collection ("list",
	// "get", "create", "update", "destroy"). Empty means the action is for root and admin
	// only, unless Authenticated is set.
	Permission string
	// Authenticated actions are open to every signed-in user (auth:check).
	Authenticated bool
	// AllowGET lets a TxNone or TxWrite action answer GET too.
	AllowGET bool
	// MultiID lets filterByTk name several records ("1,2"): Params.ID is then 0 and the
	// handler reads Params.FilterByTk or Params.All("filterByTk") itself.
	MultiID bool
}

// Result is what an action answers: rendered as {"data", "meta", "messages"}, or, when
// Body is set, Body as is (streamed, chunked) with ContentType and Header.
type Result struct {
	Status   int
	Data     any
	Meta     any
	Messages []Message

	Body        io.Reader
	ContentType string
	Header      [][2]string
}

// AssociationScope is set for association resources (/api/categories/1/posts:list).
type AssociationScope struct {
	Source   *Collection
	SourceID uint64
	Field    *Field
	// OwnSource is set when the role may get only its own records of Source: the source
	// record must be one the user created.
	OwnSource bool
}

// Params are the decoded request parameters (API.md §1). Everything is a copy: nothing
// points into the HTTP request.
type Params struct {
	// FilterByTk is the raw filterByTk (query or last path segment).
	FilterByTk string
	// ID is FilterByTk parsed as a record id (0 when absent or not an id).
	ID uint64
	// Filter is the parsed filter of a data resource.
	Filter   *query.Node
	Sort     []query.SortKey
	Page     query.Page
	Appends  []string
	Fields   []string
	Values   map[string]any
	Body     []byte
	Query    [][2]string
	RawQuery string
}

// Get returns the first query value of name.
func (p *Params) Get(name string) string {
	for _, kv := range p.Query {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// All returns every query value of name, accepting name[] too.
func (p *Params) All(name string) []string {
	var out []string
	for _, kv := range p.Query {
		if kv[0] == name || kv[0] == name+"[]" {
			out = append(out, kv[1])
		}
	}
	return out
}

// ActionContext is one action being served: parsed parameters, the acting user and role,
// the transaction while the action runs, and the result.
type ActionContext struct {
	ctx context.Context
	app *App

	Resource string
	Action   string
	Method   string
	// Collection is the data collection the action works on (the association's target for
	// association resources); nil for other resources.
	Collection  *Collection
	Association *AssociationScope
	// SourceID is the middle path segment of a nested non-collection resource
	// (collections/<name>/fields:create → "<name>").
	SourceID string
	Params   Params

	User   Record
	UserID uint64
	Role   string
	// OwnRecords is set when the role's permission for the action is "<action>:own": the
	// action reaches only records the user created (createdById).
	OwnRecords bool
	// RequestID identifies the request in logs.
	RequestID string

	// Tx is the transaction of TxRead and TxWrite actions, also during in-transaction hooks.
	Tx     *Tx
	Result *Result

	state map[any]any
}

// Context returns the context of the action.
func (ac *ActionContext) Context() context.Context { return ac.ctx }

// App returns the application serving the action.
func (ac *ActionContext) App() *App { return ac.app }

// Data is the record layer.
func (ac *ActionContext) Data() *Data { return ac.app.data }

// Set keeps a value for later hooks of the same action (keys are the plugin's own).
// Prefer a typed Key, which needs no type assertion where the value is read.
func (ac *ActionContext) Set(key string, v any) { ac.put(key, v) }

// Value reads what Set kept.
func (ac *ActionContext) Value(key string) any { return ac.state[key] }

func (ac *ActionContext) put(key, v any) {
	if ac.state == nil {
		ac.state = map[any]any{}
	}
	ac.state[key] = v
}

// Key is a typed slot of an ActionContext: the way one hook hands a value to a later hook
// of the same action. Keys are compared by type and name, so two packages' keys never
// meet; the package that produces a value owns its key:
//
//	planKey := core.NewKey[*plan]("actiontrigger.plan")
//	planKey.Set(ac, pl)           // in-transaction hook
//	pl, ok := planKey.Get(ac)     // after hook
//
// A write retried after a conflict starts from the values the before hooks left.
type Key[T any] struct{ name string }

// NewKey makes a key; name is for reading, "<plugin>.<what>".
func NewKey[T any](name string) Key[T] { return Key[T]{name: name} }

// Set keeps v for the later hooks of the action.
func (k Key[T]) Set(ac *ActionContext, v T) { ac.put(k, v) }

// Get returns what Set kept, ok=false when nothing was set.
func (k Key[T]) Get(ac *ActionContext) (v T, ok bool) {
	v, ok = ac.state[k].(T)
	return v, ok
}

// String is the key's name.
func (k Key[T]) String() string { return k.name }

// recordsKey keeps the raw records a create or update wrote.
func recordsKey() Key[[]Record] { return NewKey[[]Record]("core.records") }

// tokenKey keeps the bearer token of the request.
func tokenKey() Key[string] { return NewKey[string]("core.token") }

// Records are the records create and update wrote, raw (hidden fields included), for
// in-transaction and after hooks such as the post-action trigger; nil for other actions.
func (ac *ActionContext) Records() []Record {
	recs, _ := recordsKey().Get(ac)
	return recs
}

// WriteOptions are the options of a write made on behalf of the acting user.
func (ac *ActionContext) WriteOptions() WriteOptions { return WriteOptions{UserID: ac.UserID} }

// ErrSkipAction, returned by a BeforeAction hook, ends the action successfully without
// running it; the hook's ac.Result is rendered.
var ErrSkipAction = errors.New("core: action skipped by a before hook")

// Hook phases of the action pipeline (DESIGN.md "The way of a request").
type Phase int

// Phases.
const (
	// BeforeAction hooks run before the action, outside any transaction; an error vetoes
	// the action. A hook that returns ErrSkipAction answers in the action's place: the
	// action and the after hooks do not run and ac.Result (empty if nil) is the response.
	BeforeAction Phase = iota
	// InTransaction hooks run after the action handler, inside its transaction (TxWrite
	// actions only); an error rolls the action back.
	InTransaction
	// AfterAction hooks run after a successful action has committed; they may change the
	// result or turn it into an error (the data stays written).
	AfterAction
)

func (p Phase) String() string {
	switch p {
	case BeforeAction:
		return "before"
	case InTransaction:
		return "in-transaction"
	case AfterAction:
		return "after"
	}
	return "unknown"
}

// Hook is a typed pipeline hook. Lower Priority runs first; equal priorities run in
// registration order. A hook declares what it wants and core calls it only for matching
// actions; a hook that declares nothing sees every action of its phase:
//
//	core.Hook{ID: "audit.write", On: core.DataCollections, Actions: []string{"create", "update"}, Fn: fn}
type Hook struct {
	ID       string
	Priority int
	// Actions limits the hook to these action names (every action when empty).
	Actions []string
	// On limits the hook to actions on collections (AnyResource when zero).
	On Scope
	// Collections limits the hook to actions on these collections, by name (any when
	// empty); it implies On ≥ AnyCollection.
	Collections []string
	Fn          func(ac *ActionContext) error
}

// Scope is the kind of resource a hook wants.
type Scope int

// Scopes.
const (
	// AnyResource: every resource, collections or not.
	AnyResource Scope = iota
	// AnyCollection: actions on a collection (ac.Collection set), system ones included.
	AnyCollection
	// DataCollections: actions on a collection that is not a system one.
	DataCollections
)

// wants reports whether the hook is for this action.
func (hk *Hook) wants(ac *ActionContext) bool {
	if len(hk.Actions) > 0 && !slices.Contains(hk.Actions, ac.Action) {
		return false
	}
	if hk.On == AnyResource && len(hk.Collections) == 0 {
		return true
	}
	c := ac.Collection
	switch {
	case c == nil:
		return false
	case hk.On == DataCollections && c.System:
		return false
	case len(hk.Collections) > 0 && !slices.Contains(hk.Collections, c.Name):
		return false
	}
	return true
}

type hookSet struct {
	byPhase [3][]Hook
	ids     map[string]bool
}

func (h *hookSet) add(p Phase, hk Hook) error {
	if p < BeforeAction || p > AfterAction {
		return fmt.Errorf("core: unknown hook phase %d", p)
	}
	if hk.ID == "" || hk.Fn == nil {
		return fmt.Errorf("core: a hook needs an ID and a function")
	}
	if h.ids == nil {
		h.ids = map[string]bool{}
	}
	if h.ids[hk.ID] {
		return fmt.Errorf("core: hook %q registered twice", hk.ID)
	}
	h.ids[hk.ID] = true
	list := append(h.byPhase[p], hk)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Priority < list[j].Priority })
	h.byPhase[p] = list
	return nil
}

func (h *hookSet) run(p Phase, ac *ActionContext) error {
	for i := range h.byPhase[p] {
		hk := &h.byPhase[p][i]
		if !hk.wants(ac) {
			continue
		}
		if err := hk.Fn(ac); err != nil {
			return err
		}
	}
	return nil
}

// token is the bearer token of the request ("" when none).
func (ac *ActionContext) token() string {
	t, _ := tokenKey().Get(ac)
	return t
}
