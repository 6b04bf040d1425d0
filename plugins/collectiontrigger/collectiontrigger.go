// Package collectiontrigger is the collection-event trigger (type "collection"): workflows
// that fire on every write to a collection — HTTP actions, plugin writes and workflow db
// writes alike.
//
// Config: collection, mode (create=1, update=2, destroy=4; combine by adding), changed (on
// update, fire only if one of these fields changed; a belongsTo field counts as its foreign
// key), condition (a filter the record must match), appends. The script sees ctx.data (the
// record; on destroy, the record removed) and, on update, ctx.previous.
//
// Async executions are queued in the same transaction as the write. A sync workflow runs
// right after the write commits: it cannot roll the write back, and its outcome does not
// change the response of the action that wrote.
//
//	wf := workflow.New(workflow.Config{})
//	app, _ := core.New(cfg, core.WithPlugins(wf, collectiontrigger.New(wf)))
package collectiontrigger

import (
	"log/slog"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// Type is the trigger type name.
const Type = "collection"

// Modes, combinable.
const (
	ModeCreate  = int64(core.EventCreate)
	ModeUpdate  = int64(core.EventUpdate)
	ModeDestroy = int64(core.EventDestroy)
)

// Plugin is the collection-event trigger plugin.
type Plugin struct {
	wf   *workflow.Engine
	data *core.Data
	log  *slog.Logger
}

// New makes the plugin for a workflow engine.
func New(wf *workflow.Engine) *Plugin { return &Plugin{wf: wf} }

// Name implements core.Plugin.
func (p *Plugin) Name() string { return "collectiontrigger" }

// Init implements core.Plugin.
func (p *Plugin) Init(h *core.Host) error {
	p.data, p.log = h.Data(), h.Logger()
	if err := p.wf.RegisterTrigger(trigger{p}); err != nil {
		return err
	}
	h.OnRecord(p.onRecord)
	return nil
}

// onRecord runs inside the transaction of every write.
func (p *Plugin) onRecord(tx *core.Tx, ev *core.RecordEvent) error {
	if ev.Collection.System {
		return nil
	}
	wfs := p.wf.Enabled(Type)
	if len(wfs) == 0 {
		return nil
	}
	var stack []workflow.Frame
	if o, ok := ev.Origin.(workflow.Origin); ok {
		stack = o.Stack
	}
	pl := p.wf.NewPlan()
	for _, w := range wfs {
		fire, err := p.matches(tx, w, ev)
		if err != nil {
			return err
		}
		if !fire {
			continue
		}
		data, err := p.data.PresentOne(tx, ev.Collection, ev.Record, w.ConfigStrings("appends"), nil)
		if err != nil {
			return err
		}
		ctx := map[string]any{"data": map[string]any(data)}
		if ev.Previous != nil {
			ctx["previous"] = map[string]any(core.Desensitize(ev.Collection, ev.Previous))
		}
		if err := pl.Add(tx, workflow.Event{Workflow: w, Context: ctx, Stack: stack}); err != nil {
			return err
		}
	}
	if !pl.Empty() {
		// After the commit: queued executions are released and sync ones run; their
		// outcome does not change the response of the action that wrote.
		runCtx := tx.Context()
		tx.OnCommit(func() { pl.RunEach(runCtx) })
	}
	return nil
}

// matches applies mode, changed and condition.
func (p *Plugin) matches(tx *core.Tx, w *workflow.Workflow, ev *core.RecordEvent) (bool, error) {
	if w.ConfigString("collection") != ev.Collection.Name {
		return false, nil
	}
	mode, _ := w.Config["mode"].(int64)
	if mode&int64(ev.Kind) == 0 {
		return false, nil
	}
	if ev.Kind == core.EventUpdate {
		if changed := w.ConfigStrings("changed"); len(changed) > 0 && !anyChanged(ev.Collection, changed, ev.Previous, ev.Record) {
			return false, nil
		}
	}
	if cond, ok := w.Config["condition"]; ok && cond != nil {
		n, err := query.ParseFilterValue(cond, p.data.QuerySchema(ev.Collection))
		if err != nil {
			// The schema changed since the workflow was saved: log and do not fire.
			p.log.Warn("collection workflow condition no longer applies", "workflow", w.Key, "err", err)
			return false, nil
		}
		if !p.data.Match(tx, ev.Collection, ev.Record, n) {
			return false, nil
		}
	}
	return true, nil
}

// anyChanged reports whether one of the fields differs between prev and cur; a belongsTo
// field is compared by its foreign key.
func anyChanged(c *core.Collection, fields []string, prev, cur core.Record) bool {
	for _, f := range fields {
		if fd, ok := c.Field(f); ok && fd.Type == core.TypeBelongsTo {
			f = fd.ForeignKey
		}
		if !value.Equal(prev[f], cur[f]) {
			return true
		}
	}
	return false
}

// trigger is the "collection" trigger type.
type trigger struct{ p *Plugin }

func (trigger) Type() string { return Type }

// ValidateConfig checks collection, mode, changed, condition and appends.
func (t trigger) ValidateConfig(_ *core.Tx, cfg map[string]any) error {
	c, err := t.p.wf.ConfigCollection(cfg, false)
	if err != nil {
		return err
	}
	mode, ok := cfg["mode"].(int64)
	if !ok || mode < 1 || mode > ModeCreate|ModeUpdate|ModeDestroy {
		return core.BadRequest("config", "mode must be 1 (create), 2 (update), 4 (destroy) or their sum")
	}
	if raw, ok := cfg["changed"]; ok && raw != nil {
		list, ok := raw.([]any)
		if !ok {
			return core.BadRequest("config", "changed must be a list of field names")
		}
		for _, x := range list {
			s, _ := x.(string)
			f, ok := c.Field(s)
			if !ok || !f.Stored() && f.Type != core.TypeBelongsTo {
				return core.BadRequest("config", "changed: %v is not a field of %s (to-many associations cannot be watched)", x, c.Name)
			}
		}
	}
	if cond, ok := cfg["condition"]; ok && cond != nil {
		if _, err := query.ParseFilterValue(cond, t.p.data.QuerySchema(c)); err != nil {
			return core.BadRequest("config", "condition: %v", err)
		}
	}
	return t.p.wf.ConfigAppends(c, cfg)
}

// ManualContext builds {data, previous} for workflows:execute from a record id (or {id})
// and, to run it as an update event, the record as it was before (an object).
func (t trigger) ManualContext(tx *core.Tx, wf *workflow.Workflow, values map[string]any) (map[string]any, error) {
	data, err := t.p.wf.ManualRecord(tx, wf, values)
	if err != nil {
		return nil, err
	}
	ctx := map[string]any{"data": data}
	if raw, ok := values["previous"]; ok && raw != nil {
		prev, isObj := raw.(map[string]any)
		if !isObj {
			return nil, core.BadRequest("previous", "want an object: the record before the update")
		}
		ctx["previous"] = prev
	}
	return ctx, nil
}
