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
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// Type is the trigger type name.
const Type = "action"

// Plugin is the post-action trigger plugin.
type Plugin struct {
	wf   *workflow.Engine
	data *core.Data
	log  *slog.Logger
}

// New makes the plugin for a workflow engine.
func New(wf *workflow.Engine) *Plugin { return &Plugin{wf: wf} }

// Name implements core.Plugin.
func (p *Plugin) Name() string { return "actiontrigger" }

// Init implements core.Plugin.
func (p *Plugin) Init(h *core.Host) error {
	p.data, p.log = h.Data(), h.Logger()
	if err := p.wf.RegisterTrigger(trigger{p}); err != nil {
		return err
	}
	if err := h.Hook(core.InTransaction, core.Hook{ID: "actiontrigger.plan", Fn: p.plan}); err != nil {
		return err
	}
	// First among the after hooks: queued executions are released or canceled here.
	return h.Hook(core.AfterAction, core.Hook{ID: "actiontrigger.run", Priority: -100, Fn: p.runSync})
}

const planKey = "actiontrigger.plan"

// plan is what the in-transaction phase decided: sync events to run after the commit and
// queued async executions to release (or cancel).
type plan struct {
	sync  []workflow.Event
	async []uint64
}

// candidate is a workflow selected for this action, with its bound path.
type candidate struct {
	wf   *workflow.Workflow
	path string
}

// selectWorkflows picks the workflows: listed local ones in list order, then the global
// ones; workflows whose config.roles leave out the request's role are not picked. Keys
// that fire nothing are noted on the request's bindings (unknown ones are ignored).
func (p *Plugin) selectWorkflows(ac *core.ActionContext) []candidate {
	raw := ac.Params.Get("triggerWorkflows")
	if raw == "" && len(p.wf.Enabled(Type)) == 0 {
		return nil
	}
	b := p.wf.Bindings(ac)
	var out []candidate
	for _, item := range b.List {
		w := b.Workflow(item.Key, Type)
		if w == nil {
			continue
		}
		if w.ConfigBool("global") {
			b.Ignore(w.Key, "a global workflow fires on its config.actions, not when listed")
			continue // it may fire below
		}
		out = append(out, candidate{wf: w, path: item.Path})
	}
	for _, w := range b.Globals(Type) {
		if !slices.Contains(w.ConfigStrings("actions"), ac.Action) {
			continue
		}
		out = append(out, candidate{wf: w, path: b.Path(w.Key)})
	}
	return out
}

// plan runs in the action's transaction: it builds each execution's context from the
// written records and queues the async ones.
func (p *Plugin) plan(ac *core.ActionContext) error {
	if ac.Collection == nil || (ac.Action != "create" && ac.Action != "update") {
		return nil
	}
	cands := p.targets(ac, p.selectWorkflows(ac))
	if len(cands) == 0 {
		return nil
	}
	recs, _ := ac.Value(core.ResultRecordsKey).([]core.Record)
	if len(recs) == 0 {
		return nil
	}
	users, err := p.data.Collection(core.UsersCollection)
	if err != nil {
		return err
	}
	user := core.Desensitize(users, ac.User)
	var pl plan
	for _, cand := range cands {
		for _, rec := range recs {
			data, err := p.eventData(ac.Tx, ac.Collection, rec, cand)
			if err != nil {
				return err
			}
			ev := workflow.Event{Workflow: cand.wf, Context: map[string]any{"data": data, "user": user, "roleName": ac.Role}}
			if cand.wf.Sync {
				pl.sync = append(pl.sync, ev)
				continue
			}
			id, ok, err := p.wf.EnqueueOrNote(ac.Tx, ev)
			if err != nil {
				return err
			}
			if ok {
				pl.async = append(pl.async, id)
			}
		}
	}
	if len(pl.sync) > 0 || len(pl.async) > 0 {
		ac.Set(planKey, &pl)
	}
	return nil
}

// targets keeps the candidates whose config.collection is the written collection, or the
// target of their !path, and marks them fired; the others are noted as ignored.
func (p *Plugin) targets(ac *core.ActionContext, cands []candidate) []candidate {
	if len(cands) == 0 {
		return nil
	}
	b := p.wf.Bindings(ac)
	out := cands[:0]
	for _, cand := range cands {
		target := ac.Collection
		if cand.path != "" {
			t, err := p.data.ToOnePath(ac.Collection, cand.path)
			if err != nil {
				b.Ignore(cand.wf.Key, fmt.Sprintf("path %q: %v", cand.path, err))
				continue
			}
			target = t
		}
		if want := cand.wf.ConfigString("collection"); target.Name != want {
			b.Ignore(cand.wf.Key, fmt.Sprintf("it fires on %s, not on %s", want, target.Name))
			continue
		}
		b.Fired(cand.wf.Key)
		out = append(out, cand)
	}
	return out
}

// eventData is the record a workflow receives: the written record, or the one its path
// leads to (nil when the association is empty), with the config's appends, desensitized.
func (p *Plugin) eventData(tx *core.Tx, c *core.Collection, rec core.Record, cand candidate) (any, error) {
	if cand.path != "" {
		t, r, err := p.data.Related(tx, c, rec, cand.path)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, nil
		}
		c, rec = t, r
	}
	out, err := p.data.PresentOne(tx, c, rec, cand.wf.ConfigStrings("appends"), nil)
	if err != nil {
		return nil, err
	}
	return map[string]any(out), nil
}

// runSync runs after the commit: sync workflows in order, then the async ones are released
// or, when a sync workflow ended the chain, canceled.
func (p *Plugin) runSync(ac *core.ActionContext) error {
	pl, _ := ac.Value(planKey).(*plan)
	if pl == nil {
		return nil
	}
	res, err := p.wf.RunChain(ac.Context(), pl.sync)
	if res.Stopped {
		p.cancel(pl, res.Reason)
	} else {
		p.wf.Dispatch(pl.async...)
	}
	if err != nil {
		return err
	}
	ac.Result.Messages = append(ac.Result.Messages, res.Messages...)
	return nil
}

// cancel marks the plan's queued executions canceled.
func (p *Plugin) cancel(pl *plan, reason string) {
	if len(pl.async) == 0 {
		return
	}
	if err := p.wf.Cancel(context.Background(), pl.async, reason); err != nil {
		// They stay queued and run after all: logged, since the response is decided.
		p.log.Error("cancel skipped executions", "err", err)
		p.wf.Dispatch(pl.async...)
	}
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
