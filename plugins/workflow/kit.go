package workflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/actionflow/actionflow/core"
)

// The trigger kit: the protocol every request-bound trigger (action, request-interception,
// custom-action) follows, written once. A trigger plugin keeps only when it fires and what
// ctx holds:
//
//  1. Select picks the workflows a request fires: the keys of ?triggerWorkflows= (parsed
//     once per request, see Bindings) in list order, then, when the trigger has global
//     workflows, the enabled global ones whose config.actions holds the action, by id.
//     Each workflow once; config.roles (or the trigger's own rule) limits who fires them;
//     a key's !path leads to the collection its workflow must fire on (config.collection);
//     the role must be able to read through it as through appends (else the key is ignored).
//     Keys that fire nothing are noted and reported after the action.
//  2. User is the acting user as scripts see it (desensitised).
//  3. A Plan collects the events: Add queues an async event in the action's transaction
//     (a committed write always has its queued executions) or keeps a sync one.
//  4. Plan.Run, after the commit, runs the sync events in order (RunChain), then releases
//     the queued executions, or cancels them with the reason when a sync workflow ended
//     the chain (flow.finish, flow.fail, an error or a timeout).
//  5. Answer maps how a chain ended to the response: flow.fail → 400 WORKFLOW_FAILED with
//     the message and the messages so far, an error or timeout → 500 WORKFLOW_ERROR with
//     GenericFailure (details stay in the execution).

// Candidate is a workflow a request fires, with the !path it was listed with.
type Candidate struct {
	Workflow *Workflow
	Path     string
}

// Selector is what a trigger says about the workflows a request fires.
type Selector struct {
	// Type is the trigger type.
	Type string
	// Collection is the collection the request acts on: a workflow fires when its
	// config.collection is this one (or, with Paths, the target of its !path). "" is no
	// collection (custom-action's workflows:trigger).
	Collection *core.Collection
	// Globals: the trigger has global workflows (config.global), which fire on the actions
	// in their config.actions and not when listed.
	Globals bool
	// Paths: a listed key's !path of to-one associations leads to the collection the
	// workflow fires on; without it, paths are ignored.
	Paths bool
	// Allowed, when set, replaces config.roles as the rule of who fires a listed workflow.
	Allowed func(*Workflow) bool
	// Mismatch, when set, is the reason noted for a workflow whose config.collection is
	// not where the request acts (default "it fires on X, not on Y").
	Mismatch func(w *Workflow) string
}

// Select picks the workflows a request fires, marks them fired and notes why the other
// listed keys did not fire (see Bindings).
func (e *Engine) Select(ac *core.ActionContext, s Selector) []Candidate {
	if ac.Params.Get("triggerWorkflows") == "" && (!s.Globals || len(e.Enabled(s.Type)) == 0) {
		return nil
	}
	b := e.Bindings(ac)
	allowed := s.Allowed
	if allowed == nil {
		allowed = func(w *Workflow) bool { return w.AllowsRole(b.role) }
	}
	var cands []Candidate
	for _, item := range b.List {
		w := b.WorkflowAllowed(item.Key, s.Type, allowed)
		if w == nil {
			continue
		}
		if s.Globals && w.ConfigBool("global") {
			b.Ignore(w.Key, "a global workflow fires on its config.actions, not when listed")
			continue // it may fire below
		}
		cands = append(cands, Candidate{Workflow: w, Path: item.Path})
	}
	if s.Globals {
		for _, w := range b.Globals(s.Type) {
			if slices.Contains(w.ConfigStrings("actions"), ac.Action) {
				cands = append(cands, Candidate{Workflow: w, Path: b.Path(w.Key)})
			}
		}
	}
	out := cands[:0]
	for _, c := range cands {
		if !s.Paths {
			c.Path = ""
		}
		if !e.firesOn(ac, b, s, c) {
			continue
		}
		b.Fired(c.Workflow.Key)
		out = append(out, c)
	}
	return out
}

// firesOn reports whether a candidate fires on the request's collection (or its path's
// target), noting why not.
func (e *Engine) firesOn(ac *core.ActionContext, b *Bindings, s Selector, c Candidate) bool {
	target := s.Collection
	if c.Path != "" {
		t, err := e.data.ToOnePath(s.Collection, c.Path)
		if err != nil {
			b.Ignore(c.Workflow.Key, fmt.Sprintf("path %q: %v", c.Path, err))
			return false
		}
		// The workflow sees the record at the end of the path: the role must be able to
		// read it there, as with appends (API.md §3).
		if err := e.app.MayReadPath(ac, s.Collection, c.Path, "triggerWorkflows"); err != nil {
			b.Ignore(c.Workflow.Key, err.Error())
			return false
		}
		target = t
	}
	name := ""
	if target != nil {
		name = target.Name
	}
	want := c.Workflow.ConfigString("collection")
	if want == name {
		return true
	}
	reason := fmt.Sprintf("it fires on %s, not on %s", want, name)
	if s.Mismatch != nil {
		reason = s.Mismatch(c.Workflow)
	}
	b.Ignore(c.Workflow.Key, reason)
	return false
}

// User is the acting user of a request as scripts see it (ctx.user): hidden fields left
// out; an empty object for an anonymous request.
func (e *Engine) User(ac *core.ActionContext) (core.Record, error) {
	users, err := e.data.Collection(core.UsersCollection)
	if err != nil {
		return nil, err
	}
	return core.Desensitize(users, ac.User), nil
}

// Plan is the executions one request causes: sync events to run after the commit and async
// ones queued. Make it with NewPlan, fill it with Add and end it with Run.
type Plan struct {
	e       *Engine
	sync    []Event
	pending []Event // async events to queue after the sync chain (Add without a tx)
	queued  []uint64
}

// NewPlan starts a plan.
func (e *Engine) NewPlan() *Plan { return &Plan{e: e} }

// Add keeps a sync event for Run or queues an async one in tx, the transaction of the write
// that caused it. Without a tx (a trigger that writes nothing) the async event is queued by
// Run after the sync chain, in a transaction of its own. An event skipped by loop
// protection is noted on its parent execution.
func (p *Plan) Add(tx *core.Tx, ev Event) error {
	switch {
	case ev.Workflow.Sync:
		p.sync = append(p.sync, ev)
	case tx == nil:
		p.pending = append(p.pending, ev)
	default:
		id, ok, err := p.e.EnqueueOrNote(tx, ev)
		if err != nil {
			return err
		}
		if ok {
			p.queued = append(p.queued, id)
		}
	}
	return nil
}

// Empty reports whether the plan has nothing to run.
func (p *Plan) Empty() bool {
	return p == nil || len(p.sync) == 0 && len(p.pending) == 0 && len(p.queued) == 0
}

// Run runs the sync events in order, then releases the queued executions, or cancels them
// (status canceled with the reason) when a sync workflow ended the chain. The error is the
// response's (Answer); res.Queued are the async executions queued.
func (p *Plan) Run(ctx context.Context) (ChainResult, error) {
	res, chainErr := p.e.RunChain(ctx, p.sync)
	if len(p.pending) > 0 {
		err := p.e.app.Update(ctx, func(tx *core.Tx) error {
			ids := p.queued
			for _, ev := range p.pending {
				id, ok, err := p.e.EnqueueOrNote(tx, ev)
				if err != nil {
					return err
				}
				if ok {
					ids = append(ids, id)
				}
			}
			tx.OnCommit(func() { p.queued = ids })
			return nil
		})
		if err != nil {
			// The executions queued with the write committed with it: they run, or are
			// canceled, all the same (else they stay parked until the process restarts).
			p.settle(ctx, res)
			return res, err
		}
		p.pending = nil
	}
	res.Queued = p.queued
	p.settle(ctx, res)
	return res, Answer(chainErr, res.Messages)
}

// settle releases the queued executions, or cancels them when the chain stopped.
func (p *Plan) settle(ctx context.Context, res ChainResult) {
	if res.Stopped {
		p.cancel(ctx, res.Reason)
	} else {
		p.e.Dispatch(p.queued...)
	}
}

// RunEach is Run for writes that do not wait for their workflows (collection events): the
// queued executions are released, then each sync event runs alone, its outcome in its
// execution only (a failure is logged, later events still run).
func (p *Plan) RunEach(ctx context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	p.e.Dispatch(p.queued...)
	for _, ev := range p.sync {
		if _, err := p.e.RunChain(ctx, []Event{ev}); err != nil {
			p.e.log.Warn("sync workflow", "workflow", ev.Workflow.Key, "type", ev.Workflow.Type, "err", err)
		}
	}
}

// cancel marks the queued executions canceled; when that fails they run after all (the
// response is decided, so it is logged).
func (p *Plan) cancel(ctx context.Context, reason string) {
	if len(p.queued) == 0 {
		return
	}
	if err := p.e.Cancel(context.WithoutCancel(ctx), p.queued, reason); err != nil {
		p.e.log.Error("cancel skipped executions", "err", err)
		p.e.Dispatch(p.queued...)
	}
}

// Answer is the response error of a chain that ended with err (see the kit above): a
// flow.fail is a 400 carrying its message and the messages of the chain so far, an error
// or timeout a 500 with GenericFailure; other errors are returned as they are.
func Answer(err error, messages []core.Message) error {
	var ce *ChainError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Failed {
		return &core.Error{Status: http.StatusBadRequest, Code: "WORKFLOW_FAILED", Message: ce.Message, Extra: messages}
	}
	return &core.Error{Status: http.StatusInternalServerError, Code: "WORKFLOW_ERROR", Message: GenericFailure, Err: ce.Err}
}
