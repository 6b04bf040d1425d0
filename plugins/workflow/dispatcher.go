package workflow

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/store"
)

// dispatcher runs queued executions on a fixed number of workers: FIFO within a workflow
// (key), and between workflows a free worker takes the next execution of the workflow
// with the fewest runs in flight (the oldest such execution on a tie), so that one slow
// workflow's backlog never holds every worker while another workflow has work.
//
// The durable queue is the store's (store.Queue): an entry per queued execution, put in
// the transaction that creates the execution, leased to this node (owner) from the start,
// and removed in the one that finishes it. The in-memory FIFO is a cache of what this node
// holds: the entries it put (parked until Dispatch or Cancel, then queued) and those it
// claimed. Every renewInterval the leases of all of them are renewed, which is also how a
// cancel made on another node arrives (the entry's cancel mark); every sweep, and when the
// workers run low, the node claims ready entries no live lease holds: those of a node
// that stopped or died, once their leases expire.
type dispatcher struct {
	e       *Engine
	workers int
	legacy  []byte // the queue's keys before the store had one (p/workflow/q/<id>)
	owner   string // this node's name in the store's leases
	lease   time.Duration
	renew   time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queues  map[string][]uint64 // queued executions by workflow key, FIFO; no empty queue
	queued  int                 // executions in queues
	keys    map[uint64]string   // the workflow key of a known execution ("": claimed)
	busy    map[string]int      // runs in flight by workflow key
	known   map[uint64]bool     // held by this node: queued in memory, parked or running
	parked  map[uint64]bool     // committed or committing, waiting for Dispatch or Cancel
	stopped bool
	halted  bool     // halt: as if the process died
	ended   []uint64 // runs that ended while stopping: their leases go back with the others

	// renewDown, set by tests, fails the renewals as an unreachable database would.
	renewDown atomic.Bool

	pruneKick chan struct{} // Engine.pruneSoon: prune in the background goroutine
	claimKick chan struct{} // the workers run low: claim soon
	quit      chan struct{} // closed when the background goroutines must end

	ctx    context.Context // cancelled when runs must stop (shutdown deadline)
	cancel context.CancelFunc
	wg     sync.WaitGroup // workers
	bg     sync.WaitGroup // claims, renewals, pruning
}

func newDispatcher(e *Engine, workers int, prefix []byte) *dispatcher {
	var b [8]byte
	_, _ = rand.Read(b[:])
	d := &dispatcher{e: e, workers: workers, legacy: append(append([]byte(nil), prefix...), "q/"...),
		owner: hex.EncodeToString(b[:]), lease: e.cfg.Lease, renew: e.cfg.RenewInterval,
		known: map[uint64]bool{}, parked: map[uint64]bool{}, pruneKick: make(chan struct{}, 1),
		claimKick: make(chan struct{}, 1), quit: make(chan struct{}),
		queues: map[string][]uint64{}, keys: map[uint64]string{}, busy: map[string]int{}}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// idKey is the key of id under prefix, for the engine's own keys (the notes of destroyed
// versions): ids in order.
func idKey(prefix []byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), id)
}

// scanIDs reads the ids of the keys under prefix (idKey), in order.
func (e *Engine) scanIDs(prefix []byte) ([]uint64, error) {
	var ids []uint64
	err := e.app.Store().View(func(tx store.Txn) error {
		return tx.Scan(prefix, store.ScanOptions{KeysOnly: true}, func(k, _ []byte) error {
			ids = append(ids, store.IDFromKey(k))
			return nil
		})
	})
	return ids, err
}

// put queues id in tx, leased to this node.
func (d *dispatcher) put(tx *core.Tx, id uint64) error {
	if err := tx.QueuePut(id, store.QueueEntry{Owner: d.owner, Lease: d.lease}); err != nil {
		return fmt.Errorf("workflow: queue %d: %w", id, err)
	}
	return nil
}

// remove takes id off the queue in tx, whoever holds it.
func (d *dispatcher) remove(tx *core.Tx, id uint64) error {
	if err := tx.QueueDone(id, ""); err != nil {
		return fmt.Errorf("workflow: unqueue %d: %w", id, err)
	}
	return nil
}

// finish takes id off the queue in tx, which fails with store.ErrLeaseLost when another
// node holds it now.
func (d *dispatcher) finish(tx *core.Tx, id uint64) error {
	if err := tx.QueueDone(id, d.owner); err != nil {
		return fmt.Errorf("workflow: unqueue %d: %w", id, err)
	}
	return nil
}

// holds reports whether id's queue entry is still leased to this node in tx (live or
// not: no other node claimed it); false when the entry is gone or another node's.
func (d *dispatcher) holds(tx *core.Tx, id uint64) (bool, error) {
	q, err := tx.QueueGet(id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("workflow: queue entry %d: %w", id, err)
	}
	return q.Owner == d.owner, nil
}

// park notes a queued execution of the workflow key, until its Dispatch or Cancel.
func (d *dispatcher) park(id uint64, key string) {
	d.mu.Lock()
	d.known[id], d.parked[id] = true, true
	d.keys[id] = key
	d.mu.Unlock()
}

func (d *dispatcher) unpark(id uint64) {
	d.mu.Lock()
	delete(d.parked, id)
	delete(d.known, id)
	delete(d.keys, id)
	d.mu.Unlock()
}

// release moves parked executions to their workflows' queues.
func (d *dispatcher) release(ids ...uint64) {
	d.mu.Lock()
	for _, id := range ids {
		if !d.parked[id] {
			continue // lost meanwhile
		}
		delete(d.parked, id)
		d.queueLocked(id)
	}
	d.mu.Unlock()
	d.cond.Broadcast()
}

// queueLocked appends id to the queue of its workflow key.
func (d *dispatcher) queueLocked(id uint64) {
	key := d.keys[id]
	d.queues[key] = append(d.queues[key], id)
	d.queued++
}

// depth is how many executions wait for a worker.
func (d *dispatcher) depth() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queued
}

// ready is the readiness check of the dispatcher: started and not stopped.
func (d *dispatcher) ready(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.cancel == nil:
		return errors.New("not started")
	case d.stopped || d.ctx.Err() != nil:
		return errors.New("stopped")
	}
	return nil
}

// start moves the queue of an older version into the store's, claims what is ready and
// starts the workers, the claims, the renewals and pruning.
func (d *dispatcher) start(parent context.Context) error {
	d.mu.Lock()
	d.ctx, d.cancel = context.WithCancel(context.WithoutCancel(parent))
	d.mu.Unlock()
	if err := d.migrate(); err != nil {
		return err
	}
	if _, err := d.claim(); err != nil {
		return err
	}
	for i := 0; i < d.workers; i++ {
		d.wg.Add(1)
		go d.work()
	}
	d.bg.Add(2)
	go d.renewals()
	go func() {
		defer d.bg.Done()
		t := time.NewTicker(d.e.cfg.SweepInterval)
		defer t.Stop()
		var last time.Time
		more := false // the last claim came back full: there is more to claim
		for {
			sweep := false
			select {
			case <-d.quit:
				return
			case <-parent.Done():
				return
			case <-t.C:
				sweep = true
			case <-d.claimKick:
				if !more && time.Since(last) < claimGap {
					continue
				}
			case <-d.pruneKick:
				d.e.prune(false)
				continue
			}
			last = time.Now()
			var err error
			if more, err = d.claim(); err != nil {
				d.e.log.Warn("claim queued executions", "err", err)
			}
			// After the claim: a dead node's executions are not kept waiting by a prune
			// (the 30 s promise is a 20 s lease and this 10 s sweep).
			if sweep {
				d.e.prune(true)
			}
		}
	}()
	return nil
}

// claimGap is the least time between two claims the workers ask for after a claim that
// found all there was (a claim reads the queue's ready entries).
const claimGap = 250 * time.Millisecond

// migrate moves the queue keys of an older version into the store's queue.
func (d *dispatcher) migrate() error {
	ids, err := d.e.scanIDs(d.legacy)
	if err != nil || len(ids) == 0 {
		return err
	}
	return d.e.app.Update(context.Background(), func(tx *core.Tx) error {
		for _, id := range ids {
			if err := tx.QueuePut(id, store.QueueEntry{}); err != nil {
				return err
			}
			if err := tx.Delete(idKey(d.legacy, id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// claimBatch is how many executions a node claims at most beyond what waits for its
// workers already.
func (d *dispatcher) claimBatch() int { return max(64, 4*d.workers) }

// claim leases ready executions no live lease holds and queues them here, up to
// claimBatch waiting; more reports that the claim came back full (the workers ask for the
// next one as they run low).
func (d *dispatcher) claim() (more bool, err error) {
	for {
		d.mu.Lock()
		n, stopped := d.claimBatch()-d.queued, d.stopped
		d.mu.Unlock()
		if n <= 0 || stopped {
			return true, nil
		}
		got, err := d.e.app.Store().Claim(d.owner, n, d.lease)
		if err != nil {
			return false, fmt.Errorf("workflow: claim: %w", err)
		}
		var canceled []uint64
		d.mu.Lock()
		added := 0
		for _, c := range got {
			if d.known[c.ID] {
				continue
			}
			if c.Canceled {
				canceled = append(canceled, c.ID)
				continue
			}
			d.known[c.ID] = true
			d.queueLocked(c.ID) // key unknown here: the queue of ""
			added++
		}
		d.mu.Unlock()
		if added > 0 {
			d.cond.Broadcast()
		}
		for _, id := range canceled {
			d.e.cancelHere(d.ctx, id)
		}
		if len(got) < n {
			return false, nil
		}
	}
}

// renewals renews the leases of what this node holds every renew interval until quit:
// a lease found lost stops its run, a cancel mark cancels it here. While the renewals
// fail (the database is unreachable), the leases run out and another node may take the
// executions over: once the next renewal could come too late, this node drops them all
// (their runs stop and write nothing).
func (d *dispatcher) renewals() {
	defer d.bg.Done()
	t := time.NewTicker(d.renew)
	defer t.Stop()
	renewed := time.Now() // the leases held now were taken or renewed since
	for {
		select {
		case <-d.quit:
			return
		case <-t.C:
		}
		d.mu.Lock()
		ids := make([]uint64, 0, len(d.known))
		for id := range d.known {
			ids = append(ids, id)
		}
		d.mu.Unlock()
		at := time.Now()
		var r store.Renewal
		var err error
		if d.renewDown.Load() {
			err = errors.New("renewals down (test)")
		} else {
			r, err = d.e.app.Store().Renew(d.owner, ids, d.lease)
		}
		if err != nil {
			d.e.log.Warn("renew leases", "err", err)
			if time.Since(renewed) >= d.lease-d.renew {
				for _, id := range ids {
					d.lose(id)
				}
			}
			continue
		}
		renewed = at
		for _, id := range r.Lost {
			d.lose(id)
		}
		for _, id := range r.Canceled {
			d.e.cancelHere(d.ctx, id)
		}
	}
}

// lose drops an execution whose lease this node lost (another node may run it): its run
// stops at its next instruction and writes nothing. A parked one stays: its Dispatch or
// Cancel comes from this node, and its put may not have committed yet.
func (d *dispatcher) lose(id uint64) {
	d.mu.Lock()
	if d.parked[id] || !d.known[id] {
		d.mu.Unlock()
		return
	}
	for key, q := range d.queues {
		if i := slices.Index(q, id); i >= 0 {
			if q = slices.Delete(q, i, i+1); len(q) == 0 {
				delete(d.queues, key)
			} else {
				d.queues[key] = q
			}
			d.queued--
			delete(d.known, id)
			delete(d.keys, id)
		}
	}
	d.mu.Unlock()
	if v, ok := d.e.running.Load(id); ok {
		st := v.(*runState)
		st.lost.Store(true)
		st.abort()
	}
	d.e.log.Warn("lease of execution lost: another node may run it", "execution", id)
}

// stop lets the workers finish their runs until ctx ends, then cancels what still runs
// (those executions stay queued and run again, here on the next start or on another
// node), and gives back the leases of what this node holds.
func (d *dispatcher) stop(ctx context.Context) error {
	if d.cancel == nil {
		return nil
	}
	d.mu.Lock()
	halted, again := d.halted, d.stopped && !d.halted
	d.stopped = true
	d.mu.Unlock()
	if again {
		return nil // stopped already (a test stops it before the app closes)
	}
	d.cond.Broadcast()
	if halted {
		return nil
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
		d.cancel()
	case <-ctx.Done():
		d.cancel()
		<-done
		err = fmt.Errorf("workflow: stop dispatcher: %w", ctx.Err())
	}
	close(d.quit)
	d.bg.Wait()
	d.mu.Lock()
	ids := make([]uint64, 0, len(d.known)+len(d.ended))
	for id := range d.known {
		ids = append(ids, id)
	}
	ids = append(ids, d.ended...)
	d.mu.Unlock()
	if rerr := d.e.app.Store().Release(d.owner, ids); rerr != nil && err == nil {
		err = fmt.Errorf("workflow: release leases: %w", rerr)
	}
	return err
}

// halt stops the node as if its process died (tests of several nodes): no more claims,
// renewals or outcomes, runs stop where they are, and the leases stay until they expire.
func (d *dispatcher) halt() {
	d.mu.Lock()
	d.halted, d.stopped = true, true
	d.mu.Unlock()
	d.cond.Broadcast()
	close(d.quit)
	d.bg.Wait()
	d.cancel()
	d.wg.Wait()
}

// next takes the execution a free worker runs: the oldest of the workflow with the fewest
// runs in flight (the oldest head on a tie), counted in busy until done.
func (d *dispatcher) next() (uint64, string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.queued == 0 && !d.stopped {
		d.cond.Wait()
	}
	if d.stopped {
		return 0, "", false
	}
	var key string
	first := true
	for k, q := range d.queues {
		if first || d.busy[k] < d.busy[key] || (d.busy[k] == d.busy[key] && q[0] < d.queues[key][0]) {
			key, first = k, false
		}
	}
	q := d.queues[key]
	id := q[0]
	if len(q) == 1 {
		delete(d.queues, key)
	} else {
		d.queues[key] = q[1:]
	}
	d.queued--
	d.busy[key]++
	return id, key, true
}

// done ends a run that next gave out.
func (d *dispatcher) done(id uint64, key string) {
	d.mu.Lock()
	if d.stopped {
		// A run that ended while the node stops may have been aborted without its
		// outcome: stop gives its lease back with the others (a finished one has no
		// entry left to release).
		d.ended = append(d.ended, id)
	}
	delete(d.known, id)
	delete(d.keys, id)
	if d.busy[key]--; d.busy[key] <= 0 {
		delete(d.busy, key)
	}
	d.mu.Unlock()
}

func (d *dispatcher) work() {
	defer d.wg.Done()
	for {
		id, key, ok := d.next()
		if !ok {
			return
		}
		if err := d.e.process(d.ctx, id); err != nil {
			d.e.log.Error("run execution", "execution", id, "key", key, "err", err)
		}
		d.e.pruneSoon()
		d.done(id, key)
		if d.depth() < d.workers {
			select { // running low: claim what other nodes left
			case d.claimKick <- struct{}{}:
			default:
			}
		}
	}
}

func (d *dispatcher) isHalted() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.halted
}

// startMarkAfter is how long an async run goes before its record is marked started
// (status 0, startedAt) in the store. A shorter run's record goes from queued to final in
// one write: the mark was a third of an async execution's writes (actionflow-bench W3:
// drain +17-26 % without it), and on so short a run hardly anyone could have seen it.
const startMarkAfter = 50 * time.Millisecond

// The moments an async execution's worker holds it outside a run (Engine.pause).
const (
	pauseRead   = "read"   // it has read the queued execution and is about to run it
	pauseRan    = "ran"    // the run has ended and its outcome is not written yet
	pauseMarked = "marked" // the start mark's transaction has ended (written or skipped)
)

// process runs one queued execution. Its worker claims it in e.running before reading
// it, and holds the claim until the outcome is written: the stored record is what the
// worker writes over, so a cancel must reach the worker instead (a cancel between the read
// and the run used to end the stored record, and the script then ran and resolved over it).
func (e *Engine) process(parent context.Context, id uint64) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// Another node may have changed the schema or the workflows since this node's last
	// request: the run's db calls use the caches (one read of the store's versions on a
	// shared store; nothing on badger). Before the claim: a cancel that finds the claim
	// waits for its read, which an early return here would never end.
	if err := e.app.SyncCaches(); err != nil {
		return err
	}
	claim := &runState{cancel: cancel, read: make(chan struct{})}
	e.running.Store(id, claim)
	defer e.running.CompareAndDelete(id, claim)
	var exec *Execution
	var wf *Workflow
	var queued core.Record // the execution as read here: updated without a second read
	err := e.app.Update(parent, func(tx *core.Tx) error {
		var err error
		if exec, queued, err = e.loadExecutionRecord(tx, id); err != nil {
			if errors.Is(err, core.ErrNotFound) {
				exec = nil
				return e.disp.remove(tx, id) // destroyed while queued
			}
			return err
		}
		if exec.Final() {
			exec = nil
			return e.disp.remove(tx, id)
		}
		if held, err := e.disp.holds(tx, id); err != nil || !held {
			exec = nil // another node took it over: not this node's to run
			return err
		}
		if wf, err = e.executionWorkflow(tx, exec); err != nil {
			exec.Status, exec.Error, exec.FinishedAt = intp(StatusError), &ExecError{Message: "the workflow version no longer exists"}, now()
			if err := e.disp.remove(tx, id); err != nil {
				return err
			}
			_, err := e.saveLoadedExecution(tx, exec, queued)
			exec = nil
			return err
		}
		return nil
	})
	if err != nil || exec == nil {
		// Nothing to run: a cancel waiting for the read goes to the stored record.
		e.running.CompareAndDelete(id, claim)
		close(claim.read)
		return err
	}
	close(claim.read)
	if e.pause != nil {
		e.pause(pauseRead, id)
	}
	started := time.Now()
	exec.StartedAt = core.FormatTime(started)
	e.metrics.observeDelay(exec, started)
	mark := e.markStartedLater(exec, queued)
	// A cancel that came since the read has cancelled ctx: the script stops before its
	// first instruction.
	e.runQueued(ctx, wf, exec, claim)
	claim.end() // (runScript ends it after its run; not when the script did not compile)
	last := mark.stop()
	if e.pause != nil {
		e.pause(pauseRan, id)
	}
	if parent.Err() != nil && *exec.Status == StatusAborted && exec.Reason == "manual_cancel" {
		// Shutdown, not a user's cancel: leave it queued to run again on the next start.
		return nil
	}
	if claim.lost.Load() || e.disp.isHalted() {
		return nil // another node runs it again (halted: this node is as good as dead)
	}
	// The outcome commits without waiting for durable mode's fsync (the next one covers
	// it, before any later commit), so a worker goes on to the next execution at once: a
	// crash before that fsync runs this execution again, as it would a running one.
	// Logged before the outcome commits, so whoever sees the final status can find its line.
	e.logFailed(wf, exec)
	err = e.app.UpdateLazy(context.WithoutCancel(ctx), func(tx *core.Tx) error {
		if err := e.disp.finish(tx, id); err != nil {
			return err
		}
		if err := e.markExecuted(tx, wf.ID); err != nil {
			return err
		}
		if exec.Final() && e.deleteOnStatus(wf, *exec.Status) {
			return e.destroyExecution(tx, id)
		}
		_, err := e.saveRunning(tx, exec, last)
		return err
	})
	if errors.Is(err, store.ErrLeaseLost) {
		// Another node took it over (and may have finished it), or it was destroyed: its
		// outcome is not this run's to write.
		e.log.Warn("lease of execution lost: outcome not written", "execution", id)
		return nil
	}
	return err
}

// saveRunning writes an async execution's fields over prev, its record as its worker last
// wrote it. Nothing but the worker writes a running execution (executions:destroy refuses
// it, cancel reaches the run), so the record is updated without a second read and decode;
// Has keeps the key among tx's reads, as the read it replaces did. An execution gone
// meanwhile stays gone (nil record).
func (e *Engine) saveRunning(tx *core.Tx, exec *Execution, prev core.Record) (core.Record, error) {
	coll, err := e.data.Collection(ExecutionsCollection)
	if err != nil {
		return nil, err
	}
	ok, err := e.data.Exists(tx, coll, exec.ID)
	if err != nil || !ok {
		return nil, err
	}
	return e.saveLoadedExecution(tx, exec, prev)
}

// startMark writes an async execution's start mark once its run has lasted
// startMarkAfter.
type startMark struct {
	timer *time.Timer
	done  chan struct{} // closed once the timer's function has ended
	rec   core.Record   // the record as last written: queued, then the marked one
}

// markStartedLater arms the start mark of exec, whose stored record is queued. The mark
// writes a copy of exec as it is now: the run changes exec on the worker's goroutine.
func (e *Engine) markStartedLater(exec *Execution, queued core.Record) *startMark {
	marked := *exec
	marked.Status = intp(StatusStarted)
	m := &startMark{done: make(chan struct{}), rec: queued}
	m.timer = time.AfterFunc(startMarkAfter, func() {
		defer close(m.done)
		if e.pause != nil {
			defer e.pause(pauseMarked, marked.ID)
		}
		err := e.app.UpdateLazy(context.Background(), func(tx *core.Tx) error {
			// A lost lease: another node runs it, or finished it (its outcome stays).
			if held, err := e.disp.holds(tx, marked.ID); err != nil || !held {
				return err
			}
			rec, err := e.saveRunning(tx, &marked, queued)
			if rec != nil {
				tx.OnCommit(func() { m.rec = rec })
			}
			return err
		})
		if err != nil {
			e.log.Warn("mark execution started", "execution", marked.ID, "key", marked.Key, "err", err)
		}
	})
	return m
}

// stop disarms the mark, or waits for it to be written, and returns the execution's record
// as last written.
func (m *startMark) stop() core.Record {
	if !m.timer.Stop() {
		<-m.done
	}
	return m.rec
}

// executionWorkflow is the workflow version of an execution: the current enabled one from
// the snapshot when it is that version (reloaded on every commit to workflows), else read.
func (e *Engine) executionWorkflow(tx *core.Tx, exec *Execution) (*Workflow, error) {
	if w, ok := e.ByKey(exec.Key); ok && w.ID == exec.WorkflowID {
		return w, nil
	}
	return e.loadWorkflow(tx, exec.WorkflowID)
}

// CancelExecution aborts a running execution or ends a queued one (status -3, reason
// manual_cancel). It reports false when the execution had already ended. An execution
// another node holds (its lease is live) gets the queue's cancel mark: that node sees it
// at its next renewal and cancels it there.
func (e *Engine) CancelExecution(ctx context.Context, id uint64) (bool, error) {
	return e.cancel(ctx, id, true)
}

// cancelHere cancels an execution this node holds whose cancel mark it found.
func (e *Engine) cancelHere(ctx context.Context, id uint64) {
	_, err := e.cancel(ctx, id, false)
	if errors.Is(err, core.ErrNotFound) {
		// Destroyed meanwhile: its queue entry goes too, or it is claimed again forever.
		err = e.app.Update(ctx, func(tx *core.Tx) error { return e.disp.remove(tx, id) })
	}
	if err != nil {
		e.log.Warn("cancel execution", "execution", id, "err", err)
	}
}

func (e *Engine) cancel(ctx context.Context, id uint64, mark bool) (bool, error) {
	if v, ok := e.running.Load(id); ok {
		st := v.(*runState)
		if st.read != nil {
			select { // its worker is reading it: wait for what it found
			case <-st.read:
			case <-ctx.Done():
				return false, fmt.Errorf("workflow: cancel execution %d: %w", id, ctx.Err())
			}
		}
		if cur, ok := e.running.Load(id); ok && cur == st {
			return st.abort(), nil
		}
	}
	var ended bool
	err := e.app.Update(ctx, func(tx *core.Tx) error {
		ended = false
		exec, err := e.loadExecution(tx, id)
		if err != nil {
			return err
		}
		if exec.Final() {
			ended = true
			return nil
		}
		if mark {
			q, err := tx.QueueGet(id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil && q.Live && q.Owner != e.disp.owner {
				_, err := tx.QueueCancel(id)
				return err
			}
		}
		return e.finishQueued(tx, id, StatusAborted, "manual_cancel")
	})
	return !ended, err
}
