package core

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

// Update runs fn in a read-write transaction, retried on conflict with a fresh Tx, and then
// runs the OnCommit functions of the attempt that committed and the OnAbort functions of
// every other attempt.
func (a *App) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return a.update(ctx, fn, a.store.Update)
}

// UpdateLazy is Update for writes whose loss in a crash only repeats work, such as an
// async execution's outcome (the execution then runs again): in durable mode it returns
// once the transaction has committed, without waiting for the fsync, which it asks for.
// Any later commit reaches the disk after it. On other stores it is Update.
func (a *App) UpdateLazy(ctx context.Context, fn func(tx *Tx) error) error {
	if l, ok := a.store.(store.LazyUpdater); ok {
		return a.update(ctx, fn, l.UpdateLazy)
	}
	return a.Update(ctx, fn)
}

func (a *App) update(ctx context.Context, fn func(tx *Tx) error, storeUpdate func(func(store.Txn) error) error) error {
	var attempts []*Tx
	var done *Tx
	// Taken before the first attempt opens, so at most the epoch of any attempt's snapshot.
	epoch := a.data.counts.now()
	err := storeUpdate(func(st store.Txn) error {
		tx := &Tx{Txn: st, ctx: ctx, writable: true, epoch: epoch, epochKnown: true}
		attempts = append(attempts, tx)
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

// View runs fn in a read-only transaction.
func (a *App) View(ctx context.Context, fn func(tx *Tx) error) error {
	epoch := a.data.counts.now()
	return a.store.View(func(st store.Txn) error {
		return fn(&Tx{Txn: st, ctx: ctx, epoch: epoch, epochKnown: true})
	})
}
