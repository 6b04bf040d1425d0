package workflow

import (
	"slices"
	"strings"

	"github.com/actionflow/actionflow/core"
)

// Helpers for trigger plugins: the config fields several trigger types share, validated
// the same way with the same messages, and the record a manual execution names.

// ConfigCollection checks config.collection: required, an existing collection, and not a
// system one unless allowSystem.
func (e *Engine) ConfigCollection(cfg map[string]any, allowSystem bool) (*core.Collection, error) {
	name, _ := cfg["collection"].(string)
	if name == "" {
		return nil, core.BadRequest("config", "collection is required")
	}
	c, err := e.data.Collection(name)
	if err != nil {
		return nil, core.BadRequest("config", "collection %q does not exist", name)
	}
	if c.System && !allowSystem {
		return nil, core.BadRequest("config", "collection %q is a system collection", name)
	}
	return c, nil
}

// ConfigAppends checks config.appends, when present: a list of association paths of c.
func (e *Engine) ConfigAppends(c *core.Collection, cfg map[string]any) error {
	raw, ok := cfg["appends"]
	if !ok || raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		return core.BadRequest("config", "appends must be a list of association paths")
	}
	paths := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return core.BadRequest("config", "appends must be a list of association paths")
		}
		paths = append(paths, s)
	}
	if err := e.data.CheckAppends(c, paths); err != nil {
		return core.BadRequest("config", "%v", err)
	}
	return nil
}

// ConfigGlobalActions checks config.global (a boolean) and config.actions (a list of the
// allowed action names), when present.
func ConfigGlobalActions(cfg map[string]any, allowed ...string) error {
	if g, ok := cfg["global"]; ok {
		if _, isBool := g.(bool); !isBool {
			return core.BadRequest("config", "global must be true or false")
		}
	}
	raw, ok := cfg["actions"]
	if !ok || raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		return core.BadRequest("config", "actions must be a list of %s", quoted(allowed))
	}
	for _, x := range list {
		s, _ := x.(string)
		if !slices.Contains(allowed, s) {
			return core.BadRequest("config", "actions: %v is not one of %s", x, quoted(allowed))
		}
	}
	return nil
}

// ManualRecord loads the record a manual execution names in values.data (the record as an
// object with an id, or the id) from the workflow's collection, with its appends, for
// ctx.data.
func (e *Engine) ManualRecord(tx *core.Tx, wf *Workflow, values map[string]any) (map[string]any, error) {
	c, err := e.data.Collection(wf.ConfigString("collection"))
	if err != nil {
		return nil, core.BadRequest("config", "collection %q does not exist", wf.ConfigString("collection"))
	}
	raw, ok := values["data"]
	if !ok || raw == nil {
		return nil, core.BadRequest("data", "is required: a record or its id")
	}
	if m, isObj := raw.(map[string]any); isObj {
		raw = m["id"]
	}
	id, err := ParseID(raw)
	if err != nil {
		return nil, core.BadRequest("data", "%v", err)
	}
	rec, err := e.data.Get(tx, c, id)
	if err != nil {
		return nil, core.BadRequest("data", "%s %d not found", c.Name, id)
	}
	data, err := e.data.PresentOne(tx, c, rec, wf.ConfigStrings("appends"), nil)
	if err != nil {
		return nil, err
	}
	return map[string]any(data), nil
}

func quoted(list []string) string { return `"` + strings.Join(list, `", "`) + `"` }
