// Package actiontrigger is the post-action trigger (type "action", API.md §5): after a
// user's create or update succeeds, the workflows bound to the request
// (?triggerWorkflows=key1,key2!path) and the collection's global workflows run with the
// action's result, the acting user and the role.
//
// Async executions are queued in the action's own transaction, so a committed record
// always has its queued executions. Sync workflows run after the commit, in order, and
// decide the response: flow.fail(msg) → 400 with the message, a Lua error or timeout →
// 500 with a generic message, flow.finish() → 200 and every later workflow (sync or async)
// skipped. The record stays saved in every case; skipped async executions are kept as
// canceled (-4) with a reason. A workflow with config.roles fires only for those roles;
// listed keys that fire nothing are reported by the engine (workflow.Bindings).
//
//	wf := workflow.New(workflow.Config{})
//	app, _ := core.New(cfg, core.WithPlugins(wf, actiontrigger.New(wf)))
package actiontrigger

import (
	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// Type is the trigger type name.
const Type = "action"

// Plugin is the post-action trigger plugin.
type Plugin struct {
	wf      *workflow.Engine
	data    *core.Data
	planKey core.Key[*workflow.Plan]
}

// New makes the plugin for a workflow engine.
func New(wf *workflow.Engine) *Plugin {
	return &Plugin{wf: wf, planKey: core.NewKey[*workflow.Plan]("actiontrigger.plan")}
}

// Name implements core.Plugin.
func (p *Plugin) Name() string { return "actiontrigger" }

// Init implements core.Plugin.
func (p *Plugin) Init(h *core.Host) error {
	p.data = h.Data()
	if err := p.wf.RegisterTrigger(trigger{p}); err != nil {
		return err
	}
	writes := []string{"create", "update"}
	if err := h.Hook(core.InTransaction, core.Hook{ID: "actiontrigger.plan", On: core.AnyCollection, Actions: writes, Fn: p.plan}); err != nil {
		return err
	}
	// First among the after hooks: queued executions are released or canceled here.
	return h.Hook(core.AfterAction, core.Hook{ID: "actiontrigger.run", Priority: -100, On: core.AnyCollection, Actions: writes, Fn: p.run})
}

// plan runs in the action's transaction: it builds each execution's context from the
// written records and queues the async ones (workflow.Plan).
func (p *Plugin) plan(ac *core.ActionContext) error {
	cands := p.wf.Select(ac, workflow.Selector{Type: Type, Collection: ac.Collection, Globals: true, Paths: true})
	recs := ac.Records()
	if len(cands) == 0 || len(recs) == 0 {
		return nil
	}
	user, err := p.wf.User(ac)
	if err != nil {
		return err
	}
	pl := p.wf.NewPlan()
	for _, cand := range cands {
		for _, rec := range recs {
			data, err := p.eventData(ac.Tx, ac.Collection, rec, cand)
			if err != nil {
				return err
			}
			ev := workflow.Event{Workflow: cand.Workflow, Context: map[string]any{"data": data, "user": user, "roleName": ac.Role}}
			if err := pl.Add(ac.Tx, ev); err != nil {
				return err
			}
		}
	}
	if !pl.Empty() {
		p.planKey.Set(ac, pl)
	}
	return nil
}

// eventData is the record a workflow receives: the written record, or the one its path
// leads to (nil when the association is empty), with the config's appends, desensitized.
func (p *Plugin) eventData(tx *core.Tx, c *core.Collection, rec core.Record, cand workflow.Candidate) (any, error) {
	if cand.Path != "" {
		t, r, err := p.data.Related(tx, c, rec, cand.Path)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, nil
		}
		c, rec = t, r
	}
	out, err := p.data.PresentOne(tx, c, rec, cand.Workflow.ConfigStrings("appends"), nil)
	if err != nil {
		return nil, err
	}
	return map[string]any(out), nil
}

// run runs after the commit: sync workflows in order, then the async ones are released
// or, when a sync workflow ended the chain, canceled.
func (p *Plugin) run(ac *core.ActionContext) error {
	pl, ok := p.planKey.Get(ac)
	if !ok {
		return nil
	}
	res, err := pl.Run(ac.Context())
	if err != nil {
		return err
	}
	ac.Result.Messages = append(ac.Result.Messages, res.Messages...)
	return nil
}

// trigger is the "action" trigger type.
type trigger struct{ p *Plugin }

func (trigger) Type() string { return Type }

// RequestBound implements workflow.RequestBound: config.roles limits who fires them.
func (trigger) RequestBound() bool { return true }

// ValidateConfig checks collection (required, existing), global, actions and appends.
func (t trigger) ValidateConfig(_ *core.Tx, cfg map[string]any) error {
	c, err := t.p.wf.ConfigCollection(cfg, true)
	if err != nil {
		return err
	}
	if err := workflow.ConfigGlobalActions(cfg, "create", "update"); err != nil {
		return err
	}
	return t.p.wf.ConfigAppends(c, cfg)
}

// ManualContext builds {data, user, roleName} for workflows:execute: data is a record of
// the workflow's collection given as an object with an id or as an id.
func (t trigger) ManualContext(tx *core.Tx, wf *workflow.Workflow, values map[string]any) (map[string]any, error) {
	data, err := t.p.wf.ManualRecord(tx, wf, values)
	if err != nil {
		return nil, err
	}
	user, role, err := t.p.wf.ManualUser(tx, values)
	if err != nil {
		return nil, err
	}
	return map[string]any{"data": data, "user": user, "roleName": role}, nil
}
