// Package store is actionflow's storage: a small key-value interface with transactions,
// prefix scans and sequences, and its badger implementation.
//
// Every key layout used by the product is built by the functions in keys.go and documented
// there; nothing else assembles keys by hand.
package store

import (
	"errors"
	"time"
)

// Sentinel errors of the store.
var (
	// ErrNotFound is returned by Txn.Get when the key does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrConflict is returned by Update when a transaction still conflicts after its retries.
	ErrConflict = errors.New("store: transaction conflict")
	// ErrTooBig is returned when a transaction holds more writes than the store takes at once.
	ErrTooBig = errors.New("store: transaction too big")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store: closed")
	// errStopScan ends a scan early without an error.
	errStopScan = errors.New("store: stop scan")
)

// SmallWrites is how many small writes (deletes, or sets of keys and values under 64
// bytes each) one transaction always holds. Work that writes without bound (purges,
// pruning) goes in batches of at most this many writes; larger transactions may fail with
// ErrTooBig (badger holds one transaction in 15 % of a memtable: about 300 KB or 3,200
// writes here).
const SmallWrites = 2000

// StopScan, returned from a Scan callback, ends the scan without an error.
var StopScan = errStopScan

// Store is the storage behind actionflow.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Txn) error) error
	// Update runs fn in a read-write transaction and commits it. A conflicting commit is
	// retried with a fresh transaction, so fn must not keep state between calls.
	Update(fn func(Txn) error) error
	// NextID returns the next value of the named sequence: 1, 2, 3, ... (gaps are possible
	// after a crash, never repeats).
	NextID(name string) (uint64, error)
	// Close releases sequences and closes the store.
	Close() error
	// Queue is the queue of executions (queue.go).
	Queue
}

// LazyUpdater is a Store that can commit without waiting for the commit to reach the
// disk (badger with SyncWrites). It is for writes whose loss in a crash only repeats
// work: the commit is on disk with the next fsync, which it asks for, and before any
// later commit is.
type LazyUpdater interface {
	UpdateLazy(fn func(Txn) error) error
}

// RetryCounter is a Store that counts its conflict retries: how many times an Update's
// transaction conflicted (badger) or failed to serialize (PostgreSQL) and was run again
// (the last conflict of an Update that gives up with ErrConflict counts too).
// core publishes it as actionflow_store_conflict_retries_total.
type RetryCounter interface {
	ConflictRetries() uint64
}

// LatestReader is a Store that reads one key's latest committed value without a
// transaction: cheaper than a View of one Get where a transaction costs round trips
// (PostgreSQL: one statement instead of BEGIN, SELECT, ROLLBACK).
type LatestReader interface {
	GetLatest(key []byte) ([]byte, error)
}

// Txn is one transaction. Byte slices passed to Set may not be changed afterwards; slices
// returned by Get and Scan belong to the caller.
type Txn interface {
	Get(key []byte) ([]byte, error)
	Has(key []byte) (bool, error)
	Set(key, value []byte) error
	// SetTTL writes a key that disappears after ttl.
	SetTTL(key, value []byte, ttl time.Duration) error
	Delete(key []byte) error
	// Scan calls fn for each key with the prefix, in key order (or reverse), starting at
	// opts.Start when set. Returning StopScan from fn ends the scan.
	Scan(prefix []byte, opts ScanOptions, fn func(key, value []byte) error) error
	// Count returns how many keys have the prefix, without copying them.
	Count(prefix []byte) (int, error)
	// QueueTxn puts and removes entries of the queue with the transaction (queue.go).
	QueueTxn
}

// ScanOptions tunes a Scan.
type ScanOptions struct {
	Reverse  bool
	KeysOnly bool   // value is nil in the callback
	Start    []byte // first key to visit (inclusive); in reverse, the last
}
