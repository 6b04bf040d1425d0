package record

import (
	"context"

	"github.com/actionflow/actionflow/store"
)

// Tx is one store transaction as the data layer and plugins see it. Work to do once the
// transaction has committed (releasing queued jobs, say) is registered with OnCommit.
type Tx struct {
	store.Txn
	ctx      context.Context
	writable bool
	onCommit []func()
	onAbort  []func()
	// epoch is indexCounts' epoch taken before the transaction opened (when epochKnown).
	epoch      uint64
	epochKnown bool
	// indexWrites are the collections whose indexes this attempt wrote (indexCounts).
	indexWrites []string
	// schema is the schema snapshot current when a read-write transaction began (nil in a
	// read-only one).
	schema *Schema
}

// current returns the collection named like c in the schema snapshot current when tx
// began, so that a write follows the newest schema the node knows even when c was looked
// up in an older snapshot (the schema changed, on any node, since); c itself when tx has
// no schema or the schema has no such collection.
func (t *Tx) current(c *Collection) *Collection {
	if t.schema == nil {
		return c
	}
	if cur, ok := t.schema.Collection(c.Name); ok {
		return cur
	}
	return c
}

// Context is the context of the operation the transaction belongs to.
func (t *Tx) Context() context.Context { return t.ctx }

// Writable reports whether the transaction may write.
func (t *Tx) Writable() bool { return t.writable }

// OnCommit registers fn to run after the transaction has committed. It does not run when
// the transaction fails.
func (t *Tx) OnCommit(fn func()) { t.onCommit = append(t.onCommit, fn) }

// OnAbort registers fn to run when this attempt does not commit: fn returned an error, the
// commit failed, or a conflict made Update start again with a fresh Tx. It undoes
// in-memory work done in anticipation of the commit.
func (t *Tx) OnAbort(fn func()) { t.onAbort = append(t.onAbort, fn) }

// RunUpdate runs fn in a read-write transaction opened by storeUpdate (store.Store.Update
// or UpdateLazy), retried on conflict with a fresh Tx, and then runs the OnCommit functions
// of the attempt that committed and the OnAbort functions of every other attempt.
func (d *Data) RunUpdate(ctx context.Context, fn func(tx *Tx) error, storeUpdate func(func(store.Txn) error) error) error {
	var attempts []*Tx
	var done *Tx
	// Taken before the first attempt opens, so at most the epoch of any attempt's snapshot.
	epoch := d.counts.now()
	err := storeUpdate(func(st store.Txn) error {
		tx := &Tx{Txn: st, ctx: ctx, writable: true, epoch: epoch, epochKnown: true}
		attempts = append(attempts, tx)
		tx.schema = d.schema()
		if err := fn(tx); err != nil {
			return err
		}
		done = tx
		return nil
	})
	if err != nil {
		done = nil
	}
	for _, tx := range attempts {
		if tx == done {
			continue
		}
		for _, f := range tx.onAbort {
			f()
		}
	}
	if err != nil {
		return err
	}
	for _, f := range done.onCommit {
		f()
	}
	return nil
}

// RunView runs fn in a read-only transaction opened by storeView (store.Store.View).
func (d *Data) RunView(ctx context.Context, fn func(tx *Tx) error, storeView func(func(store.Txn) error) error) error {
	epoch := d.counts.now()
	return storeView(func(st store.Txn) error {
		return fn(&Tx{Txn: st, ctx: ctx, epoch: epoch, epochKnown: true})
	})
}
