package workflow

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/runtime"
)

var keyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// workflowInput is the body of workflows:create and workflows:update.
type workflowInput struct {
	Key         *string          `json:"key"`
	Title       *string          `json:"title"`
	Description *string          `json:"description"`
	Type        *string          `json:"type"`
	Sync        *bool            `json:"sync"`
	Enabled     *bool            `json:"enabled"`
	Config      *json.RawMessage `json:"config"`
	Options     *json.RawMessage `json:"options"`
	Script      *string          `json:"script"`
}

func decodeBody(ac *core.ActionContext, v any) error {
	if len(ac.Params.Body) == 0 {
		return core.BadRequest("body", "a JSON object is required")
	}
	d := json.NewDecoder(bytes.NewReader(ac.Params.Body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return core.BadRequest("body", "%v", err)
	}
	return nil
}

func newKey() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// checkConfig validates a config with its trigger type.
func (e *Engine) checkConfig(tx *core.Tx, typ string, raw *json.RawMessage) (map[string]any, error) {
	t, ok := e.trigger(typ)
	if !ok {
		return nil, core.BadRequest("type", "unknown trigger type %q", typ)
	}
	cfg := map[string]any{}
	if raw != nil && string(*raw) != "null" {
		var v any
		d := json.NewDecoder(bytes.NewReader(*raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, core.BadRequest("config", "%v", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, core.BadRequest("config", "must be an object")
		}
		n, err := value.Normalize(m)
		if err != nil {
			return nil, core.BadRequest("config", "%v", err)
		}
		cfg = n.(map[string]any)
	}
	if err := checkRoles(t, cfg); err != nil {
		return nil, err
	}
	if err := t.ValidateConfig(tx, cfg); err != nil {
		var ce *core.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, core.BadRequest("config", "%v", err)
	}
	return cfg, nil
}

func checkOptions(raw *json.RawMessage) (Options, error) {
	var o Options
	if raw == nil || string(*raw) == "null" {
		return o, nil
	}
	d := json.NewDecoder(bytes.NewReader(*raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&o); err != nil {
		return o, core.BadRequest("options", "%v", err)
	}
	if o.Timeout < 0 {
		return o, core.BadRequest("options", "timeout must be 0 (the default) or more milliseconds")
	}
	if o.StackLimit < 0 {
		return o, core.BadRequest("options", "stackLimit must be 1 or more")
	}
	for _, s := range o.DeleteExecutionOnStatus {
		if s < StatusCanceled || s > StatusResolved || s == StatusStarted {
			return o, core.BadRequest("options", "deleteExecutionOnStatus: %d is not a final status", s)
		}
	}
	return o, nil
}

// checkScript compiles a script; a compile error is a 400 naming the line.
func (e *Engine) checkScript(name, src string) error {
	_, err := e.lua.Compile(name, src)
	var ce *runtime.CompileError
	if errors.As(err, &ce) {
		if ce.Line > 0 {
			return core.BadRequest("script", "line %d: %s", ce.Line, ce.Message)
		}
		return core.BadRequest("script", "%s", ce.Message)
	}
	return err
}

// versions lists the versions of a key.
func (e *Engine) versions(tx *core.Tx, key string) ([]*Workflow, error) {
	coll, err := e.data.Collection(WorkflowsCollection)
	if err != nil {
		return nil, err
	}
	recs, _, err := e.data.List(tx, coll, core.ListQuery{Filter: &query.Node{Op: query.OpEq, Path: "key", Value: key}})
	if err != nil {
		return nil, err
	}
	out := make([]*Workflow, len(recs))
	for i, r := range recs {
		out[i] = &Workflow{}
		if err := fromRecord(r, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// makeCurrent turns the other versions of w's key off, so that w is the one current
// (and the only enabled) version.
func (e *Engine) makeCurrent(tx *core.Tx, w *Workflow) error {
	others, err := e.versions(tx, w.Key)
	if err != nil {
		return err
	}
	coll, err := e.data.Collection(WorkflowsCollection)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID == w.ID || (!o.Enabled && !o.Current) {
			continue
		}
		if _, err := e.data.Update(tx, coll, core.Selector{ID: o.ID}, map[string]any{"enabled": false, "current": false}, core.WriteOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) workflowActions() map[string]core.Action {
	return map[string]core.Action{
		"create":   {Tx: core.TxWrite, Handler: e.createWorkflow},
		"update":   {Tx: core.TxWrite, Handler: e.updateWorkflow},
		"destroy":  {Tx: core.TxWrite, Handler: e.destroyWorkflow},
		"revision": {Tx: core.TxWrite, Handler: e.reviseWorkflow},
		"execute":  {Tx: core.TxNone, Handler: e.executeWorkflow},
	}
}

func (e *Engine) createWorkflow(ac *core.ActionContext) error {
	var in workflowInput
	if err := decodeBody(ac, &in); err != nil {
		return err
	}
	w := &Workflow{Config: map[string]any{}}
	if in.Type == nil || *in.Type == "" {
		return core.BadRequest("type", "is required")
	}
	w.Type = *in.Type
	cfg, err := e.checkConfig(ac.Tx, w.Type, in.Config)
	if err != nil {
		return err
	}
	w.Config = cfg
	if w.Options, err = checkOptions(in.Options); err != nil {
		return err
	}
	if in.Key != nil && *in.Key != "" {
		if !keyRe.MatchString(*in.Key) {
			return core.BadRequest("key", "must be 1-64 letters, digits, '-' or '_'")
		}
		w.Key = *in.Key
	} else {
		w.Key = newKey()
	}
	if in.Title != nil {
		w.Title = *in.Title
	}
	if in.Description != nil {
		w.Description = *in.Description
	}
	if in.Sync != nil {
		w.Sync = *in.Sync
	}
	if t, _ := e.trigger(w.Type); t != nil {
		if so, ok := t.(SyncOnly); ok && so.AlwaysSync() {
			w.Sync = true
		}
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	if in.Script != nil {
		w.Script = *in.Script
	}
	if err := e.checkScript(w.Key, w.Script); err != nil {
		return err
	}
	others, err := e.versions(ac.Tx, w.Key)
	if err != nil {
		return err
	}
	hasCurrent := false
	for _, o := range others {
		if o.Current {
			hasCurrent = true
		}
		if o.Type != w.Type || o.Sync != w.Sync {
			return core.BadRequest("key", "versions of %q are of type %s (sync %v)", w.Key, o.Type, o.Sync)
		}
	}
	w.Current = w.Enabled || !hasCurrent
	rec, err := e.writeWorkflow(ac, w, true)
	if err != nil {
		return err
	}
	if w.Enabled {
		if err := e.makeCurrent(ac.Tx, w); err != nil {
			return err
		}
	}
	ac.Result = &core.Result{Data: rec}
	return nil
}

// writeWorkflow creates (create=true) or updates w on behalf of the acting user.
func (e *Engine) writeWorkflow(ac *core.ActionContext, w *Workflow, create bool) (core.Record, error) {
	tx, opts := ac.Tx, core.WriteOptions{UserID: ac.UserID}
	coll, err := e.data.Collection(WorkflowsCollection)
	if err != nil {
		return nil, err
	}
	values, err := toValues(w)
	if err != nil {
		return nil, err
	}
	delete(values, "id")
	if create {
		rec, err := e.data.Create(tx, coll, values, opts)
		if err != nil {
			return nil, err
		}
		w.ID = uint64(rec["id"].(int64))
		return rec, nil
	}
	recs, err := e.data.Update(tx, coll, core.Selector{ID: w.ID}, values, opts)
	if err != nil {
		return nil, err
	}
	return recs[0], nil
}

func (e *Engine) updateWorkflow(ac *core.ActionContext) error {
	if ac.Params.ID == 0 {
		return core.BadRequest("filterByTk", "the workflow id is required")
	}
	var in workflowInput
	if err := decodeBody(ac, &in); err != nil {
		return err
	}
	w, err := e.loadWorkflow(ac.Tx, ac.Params.ID)
	if err != nil {
		return err
	}
	if in.Type != nil && *in.Type != w.Type || in.Sync != nil && *in.Sync != w.Sync {
		return core.BadRequest("type", "type and sync are fixed when a workflow is created")
	}
	if in.Key != nil && *in.Key != w.Key {
		return core.BadRequest("key", "the key of a workflow cannot change")
	}
	frozen := w.Executed > 0
	if in.Config != nil {
		cfg, err := e.checkConfig(ac.Tx, w.Type, in.Config)
		if err != nil {
			return err
		}
		if frozen && !value.Equal(cfg, w.Config) {
			return core.BadRequest("config", "config of an executed workflow version can not be updated; make a revision")
		}
		w.Config = cfg
	}
	if in.Script != nil && *in.Script != w.Script {
		if frozen {
			return core.BadRequest("script", "script of an executed workflow version can not be updated; make a revision")
		}
		if err := e.checkScript(w.Key, *in.Script); err != nil {
			return err
		}
		w.Script = *in.Script
	}
	if in.Options != nil {
		if w.Options, err = checkOptions(in.Options); err != nil {
			return err
		}
	}
	if in.Title != nil {
		w.Title = *in.Title
	}
	if in.Description != nil {
		w.Description = *in.Description
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
		if w.Enabled {
			w.Current = true
		}
	}
	rec, err := e.writeWorkflow(ac, w, false)
	if err != nil {
		return err
	}
	if w.Enabled {
		if err := e.makeCurrent(ac.Tx, w); err != nil {
			return err
		}
	}
	ac.Result = &core.Result{Data: []core.Record{rec}}
	return nil
}

func (e *Engine) destroyWorkflow(ac *core.ActionContext) error {
	coll, err := e.data.Collection(WorkflowsCollection)
	if err != nil {
		return err
	}
	if ac.Params.ID == 0 && ac.Params.Filter == nil {
		return core.BadRequest("filterByTk", "filterByTk or filter is required")
	}
	ids, err := e.data.Select(ac.Tx, coll, core.Selector{ID: ac.Params.ID, Filter: ac.Params.Filter})
	if err != nil {
		return err
	}
	gone := map[uint64]bool{}
	for _, id := range ids {
		w, err := e.loadWorkflow(ac.Tx, id)
		if err != nil {
			return err
		}
		victims := []*Workflow{w}
		if w.Current {
			// Destroying the current version takes every version of the key with it.
			if victims, err = e.versions(ac.Tx, w.Key); err != nil {
				return err
			}
		}
		for _, v := range victims {
			if gone[v.ID] {
				continue
			}
			gone[v.ID] = true
			if err := e.destroyVersion(ac.Tx, coll, v.ID); err != nil {
				return err
			}
			ac.Tx.OnCommit(func() { e.destroyExecutionsOf(v.ID) })
		}
	}
	ac.Result = &core.Result{Data: len(gone)}
	return nil
}

// destroyVersion destroys a workflow version and notes, in the same transaction, that its
// executions are to be removed: destroyExecutionsOf removes them once it has committed
// and then the note, and Start finishes the work of a process that ended in between.
func (e *Engine) destroyVersion(tx *core.Tx, coll *core.Collection, id uint64) error {
	if _, err := e.data.Destroy(tx, coll, core.Selector{ID: id}, core.WriteOptions{}); err != nil {
		return err
	}
	if err := tx.Set(e.goneKey(id), nil); err != nil {
		return fmt.Errorf("workflow: note destroyed version %d: %w", id, err)
	}
	return nil
}

// goneKey is the key of the note that workflow version id is destroyed and its executions
// are still to be removed.
func (e *Engine) goneKey(id uint64) []byte { return idKey(e.gonePrefix, id) }

// finishDestroys removes the executions of the workflow versions destroyed by a process
// that ended before it had removed them (their notes are still there).
func (e *Engine) finishDestroys() error {
	ids, err := e.scanIDs(e.gonePrefix)
	if err != nil {
		return fmt.Errorf("workflow: scan destroyed versions: %w", err)
	}
	for _, id := range ids {
		e.destroyExecutionsOf(id)
	}
	return nil
}

// destroyExecutionsOf removes a destroyed workflow version's executions (and their queue
// entries) once its destroy has committed, before the response: in transactions of
// pruneBatch, since a workflow may have more executions than one transaction holds. Then
// it removes the version's note (destroyVersion). Errors are logged: the workflow is gone
// either way, and the note stays for the next start to finish the work.
func (e *Engine) destroyExecutionsOf(wfID uint64) {
	ctx := context.Background()
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		e.log.Error("destroy executions of a destroyed workflow", "workflowId", wfID, "err", err)
		return
	}
	f := &query.Node{Op: query.OpEq, Path: "workflowId", Value: int64(wfID)}
	var ids []uint64
	err = e.app.View(ctx, func(tx *core.Tx) error {
		ids, err = e.data.Select(tx, coll, core.Selector{Filter: f})
		return err
	})
	for len(ids) > 0 && err == nil {
		batch := ids[:min(len(ids), pruneBatch)]
		ids = ids[len(batch):]
		err = e.app.Update(ctx, func(tx *core.Tx) error {
			deleted := 0
			for _, id := range batch {
				if st, ok := e.running.Load(id); ok {
					st.(*runState).abort()
				}
				if err := e.disp.remove(tx, id); err != nil {
					return err
				}
				n, err := e.data.Destroy(tx, coll, core.Selector{ID: id}, core.WriteOptions{})
				if err != nil && !errors.Is(err, core.ErrNotFound) { // pruned meanwhile
					return err
				}
				deleted += n
			}
			tx.OnCommit(func() { e.count.Add(-int64(deleted)) })
			return nil
		})
	}
	if err == nil {
		err = e.app.Update(ctx, func(tx *core.Tx) error { return tx.Delete(e.goneKey(wfID)) })
	}
	if err != nil {
		e.log.Error("destroy executions of a destroyed workflow", "workflowId", wfID, "err", err)
	}
}

// revisionKey reads filter[key] (or filter={"key":...}) of workflows:revision.
func revisionKey(ac *core.ActionContext) string {
	if k := ac.Params.Get("filter[key]"); k != "" {
		return k
	}
	for _, c := range ac.Params.Filter.IndexableEq() {
		if c.Path == "key" && len(c.Values) == 1 {
			if s, ok := c.Values[0].(string); ok {
				return s
			}
		}
	}
	return ""
}

func (e *Engine) reviseWorkflow(ac *core.ActionContext) error {
	if ac.Params.ID == 0 {
		return core.BadRequest("filterByTk", "the workflow id is required")
	}
	src, err := e.loadWorkflow(ac.Tx, ac.Params.ID)
	if err != nil {
		return err
	}
	w := &Workflow{
		Key: src.Key, Title: src.Title, Description: src.Description, Type: src.Type, Sync: src.Sync,
		Config: src.Config, Options: src.Options, Script: src.Script,
	}
	if key := revisionKey(ac); key != "" {
		if key != src.Key {
			return core.BadRequest("filter", "key %q is not the key of workflow %d", key, src.ID)
		}
	} else {
		// Without a key: an independent copy, the one version of a new key.
		w.Key, w.Title, w.Current = newKey(), src.Title+" copy", true
	}
	rec, err := e.writeWorkflow(ac, w, true)
	if err != nil {
		return err
	}
	ac.Result = &core.Result{Data: rec}
	return nil
}

func (e *Engine) executeWorkflow(ac *core.ActionContext) error {
	if ac.Params.ID == 0 {
		return core.BadRequest("filterByTk", "the workflow id is required")
	}
	var w *Workflow
	var ctxv map[string]any
	err := e.app.View(ac.Context(), func(tx *core.Tx) error {
		var err error
		if w, err = e.loadWorkflow(tx, ac.Params.ID); err != nil {
			return err
		}
		t, ok := e.trigger(w.Type)
		if !ok {
			return core.BadRequest("type", "trigger type %q is not available", w.Type)
		}
		values := ac.Params.Values
		if values == nil {
			values = map[string]any{}
		}
		if err := checkManualFields(values); err != nil {
			return err
		}
		ctxv, err = t.ManualContext(tx, w, values)
		return err
	})
	if err != nil {
		return err
	}
	out, err := e.RunSync(ac.Context(), Event{Workflow: w, Context: ctxv, Manually: true})
	if err != nil {
		return err
	}
	ac.Result = &core.Result{Data: map[string]any{"execution": map[string]any{"id": out.Execution.ID, "status": out.Execution.Status}}}
	return nil
}

// manualFields are the fields of a workflows:execute body: the context of every trigger
// type (data, userId, roleName; params of a pre-action workflow; previous of a collection
// update), and the pre-action params given at the top level (values, filterByTk, filter).
func manualFields() []string {
	return []string{"data", "userId", "roleName", "params", "previous", "values", "filterByTk", "filter"}
}

// checkManualFields refuses a workflows:execute body with a field no trigger reads.
func checkManualFields(values map[string]any) error {
	known := manualFields()
	var unknown []string
	for k := range values {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return core.BadRequest(unknown[0], "unknown field(s) %s; known: %s", strings.Join(unknown, ", "), strings.Join(known, ", "))
}

// ManualUser loads the user of a manual execution (values.userId) desensitized, and the
// role: values.roleName or the user's first role. Trigger plugins use it in ManualContext.
func (e *Engine) ManualUser(tx *core.Tx, values map[string]any) (user core.Record, role string, err error) {
	users, err := e.data.Collection(core.UsersCollection)
	if err != nil {
		return nil, "", err
	}
	raw, ok := values["userId"]
	if !ok || raw == nil {
		return nil, "", core.BadRequest("userId", "is required")
	}
	id, err := ParseID(raw)
	if err != nil {
		return nil, "", core.BadRequest("userId", "%v", err)
	}
	u, err := e.data.Get(tx, users, id)
	if err != nil {
		return nil, "", core.BadRequest("userId", "user %d not found", id)
	}
	role, _ = values["roleName"].(string)
	roles := core.UserRoles(u)
	if role == "" && len(roles) > 0 {
		role = roles[0]
	}
	return core.Desensitize(users, u), role, nil
}

// ParseID reads a record id given as a JSON number or a numeric string: value.ID, kept for
// plugins.
func ParseID(v any) (uint64, error) { return value.ID(v) }

func (e *Engine) executionActions() map[string]core.Action {
	return map[string]core.Action{
		"cancel": {Tx: core.TxNone, Handler: func(ac *core.ActionContext) error {
			if ac.Params.ID == 0 {
				return core.BadRequest("filterByTk", "the execution id is required")
			}
			ok, err := e.CancelExecution(ac.Context(), ac.Params.ID)
			if err != nil {
				return err
			}
			if !ok {
				return core.BadRequest("filterByTk", "execution %d has already ended", ac.Params.ID)
			}
			ac.Result = &core.Result{Data: map[string]any{"id": ac.Params.ID}}
			return nil
		}},
		"retry": {Tx: core.TxWrite, Handler: func(ac *core.ActionContext) error {
			if ac.Params.ID == 0 {
				return core.BadRequest("filterByTk", "the execution id is required")
			}
			old, err := e.loadExecution(ac.Tx, ac.Params.ID)
			if err != nil {
				return err
			}
			if !old.Final() {
				return core.BadRequest("filterByTk", "execution %d has not ended", old.ID)
			}
			w, err := e.loadWorkflow(ac.Tx, old.WorkflowID)
			if err != nil {
				return err
			}
			id, err := e.Enqueue(ac.Tx, Event{Workflow: w, Context: old.Context, Stack: old.Stack, Manually: old.Manually})
			if err != nil {
				return err
			}
			ac.Tx.OnCommit(func() { e.Dispatch(id) })
			ac.Result = &core.Result{Data: map[string]any{"id": id, "status": nil}}
			return nil
		}},
		"destroy": {Tx: core.TxWrite, Handler: func(ac *core.ActionContext) error {
			coll, err := e.data.Collection(ExecutionsCollection)
			if err != nil {
				return err
			}
			if ac.Params.ID == 0 && ac.Params.Filter == nil {
				return core.BadRequest("filterByTk", "filterByTk or filter is required")
			}
			ids, err := e.data.Select(ac.Tx, coll, core.Selector{ID: ac.Params.ID, Filter: ac.Params.Filter})
			if err != nil {
				return err
			}
			for _, id := range ids {
				if _, running := e.running.Load(id); running {
					return core.BadRequest("filterByTk", "execution %d is running; cancel it first", id)
				}
				if err := e.disp.remove(ac.Tx, id); err != nil {
					return err
				}
				if _, err := e.data.Destroy(ac.Tx, coll, core.Selector{ID: id}, core.WriteOptions{}); err != nil {
					return err
				}
			}
			ac.Tx.OnCommit(func() { e.count.Add(-int64(len(ids))) })
			ac.Result = &core.Result{Data: len(ids)}
			return nil
		}},
	}
}
