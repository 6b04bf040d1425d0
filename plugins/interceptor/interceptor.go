// Package interceptor is the pre-action trigger (type "request-interception", API.md §6):
// workflows that run before a create, update or destroy and decide whether it happens.
//
// Config: collection (required), global (default false), actions (any of "create",
// "update", "destroy"; used when global). Local workflows run when the request names their
// key in ?triggerWorkflows=; global ones on every listed action of their collection. Order:
// listed local workflows in list order, then global ones. They are always synchronous,
// whatever their sync flag says, and run before the action, outside its transaction.
//
// The script sees ctx.user (desensitised), ctx.roleName and
// ctx.params = {filterByTk, filter, values}; the execution records values without the
// collection's password and hidden fields. flow.fail(msg) → 400 with msg, nothing
// written; flow.finish() → 200 with the messages only, nothing written, later workflows
// skipped; a Lua error or timeout → 500 with a generic message, nothing written. When
// every script resolves, the action runs with ctx.params.values as the last script left
// it, validated like any request: a script can fix or fill values but never bypass field
// types, required fields or permissions. Each workflow sees the values the one before it
// left. Only values are read back; changes to filterByTk and filter are ignored.
//
// Before the first script of a create or update, the values are type-checked
// (core.ActionContext.CheckValues): a body that is not an object, an unknown field or a
// wrong type is a 400 and no script runs; required fields are checked after the scripts.
// A workflow with config.roles runs only for those roles (workflow.Bindings).
//
//	wf := workflow.New(workflow.Config{})
//	app, _ := core.New(cfg, core.WithPlugins(wf, interceptor.New(wf)))
package interceptor

import (
	"encoding/json"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// Type is the trigger type name.
const Type = "request-interception"

// Plugin is the pre-action trigger plugin.
type Plugin struct {
	wf          *workflow.Engine
	messagesKey core.Key[[]core.Message]
}

// New makes the plugin for a workflow engine.
func New(wf *workflow.Engine) *Plugin {
	return &Plugin{wf: wf, messagesKey: core.NewKey[[]core.Message]("interceptor.messages")}
}

// Name implements core.Plugin.
func (p *Plugin) Name() string { return "interceptor" }

// Init implements core.Plugin.
func (p *Plugin) Init(h *core.Host) error {
	if err := p.wf.RegisterTrigger(trigger{p}); err != nil {
		return err
	}
	actions := []string{"create", "update", "destroy"}
	if err := h.Hook(core.BeforeAction, core.Hook{ID: "interceptor.run", On: core.DataCollections, Actions: actions, Fn: p.intercept}); err != nil {
		return err
	}
	// The interceptors' messages lead the response of the action they let through.
	return h.Hook(core.AfterAction, core.Hook{ID: "interceptor.messages", Priority: -200, On: core.DataCollections, Actions: actions, Fn: p.addMessages})
}

// intercept runs the workflows that apply to this action, in order.
func (p *Plugin) intercept(ac *core.ActionContext) error {
	wfs := p.wf.Select(ac, workflow.Selector{Type: Type, Collection: ac.Collection, Globals: true})
	if len(wfs) == 0 {
		return nil
	}
	// The scripts see values already type-checked: a client's wrong type is its 400, not a
	// script's error.
	if ac.Action != "destroy" {
		if err := ac.CheckValues(); err != nil {
			return err
		}
	}
	user, err := p.wf.User(ac)
	if err != nil {
		return err
	}
	filter, err := rawFilter(&ac.Params)
	if err != nil {
		return err
	}
	var filterByTk any
	if ac.Params.ID > 0 {
		filterByTk = int64(ac.Params.ID)
	} else if ac.Params.FilterByTk != "" {
		filterByTk = ac.Params.FilterByTk
	}
	values := any(ac.Params.Values)
	if ac.Params.Values == nil {
		values = map[string]any{}
	}
	var messages []core.Message
	for _, w := range wfs {
		ev := workflow.Event{Workflow: w.Workflow, ReadContext: true, Context: map[string]any{
			"user": user, "roleName": ac.Role,
			"params": map[string]any{"filterByTk": filterByTk, "filter": filter, "values": values},
		}, Stored: map[string]any{
			"user": user, "roleName": ac.Role,
			"params": map[string]any{"filterByTk": filterByTk, "filter": filter, "values": withoutSecrets(ac.Collection, values)},
		}}
		// Each workflow sees the values the one before it left: one chain each.
		res, err := p.wf.RunChain(ac.Context(), []workflow.Event{ev})
		messages = append(messages, res.Messages...)
		if err != nil {
			return workflow.Answer(err, messages)
		}
		if res.Stopped { // flow.finish(): answer with the messages, write nothing
			ac.Result = &core.Result{Messages: messages}
			return core.ErrSkipAction
		}
		if res.Context == nil { // skipped by loop protection
			continue
		}
		params, _ := res.Context["params"].(map[string]any)
		values = params["values"]
	}
	switch v := values.(type) {
	case map[string]any:
		ac.Params.Values = v
	case nil:
		ac.Params.Values = nil
	default:
		return core.BadRequest("values", "a request-interception workflow left ctx.params.values as %s, not an object", kind(v))
	}
	if len(messages) > 0 {
		p.messagesKey.Set(ac, messages)
	}
	return nil
}

// withoutSecrets is values as the execution records them: without the password and hidden
// fields of c (API.md §2: never returned over HTTP, and executions are read over HTTP).
func withoutSecrets(c *core.Collection, values any) any {
	m, ok := values.(map[string]any)
	if !ok {
		return values
	}
	return map[string]any(core.Desensitize(c, m))
}

func (p *Plugin) addMessages(ac *core.ActionContext) error {
	if m, ok := p.messagesKey.Get(ac); ok {
		ac.Result.Messages = append(m, ac.Result.Messages...)
	}
	return nil
}

// rawFilter is the request's filter as plain JSON values (it was validated when the
// request was decoded).
func rawFilter(p *core.Params) (any, error) {
	if raw := p.Get("filter"); raw != "" {
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, core.BadRequest("filter", "invalid JSON: %v", err)
		}
		return v, nil
	}
	m, err := query.ParseBracket("filter", p.Query)
	if err != nil {
		return nil, core.BadRequest("filter", "%v", err)
	}
	if m == nil {
		return nil, nil
	}
	return m, nil
}

func kind(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// trigger is the "request-interception" trigger type.
type trigger struct{ p *Plugin }

func (trigger) Type() string { return Type }

// RequestBound implements workflow.RequestBound: config.roles limits who fires them.
func (trigger) RequestBound() bool { return true }

// AlwaysSync implements workflow.SyncOnly: interception decides the response.
func (trigger) AlwaysSync() bool { return true }

// ValidateConfig checks collection (required, existing, not a system one), global and
// actions.
func (t trigger) ValidateConfig(_ *core.Tx, cfg map[string]any) error {
	if _, err := t.p.wf.ConfigCollection(cfg, false); err != nil {
		return err
	}
	return workflow.ConfigGlobalActions(cfg, "create", "update", "destroy")
}

// ManualContext builds {user, roleName, params} for workflows:execute from
// {"params": {"values", "filterByTk", "filter"}, "userId", "roleName"}; the params may also
// be given at the top level of the body.
func (t trigger) ManualContext(tx *core.Tx, _ *workflow.Workflow, values map[string]any) (map[string]any, error) {
	user, role, err := t.p.wf.ManualUser(tx, values)
	if err != nil {
		return nil, err
	}
	params := values
	if raw, ok := values["params"]; ok && raw != nil {
		m, isObj := raw.(map[string]any)
		if !isObj {
			return nil, core.BadRequest("params", "want an object {values, filterByTk, filter}")
		}
		for k := range m {
			if k != "values" && k != "filterByTk" && k != "filter" {
				return nil, core.BadRequest("params."+k, "unknown field; known: values, filterByTk, filter")
			}
		}
		params = m
	}
	v := params["values"]
	if v == nil {
		v = map[string]any{}
	}
	return map[string]any{"user": user, "roleName": role,
		"params": map[string]any{"filterByTk": params["filterByTk"], "filter": params["filter"], "values": v}}, nil
}
