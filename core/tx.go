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
}

// Context is the context of the operation the transaction belongs to.
func (t *Tx) Context() context.Context { return t.ctx }

// Writable reports whether the transaction may write.
func (t *Tx) Writable() bool { return t.writable }

// OnCommit registers fn to run after the transaction has committed. It does not run when
// the transaction fails.
func (t *Tx) OnCommit(fn func()) { t.onCommit = append(t.onCommit, fn) }

// Update runs fn in a read-write transaction, retried on conflict with a fresh Tx, and then
// runs the OnCommit functions of the attempt that committed.
func (a *App) Update(ctx context.Context, fn func(tx *Tx) error) error {
	var done *Tx
	err := a.store.Update(func(st store.Txn) error {
		tx := &Tx{Txn: st, ctx: ctx, writable: true}
		if err := fn(tx); err != nil {
			return err
		}
		done = tx
		return nil
	})
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
	return a.store.View(func(st store.Txn) error {
		return fn(&Tx{Txn: st, ctx: ctx})
	})
}
