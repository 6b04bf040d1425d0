package core

import (
	"context"

	"github.com/actionflow/actionflow/store"
)

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
	return a.data.RunUpdate(ctx, fn, storeUpdate)
}

// View runs fn in a read-only transaction.
func (a *App) View(ctx context.Context, fn func(tx *Tx) error) error {
	return a.data.RunView(ctx, fn, a.store.View)
}
