// Package workflow is actionflow's workflow engine: the workflows and executions
// resources, versions, the Lua modules flow and db, the Trigger registry, and the durable
// queue with its dispatcher. It knows nothing about actions: trigger plugins
// (actiontrigger, ...) register a type and decide when workflows run.
//
// A trigger plugin is built with the engine it registers with:
//
//	wf := workflow.New(workflow.Config{})
//	app, err := core.New(cfg, core.WithPlugins(wf, actiontrigger.New(wf)))
//
// Async executions are at-least-once: they are queued in the store in the same transaction
// as the write that caused them, and an execution that was queued or running when the
// process died is run again, from the start, when it restarts.
package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/store"
)

// Config configures the engine.
type Config struct {
	// Workers run async executions (default: the number of CPUs).
	Workers int
	// MaxExecutions caps the execution history: beyond it the oldest final executions are
	// deleted (default 100000).
	MaxExecutions int
	// SweepInterval is how often the queue in the store is checked for ready executions no
	// node holds, e.g. those of a node that died (default 10s).
	SweepInterval time.Duration
	// Lease is how long a node holds a queued execution without renewing its lease
	// (default 20s): a node that dies loses its executions to the others after it.
	Lease time.Duration
	// RenewInterval is how often a node renews its leases and reads the cancel marks of
	// its executions (default 2s, at most a third of Lease).
	RenewInterval time.Duration
}

// Trigger is a trigger type: it validates the config of its workflows and builds the
// context of a manual execution. Its plugin registers the hooks that start executions.
//
// A trigger whose workflows a request fires (RequestBound) follows the trigger kit and keeps
// only when it fires and what ctx holds:
//
//	cands := engine.Select(ac, workflow.Selector{Type: Type, Collection: ac.Collection, Globals: true, Paths: true})
//	user, _ := engine.User(ac)                 // ctx.user, desensitised
//	pl := engine.NewPlan()
//	for _, c := range cands {
//		pl.Add(ac.Tx, workflow.Event{Workflow: c.Workflow, Context: ...}) // async: queued in the write's tx
//	}
//	// after the commit:
//	res, err := pl.Run(ac.Context()) // sync chain, then dispatch or cancel; err is the answer
//
// Select parses ?triggerWorkflows= once per request (Bindings) and notes the keys that fire
// nothing; Answer maps a chain's end to the HTTP answer (flow.fail → 400, error → 500).
type Trigger interface {
	Type() string
	// ValidateConfig checks a workflow's config; errors are shown to the user as 400s.
	ValidateConfig(tx *core.Tx, config map[string]any) error
	// ManualContext builds the context of workflows:execute from its body.
	ManualContext(tx *core.Tx, wf *Workflow, values map[string]any) (map[string]any, error)
}

// SyncOnly is implemented by triggers whose workflows always run synchronously
// (request-interception).
type SyncOnly interface{ AlwaysSync() bool }

// ErrLoop is returned when a workflow is already on the execution stack as often as its
// stackLimit allows.
var ErrLoop = errors.New("workflow: loop protection: the workflow is already on the execution stack")

// Engine is the workflow plugin.
type Engine struct {
	cfg  Config
	app  *core.App
	data *core.Data
	lua  *runtime.Engine
	log  *slog.Logger

	mu       sync.Mutex
	triggers map[string]Trigger
	snap     atomic.Pointer[snapshot]
	reloads  chan struct{}
	// reloadMu serialises reload: a reload that read the store before a commit must not
	// store its snapshot after the reload of that commit.
	reloadMu sync.Mutex

	running sync.Map // execution id → *runState, while it runs
	disp    *dispatcher
	metrics *engineMetrics
	// gonePrefix starts the keys of destroyed workflow versions whose executions are still
	// to be removed (goneKey).
	gonePrefix []byte
	// leasePrefix starts the keys of the leases on once-only work (takeLease).
	leasePrefix []byte
	count       atomic.Int64 // executions in the store (approximate: this node's, recounted by prune)
	// pruneFrom is the lowest execution id the next prune looks at (0: the first), and
	// prunes counts them; only prune, on the dispatcher's background goroutine and under
	// the prune lease, uses them.
	pruneFrom uint64
	prunes    uint64

	// executed holds the workflow version ids whose executed mark is committed
	// (markExecuted skips them).
	executed sync.Map

	// pause, when set (by tests), is called by an async execution's worker at pauseRead
	// and pauseRan, and by its start mark at pauseMarked.
	pause func(stage string, id uint64)
	// reloadDown, set by tests, fails reload as an unreachable database would.
	reloadDown atomic.Bool
}

// New makes the engine plugin.
func New(cfg Config) *Engine {
	if cfg.Workers <= 0 {
		cfg.Workers = goruntime.NumCPU()
	}
	if cfg.MaxExecutions <= 0 {
		cfg.MaxExecutions = 100000
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 10 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 20 * time.Second
	}
	if cfg.RenewInterval <= 0 {
		cfg.RenewInterval = 2 * time.Second
	}
	cfg.RenewInterval = min(cfg.RenewInterval, cfg.Lease/3)
	e := &Engine{cfg: cfg, triggers: map[string]Trigger{}}
	e.snap.Store(&snapshot{byKey: map[string]*Workflow{}})
	return e
}

// Name implements core.Plugin.
func (e *Engine) Name() string { return "workflow" }

// Init implements core.Plugin.
func (e *Engine) Init(h *core.Host) error {
	e.app, e.data, e.lua, e.log = h.App(), h.Data(), h.Lua(), h.Logger()
	for _, def := range []*core.Collection{workflowsCollection(), executionsCollection()} {
		if err := h.DefineCollection(def); err != nil {
			return err
		}
	}
	for _, m := range []runtime.Module{flowModule(), dbModule()} {
		if err := e.lua.Register(m); err != nil {
			return fmt.Errorf("workflow: %w", err)
		}
	}
	// Every node reloads its snapshot after a workflow write on any node.
	version, err := h.CacheVersion("workflows", e.reload) // failed: retried on the next sync
	if err != nil {
		return err
	}
	h.OnRecord(func(tx *core.Tx, ev *core.RecordEvent) error {
		if ev.Collection.Name == WorkflowsCollection {
			return version.Bump(tx)
		}
		return nil
	})
	if err := h.Resource(WorkflowsCollection, e.workflowActions()); err != nil {
		return err
	}
	if err := h.Resource(ExecutionsCollection, e.executionActions()); err != nil {
		return err
	}
	// First of the before hooks: a list too long to look at is refused.
	if err := h.Hook(core.BeforeAction, core.Hook{ID: "workflow.bindings", Priority: -1000, Fn: e.checkBindings}); err != nil {
		return err
	}
	// Last of the after hooks: every trigger has said which listed keys it fired.
	if err := h.Hook(core.AfterAction, core.Hook{ID: "workflow.ignored", Priority: 1000, Fn: e.reportIgnored}); err != nil {
		return err
	}
	_, prefix := h.Store()
	e.disp = newDispatcher(e, e.cfg.Workers, prefix)
	e.metrics = newEngineMetrics(h, e.disp)
	h.Ready("dispatcher", e.disp.ready)
	e.gonePrefix = append(append([]byte(nil), prefix...), "gone/"...)
	e.leasePrefix = append(append([]byte(nil), prefix...), "lease/"...)
	return nil
}

// Start implements core.Starter: it loads the enabled workflows, removes the executions of
// versions whose destroy the last process did not finish, and starts the dispatcher, which
// resumes the executions left queued or running.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.reload(); err != nil {
		return err
	}
	// Before any of them could run.
	if err := e.finishDestroys(); err != nil {
		return err
	}
	n, err := e.countExecutions()
	if err != nil {
		return err
	}
	e.count.Store(int64(n))
	return e.disp.start(ctx)
}

// Close implements core.Closer: it stops the dispatcher after the runs in flight.
func (e *Engine) Close(ctx context.Context) error {
	if e.disp != nil {
		return e.disp.stop(ctx)
	}
	return nil
}

// RegisterTrigger adds a trigger type. Call it from the trigger plugin's Init.
func (e *Engine) RegisterTrigger(t Trigger) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.triggers[t.Type()]; dup {
		return fmt.Errorf("workflow: trigger type %q registered twice", t.Type())
	}
	e.triggers[t.Type()] = t
	return nil
}

func (e *Engine) trigger(typ string) (Trigger, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.triggers[typ]
	return t, ok
}

// App is the application the engine runs in.
func (e *Engine) App() *core.App { return e.app }

// snapshot is the set of current enabled workflows, by key and by type, with their
// compiled scripts.
type snapshot struct {
	byKey   map[string]*Workflow
	byType  map[string][]*Workflow
	scripts map[uint64]*runtime.Script
}

// Enabled returns the current enabled workflows of a type, in id order.
func (e *Engine) Enabled(typ string) []*Workflow { return e.snap.Load().byType[typ] }

// ByKey returns the current enabled version of a key.
func (e *Engine) ByKey(key string) (*Workflow, bool) {
	w, ok := e.snap.Load().byKey[key]
	return w, ok
}

// reload rebuilds the snapshot from the store; on an error the snapshot stays as it was.
func (e *Engine) reload() error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if e.reloadDown.Load() {
		return errors.New("workflow: reload workflows: down (test)")
	}
	coll, err := e.data.Collection(WorkflowsCollection)
	if err != nil {
		return fmt.Errorf("workflow: reload workflows: %w", err)
	}
	s := &snapshot{byKey: map[string]*Workflow{}, byType: map[string][]*Workflow{}, scripts: map[uint64]*runtime.Script{}}
	err = e.app.View(context.Background(), func(tx *core.Tx) error {
		recs, _, err := e.data.List(tx, coll, core.ListQuery{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			var w Workflow
			if err := fromRecord(r, &w); err != nil {
				return err
			}
			if !w.Enabled || !w.Current {
				continue
			}
			script, err := e.lua.Compile(scriptName(&w), w.Script)
			if err != nil {
				e.log.Error("compile workflow", "workflow", w.ID, "err", err)
				continue
			}
			s.byKey[w.Key] = &w
			s.byType[w.Type] = append(s.byType[w.Type], &w)
			s.scripts[w.ID] = script
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("workflow: reload workflows: %w", err)
	}
	for _, list := range s.byType {
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	}
	e.snap.Store(s)
	return nil
}

func scriptName(w *Workflow) string {
	if w.Key != "" {
		return w.Key
	}
	return fmt.Sprintf("workflow-%d", w.ID)
}

// compiled returns the compiled script of a workflow version.
func (e *Engine) compiled(w *Workflow) (*runtime.Script, error) {
	if s, ok := e.snap.Load().scripts[w.ID]; ok {
		return s, nil
	}
	return e.lua.Compile(scriptName(w), w.Script)
}

// loadWorkflow reads one workflow version.
func (e *Engine) loadWorkflow(tx *core.Tx, id uint64) (*Workflow, error) {
	coll, err := e.data.Collection(WorkflowsCollection)
	if err != nil {
		return nil, err
	}
	r, err := e.data.Get(tx, coll, id)
	if err != nil {
		return nil, err
	}
	var w Workflow
	return &w, fromRecord(r, &w)
}

// Event is one reason to run a workflow.
type Event struct {
	Workflow *Workflow
	// Context is what the script sees as ctx (data, user, roleName, ...).
	Context map[string]any
	// Stack is the execution stack that led here (loop protection).
	Stack    []Frame
	Manually bool
	// ReadContext asks RunSync for ctx as the script left it (Outcome.Context), for
	// triggers that let a script change what happens next (request interception).
	ReadContext bool
	// Stored, when set, is the context recorded in the execution instead of Context, for
	// values the script may use but an admin reading executions may not see (a password
	// or hidden field of the request). A sync run's script sees Context; a queued run
	// reads its context back from the record, so it sees Stored.
	Stored map[string]any
}

func (e *Engine) checkStack(ev Event) error {
	n := 0
	for _, f := range ev.Stack {
		if f.Workflow == ev.Workflow.ID {
			n++
		}
	}
	if n >= ev.Workflow.stackLimit() {
		return ErrLoop
	}
	return nil
}

func (e *Engine) newExecution(ev Event) *Execution {
	return &Execution{
		WorkflowID: ev.Workflow.ID, Key: ev.Workflow.Key, Context: ev.Context,
		Stack: ev.Stack, Manually: ev.Manually, Logs: []LogLine{}, Messages: []core.Message{},
	}
}

// Enqueue writes a queued execution in tx. After the commit the caller hands its id to
// Dispatch, or to Cancel when it must not run. An execution whose Dispatch never comes
// (a crash) is found by the dispatcher's sweep and on restart.
func (e *Engine) Enqueue(tx *core.Tx, ev Event) (uint64, error) {
	if err := e.checkStack(ev); err != nil {
		return 0, err
	}
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return 0, err
	}
	exec := e.newExecution(ev)
	if ev.Stored != nil {
		exec.Context = ev.Stored
	}
	values, err := execValues(exec)
	if err != nil {
		return 0, err
	}
	rec, err := e.data.CreateStored(tx, coll, values, core.WriteOptions{})
	if err != nil {
		return 0, fmt.Errorf("workflow: queue execution: %w", err)
	}
	id := uint64(rec["id"].(int64))
	if err := e.disp.put(tx, id); err != nil {
		return 0, err
	}
	e.disp.park(id, ev.Workflow.Key)
	tx.OnAbort(func() { e.disp.unpark(id) })
	tx.OnCommit(func() { e.count.Add(1) })
	return id, nil
}

// Dispatch hands committed queued executions to the workers, in order.
func (e *Engine) Dispatch(ids ...uint64) { e.disp.release(ids...) }

// Cancel marks queued executions canceled (status -4) with a reason; they never run.
func (e *Engine) Cancel(ctx context.Context, ids []uint64, reason string) error {
	return e.app.Update(ctx, func(tx *core.Tx) error {
		for _, id := range ids {
			if err := e.finishQueued(tx, id, StatusCanceled, reason); err != nil {
				return err
			}
		}
		// Parked (and so leased by this node) until the cancel commits: when it fails,
		// the caller's Dispatch still finds them.
		tx.OnCommit(func() {
			for _, id := range ids {
				e.disp.unpark(id)
			}
		})
		return nil
	})
}

// RunSync runs a workflow now, in the caller's goroutine, and records its execution.
func (e *Engine) RunSync(ctx context.Context, ev Event) (Outcome, error) {
	if err := e.checkStack(ev); err != nil {
		return Outcome{}, err
	}
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return Outcome{}, err
	}
	exec := e.newExecution(ev)
	if exec.ID, err = e.data.NewID(coll); err != nil {
		return Outcome{}, err
	}
	out := e.runScript(ctx, ev.Workflow, exec, runOptions{readCtx: ev.ReadContext})
	err = e.app.Update(context.WithoutCancel(ctx), func(tx *core.Tx) error {
		if e.deleteOnStatus(ev.Workflow, *exec.Status) {
			return nil
		}
		if ev.Stored != nil {
			exec.Context = ev.Stored
		}
		values, err := execValues(exec)
		if err != nil {
			return err
		}
		if _, err := e.data.CreateStored(tx, coll, values, core.WriteOptions{ID: exec.ID}); err != nil {
			return err
		}
		return e.markExecuted(tx, ev.Workflow.ID)
	})
	if err != nil {
		return out, fmt.Errorf("workflow: save execution %d: %w", exec.ID, err)
	}
	if !e.deleteOnStatus(ev.Workflow, *exec.Status) {
		e.count.Add(1)
		e.pruneSoon()
	}
	return out, nil
}

func (e *Engine) deleteOnStatus(w *Workflow, status int) bool {
	for _, s := range w.Options.DeleteExecutionOnStatus {
		if s == status {
			return true
		}
	}
	return false
}

// markExecuted counts a run of a workflow version, which freezes its config and script.
// The mark never goes away (a version stays frozen), so once it is committed later runs
// skip the read: the version's record is not read and decoded once per run.
func (e *Engine) markExecuted(tx *core.Tx, wfID uint64) error {
	if _, ok := e.executed.Load(wfID); ok {
		return nil
	}
	coll, err := e.data.Collection(WorkflowsCollection)
	if err != nil {
		return err
	}
	r, err := e.data.Get(tx, coll, wfID)
	if err != nil {
		return nil // the version was destroyed meanwhile
	}
	tx.OnCommit(func() { e.executed.Store(wfID, struct{}{}) })
	if n, _ := r["executed"].(int64); n > 0 {
		return nil // already frozen: avoid a write per run
	}
	_, err = e.data.Update(tx, coll, core.Selector{ID: wfID}, map[string]any{"executed": int64(1)}, core.WriteOptions{})
	return err
}

// loadExecution reads one execution.
func (e *Engine) loadExecution(tx *core.Tx, id uint64) (*Execution, error) {
	x, _, err := e.loadExecutionRecord(tx, id)
	return x, err
}

// loadExecutionRecord reads one execution and its record as stored, for
// saveLoadedExecution in the same transaction.
func (e *Engine) loadExecutionRecord(tx *core.Tx, id uint64) (*Execution, core.Record, error) {
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return nil, nil, err
	}
	r, err := e.data.Get(tx, coll, id)
	if err != nil {
		return nil, nil, err
	}
	x, err := execFromRecord(r)
	if err != nil {
		return nil, nil, err
	}
	return x, r, nil
}

// saveLoadedExecution writes the fields of an execution whose stored record is prev, read
// in tx by loadExecutionRecord: the record layer does not read and decode it again, and
// that read still makes a concurrent write of the execution (destroy, cancel) conflict
// with tx. It returns the record written.
func (e *Engine) saveLoadedExecution(tx *core.Tx, exec *Execution, prev core.Record) (core.Record, error) {
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return nil, err
	}
	values, err := execValues(exec)
	if err != nil {
		return nil, err
	}
	return e.data.UpdateStored(tx, coll, prev, values, core.WriteOptions{})
}

// destroyExecution deletes an execution that ended with a status its workflow's
// deleteExecutionOnStatus lists.
func (e *Engine) destroyExecution(tx *core.Tx, id uint64) error {
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return err
	}
	if _, err := e.data.Destroy(tx, coll, core.Selector{ID: id}, core.WriteOptions{}); err != nil {
		return err
	}
	e.count.Add(-1)
	return nil
}

// finishQueued ends a queued execution without running it.
func (e *Engine) finishQueued(tx *core.Tx, id uint64, status int, reason string) error {
	exec, prev, err := e.loadExecutionRecord(tx, id)
	if err != nil {
		return err
	}
	if exec.Final() {
		return nil
	}
	exec.Status, exec.Reason, exec.FinishedAt = intp(status), reason, now()
	if err := e.disp.remove(tx, id); err != nil {
		return err
	}
	_, err = e.saveLoadedExecution(tx, exec, prev)
	return err
}

func (e *Engine) countExecutions() (int, error) {
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return 0, err
	}
	var n int
	err = e.app.View(context.Background(), func(tx *core.Tx) error {
		n, err = e.data.Count(tx, coll, nil)
		return err
	})
	return n, err
}

// pruneSoon asks the dispatcher's background goroutine to prune when the history is over
// its cap: deleting is never done on the way of a request or between two runs.
func (e *Engine) pruneSoon() {
	if e.count.Load() <= int64(e.cfg.MaxExecutions) {
		return
	}
	// A kick sent while a prune runs stays buffered, so the pruner looks again after it.
	select {
	case e.disp.pruneKick <- struct{}{}:
	default:
	}
}

// pruneBatch is how many executions one prune deletes at most: each is four writes (the
// record and its three index entries), and a transaction holds store.SmallWrites.
const pruneBatch = store.SmallWrites / 4

// prune deletes the oldest final executions beyond MaxExecutions, in batches. Only the
// dispatcher's background goroutine calls it: when this node's count is over the cap, and
// every sweep (check), since other nodes' executions are not in its count. It runs on one
// node at a time, the holder of the "prune" lease, which counts the executions in the
// store first; a node that takes the lease over starts again from the first id.
func (e *Engine) prune(check bool) {
	if !check && e.count.Load() <= int64(e.cfg.MaxExecutions) {
		return
	}
	held, fresh, err := e.takeLease("prune")
	if err != nil || !held {
		if err != nil {
			e.log.Warn("prune executions", "err", err)
		}
		return
	}
	if fresh {
		e.pruneFrom, e.prunes = 0, 0
	}
	before := e.count.Load()
	n, err := e.countExecutions()
	if err != nil {
		e.log.Warn("prune executions", "err", err)
		return
	}
	// The count read from the store replaces the running one unless an execution was
	// added or removed meanwhile: its commit may have come after the count's snapshot, and
	// storing the count then would lose it for good (the history one over its cap, with
	// nothing left to start a prune). A running count that moved stays as it is: too high,
	// it only starts one more prune, which counts again.
	e.count.CompareAndSwap(before, int64(n))
	over := int64(n) - int64(e.cfg.MaxExecutions)
	if over <= 0 {
		return
	}
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return
	}
	// From where the last prune stopped: not through the tombstones of what it deleted.
	// Now and then from the first id, for an execution that committed below that point
	// after it moved on (a sync run takes its id when it starts, and may run for long).
	start := e.pruneFrom
	if e.prunes++; e.prunes%64 == 0 {
		start = 0
	}
	err = e.app.Update(context.Background(), func(tx *core.Tx) error {
		// A little slack below the cap, so that pruning runs every so often, not every time.
		slack := int64(min(100, e.cfg.MaxExecutions/10))
		// The oldest executions by id, keys only: not a read of every execution.
		ids, err := e.data.IDs(tx, coll, start, int(min(over+slack, pruneBatch)), false)
		if err != nil {
			return err
		}
		deleted, from, kept := int64(0), start, false
		for _, id := range ids {
			r, err := e.data.Get(tx, coll, id)
			if err != nil {
				return err
			}
			st, ok := r["status"].(int64)
			if !ok || st == StatusStarted {
				if !kept {
					from, kept = id, true // queued or running: the next prune looks again
				}
				continue
			}
			if err := e.data.DestroyRecord(tx, coll, r, core.WriteOptions{}); err != nil {
				return err
			}
			deleted++
			if !kept {
				from = id + 1
			}
		}
		tx.OnCommit(func() { e.count.Add(-deleted); e.pruneFrom = from })
		return nil
	})
	if err != nil {
		e.log.Warn("prune executions", "err", err)
	}
}

// takeLease takes or renews this node's lease on once-only work for the engine's Lease:
// held is false while another node holds it, fresh is set when this node did not hold it.
// The lease is a key with the owner and a TTL, read and written in one transaction, so two
// nodes never both take it (a conflict makes one of them read the other's).
func (e *Engine) takeLease(name string) (held, fresh bool, err error) {
	key := append(append([]byte(nil), e.leasePrefix...), name...)
	err = e.app.Update(context.Background(), func(tx *core.Tx) error {
		held, fresh = false, false
		v, err := tx.Get(key)
		switch {
		case err == nil && string(v) != e.disp.owner:
			return nil
		case errors.Is(err, store.ErrNotFound):
			fresh = true
		case err != nil:
			return err
		}
		held = true
		return tx.SetTTL(key, []byte(e.disp.owner), e.cfg.Lease)
	})
	if err != nil {
		return false, false, fmt.Errorf("workflow: lease %s: %w", name, err)
	}
	return held, fresh, nil
}

// GenericFailure is the response message of a sync workflow that errored or timed out: the
// details stay in its execution.
const GenericFailure = "Workflow on your action failed, please contact the administrator"

// ChainResult is how a chain of sync workflows ended.
type ChainResult struct {
	// Messages are the flow.message texts of the executions that ran, in order.
	Messages []core.Message
	// Executions are the executions that ran, in order.
	Executions []*Execution
	// Stopped is set when a workflow ended the chain: finish (Err nil), fail or an error or
	// timeout (Err a *ChainError). Later workflows did not run.
	Stopped bool
	// Reason says which workflow stopped the chain and how, for canceled executions.
	Reason string
	// Context is ctx as left by the last resolved event with ReadContext.
	Context map[string]any
	// Queued are the async executions a Plan queued, released or (Stopped) canceled.
	Queued []uint64
}

// ChainError is how a sync workflow ended a chain badly: Failed when it called
// flow.fail(Message), otherwise it errored, timed out or could not run (Err). The engine
// does not choose the HTTP answer: the trigger kit does (Answer).
type ChainError struct {
	Workflow string
	Failed   bool
	Message  string
	Err      error
}

func (e *ChainError) Error() string {
	if e.Failed {
		return fmt.Sprintf("workflow %s failed: %s", e.Workflow, e.Message)
	}
	return fmt.Sprintf("workflow %s: %v", e.Workflow, e.Err)
}

func (e *ChainError) Unwrap() error { return e.Err }

// RunChain runs sync events in order with the rules of the action triggers (API.md §5):
// flow.finish() stops the chain with success, flow.fail(msg) or a Lua error or timeout
// stops it with a *ChainError. Events skipped by loop protection are noted on their parent
// execution.
func (e *Engine) RunChain(ctx context.Context, events []Event) (ChainResult, error) {
	var res ChainResult
	for _, ev := range events {
		out, err := e.RunSync(ctx, ev)
		if errors.Is(err, ErrLoop) {
			e.noteLoop(ev)
			continue
		}
		if err != nil {
			res.Stopped, res.Reason = true, fmt.Sprintf("workflow %s could not run", ev.Workflow.Key)
			return res, &ChainError{Workflow: ev.Workflow.Key, Err: err}
		}
		exec := out.Execution
		res.Executions = append(res.Executions, exec)
		res.Messages = append(res.Messages, exec.Messages...)
		if out.Context != nil {
			res.Context = out.Context
		}
		switch {
		case out.Status() == StatusResolved && out.Finished:
			res.Stopped, res.Reason = true, fmt.Sprintf("workflow %s finished the chain (execution %d)", ev.Workflow.Key, exec.ID)
			return res, nil
		case out.Status() == StatusResolved:
		case out.Status() == StatusFailed:
			res.Stopped, res.Reason = true, fmt.Sprintf("workflow %s failed (execution %d)", ev.Workflow.Key, exec.ID)
			msg := "workflow failed"
			if exec.Error != nil && exec.Error.Message != "" {
				msg = exec.Error.Message
			}
			return res, &ChainError{Workflow: ev.Workflow.Key, Failed: true, Message: msg}
		default:
			res.Stopped, res.Reason = true, fmt.Sprintf("workflow %s ended with status %d (execution %d)", ev.Workflow.Key, out.Status(), exec.ID)
			return res, &ChainError{Workflow: ev.Workflow.Key,
				Err: fmt.Errorf("workflow: execution %d of %s ended with status %d", exec.ID, ev.Workflow.Key, out.Status())}
		}
	}
	return res, nil
}

// noteLoop records, on the execution that caused it, that an event was skipped by loop
// protection.
func (e *Engine) noteLoop(ev Event) {
	msg := fmt.Sprintf("loop protection: workflow %s (%d) was not started again (stackLimit %d)", ev.Workflow.Key, ev.Workflow.ID, ev.Workflow.stackLimit())
	e.log.Warn(msg)
	if n := len(ev.Stack); n > 0 {
		e.Note(ev.Stack[n-1].Execution, "warn", msg)
	}
}

// EnqueueOrNote is Enqueue that notes a loop-protection skip on the parent execution (once
// tx commits) and reports ok=false for it.
func (e *Engine) EnqueueOrNote(tx *core.Tx, ev Event) (id uint64, ok bool, err error) {
	id, err = e.Enqueue(tx, ev)
	if errors.Is(err, ErrLoop) {
		tx.OnCommit(func() { e.noteLoop(ev) }) // once, whatever the retries
		return 0, false, nil
	}
	return id, err == nil, err
}
