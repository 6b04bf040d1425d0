package workflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/actionflow/actionflow/core"
)

// Bindings is the ?triggerWorkflows= of one request as the request-bound trigger plugins
// (action, request-interception, custom-action) share it: parsed once, each key once in
// list order, with the keys that fired and why the others did not. After a successful
// action the engine reports every listed key that fired nothing for the request, with
// every trigger's say, in the response's meta.ignoredWorkflows and in one warning in the
// log. More than MaxBindings items is a 400 before the action.
//
// Select (the trigger kit) resolves keys, globals, paths and collections on them for a
// trigger; a trigger with rules of its own resolves keys with Workflow or WorkflowAllowed
// (unknown keys, other roles and, through Ignore, its own reasons are noted), global
// workflows with Globals, and calls Fired for each workflow it fires.
//
// Marks are idempotent: a trigger that runs again in a retried transaction marks the same.
type Bindings struct {
	// List holds the well-formed items in list order, each key once; a later path for the
	// same key wins.
	List []Binding

	e       *Engine
	role    string
	order   []string // keys and malformed items, in list order
	fired   map[string]bool
	reasons map[string]string
	refused map[string]bool
}

// Binding is one item of ?triggerWorkflows=: a key and its optional !path of to-one
// associations.
type Binding struct {
	Key  string
	Path string
}

// bindingsKey keeps a request's bindings for every trigger of the request.
func bindingsKey() core.Key[*Bindings] { return core.NewKey[*Bindings]("workflow.bindings") }

// Bindings returns the request's bindings, parsed from ?triggerWorkflows= on the first call
// and kept on ac for every later trigger of the request.
func (e *Engine) Bindings(ac *core.ActionContext) *Bindings {
	if b, ok := bindingsKey().Get(ac); ok {
		return b
	}
	b := e.parseBindings(ac.Params.Get("triggerWorkflows"), ac.Role)
	if len(b.order) > 0 {
		bindingsKey().Set(ac, b)
	}
	return b
}

// parseBindings reads "k1,k2!path,k3!a.b". An item without a key, or with "!" and no path,
// is malformed: it fires nothing and is reported as given.
func (e *Engine) parseBindings(raw, role string) *Bindings {
	b := &Bindings{e: e, role: role}
	paths := map[string]string{}
	for _, item := range strings.Split(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, path, hasPath := strings.Cut(item, "!")
		key, path = strings.TrimSpace(key), strings.TrimSpace(path)
		if key == "" || (hasPath && path == "") {
			if !slices.Contains(b.order, item) {
				b.order = append(b.order, item)
			}
			b.Ignore(item, "malformed item: want key or key!path")
			continue
		}
		if _, seen := paths[key]; !seen {
			b.List = append(b.List, Binding{Key: key})
			if !slices.Contains(b.order, key) {
				b.order = append(b.order, key)
			}
		}
		paths[key] = path
	}
	for i := range b.List {
		b.List[i].Path = paths[b.List[i].Key]
	}
	return b
}

// Path is the !path a key was listed with ("" when none, or when not listed).
func (b *Bindings) Path(key string) string {
	for _, it := range b.List {
		if it.Key == key {
			return it.Path
		}
	}
	return ""
}

// Workflow returns the current enabled version of a listed key when it is of type typ and
// the request's role may fire it (config.roles); otherwise nil, noting why. A workflow of
// another type is not noted: its own trigger may fire it.
func (b *Bindings) Workflow(key, typ string) *Workflow {
	return b.WorkflowAllowed(key, typ, func(w *Workflow) bool { return w.AllowsRole(b.role) })
}

// WorkflowAllowed is Workflow with the trigger's own rule for which roles may fire it in
// place of config.roles.
func (b *Bindings) WorkflowAllowed(key, typ string, allowed func(*Workflow) bool) *Workflow {
	w, ok := b.e.ByKey(key)
	if !ok {
		b.Ignore(key, "no enabled workflow has this key")
		return nil
	}
	if w.Type != typ {
		return nil
	}
	if !allowed(w) {
		b.Refuse(key)
		return nil
	}
	return w
}

// Globals returns the enabled global workflows of type typ (config.global) that the
// request's role may fire, in id order; the trigger still checks its collection and
// actions. A listed key of a global workflow that the role may not fire is noted.
func (b *Bindings) Globals(typ string) []*Workflow {
	var out []*Workflow
	for _, w := range b.e.Enabled(typ) {
		if !w.ConfigBool("global") {
			continue
		}
		if !w.AllowsRole(b.role) {
			b.Refuse(w.Key)
			continue
		}
		out = append(out, w)
	}
	return out
}

// Fired marks a key as fired for this request: it is not reported, whatever other
// triggers said.
func (b *Bindings) Fired(key string) {
	if b.fired == nil {
		b.fired = map[string]bool{}
	}
	b.fired[key] = true
}

// Ignore notes why a listed key did not fire for a trigger (the last reason noted is
// reported when no trigger fires it). Keys that were not listed are not noted.
func (b *Bindings) Ignore(key, reason string) {
	if !slices.Contains(b.order, key) {
		return
	}
	if b.reasons == nil {
		b.reasons = map[string]string{}
	}
	b.reasons[key] = reason
	delete(b.refused, key)
}

// Refuse notes that a listed key did not fire because the request's role may not fire it.
func (b *Bindings) Refuse(key string) {
	if !slices.Contains(b.order, key) {
		return
	}
	b.Ignore(key, fmt.Sprintf("role %q may not fire it (config.roles)", b.role))
	if b.refused == nil {
		b.refused = map[string]bool{}
	}
	b.refused[key] = true
}

// Refused reports whether every listed item fired nothing because of the request's role
// (and at least one was listed): the request named workflows that exist but are not for
// this role.
func (b *Bindings) Refused() bool {
	for _, k := range b.order {
		if !b.refused[k] || b.fired[k] {
			return false
		}
	}
	return len(b.order) > 0
}

// ignoredItem is a listed key that fired nothing, and why.
type ignoredItem struct {
	key, reason string
}

// ignored lists the listed items that fired nothing for an action, in list order.
func (b *Bindings) ignored(resource, action string) []ignoredItem {
	var out []ignoredItem
	for _, k := range b.order {
		if b.fired[k] {
			continue
		}
		reason := b.reasons[k]
		if reason == "" {
			if w, ok := b.e.ByKey(k); ok {
				reason = fmt.Sprintf("a workflow of type %q does not fire on %s:%s", w.Type, resource, action)
			} else {
				reason = "no enabled workflow has this key"
			}
		}
		out = append(out, ignoredItem{key: k, reason: reason})
	}
	return out
}

// MaxBindings is how many items ?triggerWorkflows= may list; more is a 400.
const MaxBindings = 100

// checkBindings runs before every action: a ?triggerWorkflows= of more than MaxBindings
// items is a 400 naming it (each ignored key would cost a lookup and a reason).
func (e *Engine) checkBindings(ac *core.ActionContext) error {
	raw := ac.Params.Get("triggerWorkflows")
	if strings.Count(raw, ",") < MaxBindings {
		return nil
	}
	n := 0
	for _, item := range strings.Split(raw, ",") {
		if strings.TrimSpace(item) != "" {
			n++
		}
	}
	if n > MaxBindings {
		return core.BadRequest("triggerWorkflows", "lists %d items; at most %d", n, MaxBindings)
	}
	return nil
}

// reportIgnored runs after every successful action: the keys of ?triggerWorkflows= that
// fired nothing are added to the response's meta.ignoredWorkflows and logged as warnings.
func (e *Engine) reportIgnored(ac *core.ActionContext) error {
	b, ok := bindingsKey().Get(ac)
	if !ok {
		if strings.TrimSpace(ac.Params.Get("triggerWorkflows")) == "" {
			return nil
		}
		b = e.Bindings(ac) // no trigger looked at them
	}
	items := b.ignored(ac.Resource, ac.Action)
	if len(items) == 0 {
		return nil
	}
	keys := make([]any, 0, len(items))
	names := make([]string, 0, len(items))
	reasons := make([]string, 0, len(items))
	for _, it := range items {
		keys = append(keys, it.key)
		names = append(names, it.key)
		reasons = append(reasons, it.key+": "+it.reason)
	}
	// One line per request, however many keys it lists (at most MaxBindings).
	e.log.Warn("ignored triggerWorkflows keys", "keys", strings.Join(names, ","), "reasons", strings.Join(reasons, "; "),
		"resource", ac.Resource, "action", ac.Action, "request", ac.RequestID, "user", ac.UserID, "role", ac.Role)
	switch m := ac.Result.Meta.(type) {
	case nil:
		ac.Result.Meta = map[string]any{"ignoredWorkflows": keys}
	case map[string]any:
		m["ignoredWorkflows"] = keys
	default:
		// A meta of another shape is the action's own: it is kept, the log has the keys.
	}
	return nil
}

// AllowsRole reports whether a request with this role may fire the workflow: any role when
// config.roles is not set, else the roles it lists.
func (w *Workflow) AllowsRole(role string) bool {
	if w.Config["roles"] == nil {
		return true
	}
	return w.HasRole(role)
}

// HasRole reports whether config.roles lists the role.
func (w *Workflow) HasRole(role string) bool {
	return slices.Contains(w.ConfigStrings("roles"), role)
}

// RequestBound is implemented by triggers whose workflows a request fires (action,
// request-interception, custom-action): only their workflows may set config.roles.
type RequestBound interface{ RequestBound() bool }

// checkRoles validates config.roles: absent, or a non-empty list of role names, for a
// request-bound trigger only. Role names are not looked up: a role may come later, and a
// name no user has fires for nobody.
func checkRoles(t Trigger, cfg map[string]any) error {
	raw, ok := cfg["roles"]
	if !ok || raw == nil {
		return nil
	}
	if rb, isRB := t.(RequestBound); !isRB || !rb.RequestBound() {
		return core.BadRequest("config.roles", "only workflows a request fires (action, request-interception, custom-action) can be limited to roles; %s workflows fire whoever caused them", t.Type())
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return core.BadRequest("config.roles", "must be a non-empty list of role names")
	}
	for _, x := range list {
		if s, isStr := x.(string); !isStr || strings.TrimSpace(s) == "" {
			return core.BadRequest("config.roles", "must be a non-empty list of role names, got %v", x)
		}
	}
	return nil
}
