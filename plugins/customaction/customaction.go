// Package customaction is the custom-action trigger (type "custom-action"): a button that
// runs workflows without writing anything.
//
//	POST /api/<collection>:trigger?triggerWorkflows=key&filterByTk=<id>   ctx.data = the record, merged with the body
//	POST /api/<collection>:trigger?triggerWorkflows=key&filterByTk=1,2    ctx.data = the list of records, each merged
//	POST /api/workflows:trigger?triggerWorkflows=key                       ctx.data = the body (free JSON context)
//
// The body's keys that name system fields (id, createdById, ...) are not merged; the
// execution records ctx.data without the collection's password and hidden fields (a sync
// script sees them; a queued one reads its context back from the execution).
//
// A workflow answers on the collection route when its config.collection is that collection,
// and on workflows:trigger when it has no collection. Sync workflows run in order with the
// post-action rules (flow.fail → 400, error → 500, flow.finish skips the rest); async ones are
// queued after them (when a sync one finishes or fails the chain, they are kept as canceled,
// status -4, with the reason). The answer is {"data":{"executions":[{"id","status"}]}, "messages"}.
// A body, when present, must be a JSON object; filterByTk may list ids (1,2, filterByTk[]=1
// or the last path segment), each record counted once.
// The collection route needs the role's "get" permission on the collection, and a workflow
// with config.roles runs only for those roles. A workflow without a collection
// (workflows:trigger) runs only for root, admin and the roles in its config.roles. Keys that
// run nothing are listed in meta.ignoredWorkflows; when nothing runs, the answer is the same
// 400 whether the keys are unknown or left out for the role (the log says which).
package customaction

import (
	"strings"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// Type is the trigger type name.
const Type = "custom-action"

// Plugin is the custom-action trigger plugin.
type Plugin struct {
	wf   *workflow.Engine
	data *core.Data
}

// New makes the plugin for a workflow engine.
func New(wf *workflow.Engine) *Plugin { return &Plugin{wf: wf} }

// Name implements core.Plugin.
func (p *Plugin) Name() string { return "customaction" }

// Init implements core.Plugin.
func (p *Plugin) Init(h *core.Host) error {
	p.data = h.Data()
	if err := p.wf.RegisterTrigger(trigger{p}); err != nil {
		return err
	}
	if err := h.CollectionAction("trigger", core.Action{Tx: core.TxNone, Permission: "get", MultiID: true, Handler: p.serve}); err != nil {
		return err
	}
	return h.Resource(workflow.WorkflowsCollection, map[string]core.Action{
		"trigger": {Tx: core.TxNone, Authenticated: true, Handler: p.serve},
	})
}

// serve runs the bound workflows of one :trigger request.
func (p *Plugin) serve(ac *core.ActionContext) error {
	if strings.TrimSpace(ac.Params.Get("triggerWorkflows")) == "" {
		return core.BadRequest("triggerWorkflows", "is required: the keys of the workflows to run")
	}
	sel := workflow.Selector{Type: Type, Collection: ac.Collection, Mismatch: answersOn}
	free := ac.Collection == nil || ac.Collection.Name == workflow.WorkflowsCollection
	if free {
		sel.Collection = nil
		sel.Allowed = func(w *workflow.Workflow) bool { return freeAllowed(w, ac.Role) }
	}
	wfs := p.wf.Select(ac, sel)
	if len(wfs) == 0 {
		if p.wf.Bindings(ac).Refused() {
			// Answered like unknown keys (no oracle for which keys exist); the log says why.
			ac.App().Logger().Warn("custom action refused by role", "role", ac.Role, "rule", forbiddenRule(free),
				"resource", ac.Resource, "request", ac.RequestID, "user", ac.UserID)
		}
		where := "workflows:trigger (no collection)"
		if !free {
			where = "collection " + ac.Collection.Name
		}
		return core.BadRequest("triggerWorkflows", "no enabled custom-action workflow with these keys answers on %s", where)
	}

	values := ac.Params.Values
	if values == nil {
		if len(ac.Params.Body) > 0 {
			return core.BadRequest("body", "must be a JSON object")
		}
		values = map[string]any{}
	}
	user, err := p.wf.User(ac)
	if err != nil {
		return err
	}
	pl := p.wf.NewPlan()
	for _, w := range wfs {
		var data any = values
		if !free {
			if data, err = p.records(ac, w.Workflow, values); err != nil {
				return err
			}
		}
		ev := workflow.Event{Workflow: w.Workflow, Context: map[string]any{"data": data, "user": user, "roleName": ac.Role}}
		if !free {
			ev.Stored = map[string]any{"data": withoutSecrets(ac.Collection, data), "user": user, "roleName": ac.Role}
		}
		// No transaction: async executions are queued after the sync chain.
		if err := pl.Add(nil, ev); err != nil {
			return err
		}
	}
	res, err := pl.Run(ac.Context())
	if err != nil {
		return err
	}
	execs := make([]any, 0, len(wfs))
	for _, x := range res.Executions {
		execs = append(execs, map[string]any{"id": x.ID, "status": x.Status})
	}
	for _, id := range res.Queued {
		var status any
		if res.Stopped {
			status = workflow.StatusCanceled
		}
		execs = append(execs, map[string]any{"id": id, "status": status})
	}
	ac.Result = &core.Result{Data: map[string]any{"executions": execs}, Messages: res.Messages}
	return nil
}

// withoutSecrets is ctx.data as the execution records it: the body may carry values of
// password and hidden fields, which executions (read over HTTP) never show.
func withoutSecrets(c *core.Collection, data any) any {
	switch d := data.(type) {
	case map[string]any:
		return map[string]any(core.Desensitize(c, d))
	case []any:
		out := make([]any, len(d))
		for i, x := range d {
			out[i] = withoutSecrets(c, x)
		}
		return out
	}
	return data
}

// answersOn is why a listed workflow does not answer on this route.
func answersOn(w *workflow.Workflow) string {
	if c := w.ConfigString("collection"); c != "" {
		return "it answers on " + c
	}
	return "it answers on workflows:trigger"
}

// freeAllowed is who runs a workflow without a collection (workflows:trigger): root, admin
// and the roles in its config.roles: no collection permission guards such a workflow, so
// it is closed unless config.roles opens it.
func freeAllowed(w *workflow.Workflow, role string) bool {
	return role == core.RoleRoot || role == core.RoleAdmin || w.HasRole(role)
}

func forbiddenRule(free bool) string {
	if free {
		return "workflows without a collection run for root, admin and the roles in their config.roles"
	}
	return "their config.roles leave it out"
}

// records loads the record(s) named by filterByTk with the workflow's appends, each with
// the submitted values merged over it: one record, or a list when several ids are given.
func (p *Plugin) records(ac *core.ActionContext, w *workflow.Workflow, values map[string]any) (any, error) {
	raw := ac.Params.All("filterByTk")
	if len(raw) == 0 && ac.Params.FilterByTk != "" {
		raw = []string{ac.Params.FilterByTk} // the last path segment: orders:trigger/1,2
	}
	ids, bad := value.ParseIDs(raw...)
	if bad != "" {
		return nil, core.BadRequest("filterByTk", "%s is not a record id", bad)
	}
	if len(ids) == 0 {
		return nil, core.BadRequest("filterByTk", "is required: the record(s) the action runs on")
	}
	if len(ids) > core.MaxPageSize {
		return nil, core.BadRequest("filterByTk", "at most %d records at once", core.MaxPageSize)
	}
	out := make([]any, 0, len(ids))
	err := ac.App().View(ac.Context(), func(tx *core.Tx) error {
		for _, id := range ids {
			rec, err := p.data.Get(tx, ac.Collection, id)
			if err != nil {
				return err
			}
			data, err := p.data.PresentOne(tx, ac.Collection, rec, w.ConfigStrings("appends"), nil)
			if err != nil {
				return err
			}
			for k, v := range values {
				if f, ok := ac.Collection.Field(k); ok && f.System {
					continue // the record's id and authorship are not the client's to say
				}
				data[k] = v
			}
			out = append(out, map[string]any(data))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// trigger is the "custom-action" trigger type.
type trigger struct{ p *Plugin }

func (trigger) Type() string { return Type }

// RequestBound implements workflow.RequestBound: config.roles limits who fires them.
func (trigger) RequestBound() bool { return true }

// ValidateConfig checks collection (optional: none means workflows:trigger) and appends.
func (t trigger) ValidateConfig(_ *core.Tx, cfg map[string]any) error {
	if name, _ := cfg["collection"].(string); name == "" {
		if a, ok := cfg["appends"].([]any); ok && len(a) > 0 {
			return core.BadRequest("config", "appends need a collection")
		}
		return nil
	}
	c, err := t.p.wf.ConfigCollection(cfg, false)
	if err != nil {
		return err
	}
	return t.p.wf.ConfigAppends(c, cfg)
}

// ManualContext builds {data, user, roleName} for workflows:execute: data is a record id
// (or {id}) when the workflow has a collection, otherwise any JSON.
func (t trigger) ManualContext(tx *core.Tx, wf *workflow.Workflow, values map[string]any) (map[string]any, error) {
	user, role, err := t.p.wf.ManualUser(tx, values)
	if err != nil {
		return nil, err
	}
	data := values["data"]
	if wf.ConfigString("collection") != "" {
		rec, err := t.p.wf.ManualRecord(tx, wf, values)
		if err != nil {
			return nil, err
		}
		data = rec
	}
	return map[string]any{"data": data, "user": user, "roleName": role}, nil
}
