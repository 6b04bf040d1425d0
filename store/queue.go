package store

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"
)

// The queue of executions. An entry is put in the transaction that creates what it names
// (an execution id) and removed (QueueDone) in the one that finishes it, so it commits and
// rolls back with them. Outside transactions, Claim leases ready entries to an owner (a
// node) for a while, Renew extends the leases the owner still holds, and Release gives
// them back: an entry leased by an owner that stopped renewing (a node that died) is
// claimed again once its lease has expired. A cancel mark (QueueCancel) is set by anyone
// and read by the owner (Renew, Claim).
//
// badger holds the entries as keys (QueueKey: ready-at and the cancel mark) and the leases
// in a table in the process: one node. PostgreSQL holds both in actionflow_queue, written
// in the transaction of the record and claimed with FOR UPDATE SKIP LOCKED, so nodes
// sharing a database share the queue.

// ErrLeaseLost is returned by QueueDone with an owner when the entry is leased by another
// owner or is gone: the lease expired and another owner claimed it (and may have finished
// it). The transaction must not commit.
var ErrLeaseLost = errors.New("store: queue lease lost")

// QueueEntry is an entry of the queue.
type QueueEntry struct {
	// ReadyAt is when the entry may be claimed (zero: now).
	ReadyAt time.Time
	// Owner holds a lease on the entry until Lease from now (QueuePut: leased to Owner from
	// the start, e.g. the node that will hand it to its own workers; empty: claimable).
	// QueueGet reports the owner of the lease, live or not.
	Owner string
	Lease time.Duration
	// Live (QueueGet) is set while Owner's lease has not expired.
	Live bool
	// Canceled is the cancel mark.
	Canceled bool
}

// Claimed is an entry that Claim leased.
type Claimed struct {
	ID       uint64
	Canceled bool
}

// Renewal is what Renew found of the leases it was asked to extend.
type Renewal struct {
	// Canceled are renewed entries with the cancel mark.
	Canceled []uint64
	// Lost are entries the owner no longer holds: done, or leased by another owner.
	Lost []uint64
}

// Queue is the queue of a store (see above).
type Queue interface {
	// Claim leases up to n ready entries that no live lease holds to owner for lease, in
	// id order.
	Claim(owner string, n int, lease time.Duration) ([]Claimed, error)
	// Renew extends owner's leases on ids to lease from now.
	Renew(owner string, ids []uint64, lease time.Duration) (Renewal, error)
	// Release ends owner's leases on ids: they are claimable at once.
	Release(owner string, ids []uint64) error
}

// QueueTxn is the queue's side of a transaction.
type QueueTxn interface {
	// QueuePut adds (or replaces) the entry of id.
	QueuePut(id uint64, e QueueEntry) error
	// QueueGet reads the entry of id (ErrNotFound).
	QueueGet(id uint64) (QueueEntry, error)
	// QueueDone removes the entry of id. With an owner it fails with ErrLeaseLost when the
	// entry is leased to another owner or is missing (another owner, or a cancel, finished
	// it); without one a missing entry is no error.
	QueueDone(id uint64, owner string) error
	// QueueCancel sets the cancel mark of id's entry; false when there is none.
	QueueCancel(id uint64) (bool, error)
}

// QueuePrefix is the prefix of the queue's keys (badger).
func QueuePrefix() []byte { return []byte("q/") }

// QueueKey is the key of id's queue entry (badger): ready-at (unix ns, 8 bytes) and the
// cancel mark (1 byte) in the value.
func QueueKey(id uint64) []byte { return binary.BigEndian.AppendUint64(QueuePrefix(), id) }

func encodeQueueValue(readyAt time.Time, canceled bool) []byte {
	v := make([]byte, 9)
	if !readyAt.IsZero() {
		binary.BigEndian.PutUint64(v, uint64(readyAt.UnixNano()))
	}
	if canceled {
		v[8] = 1
	}
	return v
}

func decodeQueueValue(v []byte) (readyAt int64, canceled bool) {
	if len(v) < 9 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v)), v[8] == 1
}

// leaseTable holds badger's leases and cancel marks seen at commit, in the process.
type leaseTable struct {
	mu     sync.Mutex
	leases map[uint64]lease
}

type lease struct {
	owner    string
	until    time.Time
	canceled bool
}

func (l lease) live(now time.Time) bool { return l.owner != "" && now.Before(l.until) }

// Claim implements Queue.
func (b *Badger) Claim(owner string, n int, d time.Duration) ([]Claimed, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []Claimed
	err := b.View(func(tx Txn) error {
		now := time.Now()
		b.q.mu.Lock()
		defer b.q.mu.Unlock()
		b.q.dropExpired(now)
		return tx.Scan(QueuePrefix(), ScanOptions{}, func(k, v []byte) error {
			at, canceled := decodeQueueValue(v)
			if at > now.UnixNano() {
				return nil
			}
			id := IDFromKey(k)
			l := b.q.leases[id]
			if l.live(now) {
				return nil
			}
			b.q.leases[id] = lease{owner: owner, until: now.Add(d), canceled: canceled || l.canceled}
			out = append(out, Claimed{ID: id, Canceled: canceled || l.canceled})
			if len(out) >= n {
				return StopScan
			}
			return nil
		})
	})
	return out, err
}

// dropExpired forgets expired leases (of entries done, or of puts that did not commit)
// once the table has grown.
func (q *leaseTable) dropExpired(now time.Time) {
	if len(q.leases) < 4096 {
		return
	}
	for id, l := range q.leases {
		if !l.live(now) && !l.canceled {
			delete(q.leases, id)
		}
	}
}

// Renew implements Queue.
func (b *Badger) Renew(owner string, ids []uint64, d time.Duration) (Renewal, error) {
	var r Renewal
	now := time.Now()
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	for _, id := range ids {
		l, ok := b.q.leases[id]
		if !ok || l.owner != owner {
			r.Lost = append(r.Lost, id)
			continue
		}
		l.until = now.Add(d)
		b.q.leases[id] = l
		if l.canceled {
			r.Canceled = append(r.Canceled, id)
		}
	}
	return r, nil
}

// Release implements Queue.
func (b *Badger) Release(owner string, ids []uint64) error {
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	for _, id := range ids {
		if l, ok := b.q.leases[id]; ok && l.owner == owner {
			delete(b.q.leases, id)
		}
	}
	return nil
}

// QueuePut implements QueueTxn. The lease is taken at once (an aborted put leaves an
// unused lease that expires).
func (t *badgerTxn) QueuePut(id uint64, e QueueEntry) error {
	if err := t.Set(QueueKey(id), encodeQueueValue(e.ReadyAt, e.Canceled)); err != nil {
		return err
	}
	if e.Owner != "" {
		t.q.mu.Lock()
		t.q.leases[id] = lease{owner: e.Owner, until: time.Now().Add(e.Lease)}
		t.q.mu.Unlock()
	}
	return nil
}

// QueueGet implements QueueTxn.
func (t *badgerTxn) QueueGet(id uint64) (QueueEntry, error) {
	v, err := t.Get(QueueKey(id))
	if err != nil {
		return QueueEntry{}, err
	}
	at, canceled := decodeQueueValue(v)
	e := QueueEntry{Canceled: canceled}
	if at != 0 {
		e.ReadyAt = time.Unix(0, at)
	}
	t.q.mu.Lock()
	l := t.q.leases[id]
	t.q.mu.Unlock()
	e.Owner, e.Live, e.Canceled = l.owner, l.live(time.Now()), e.Canceled || l.canceled
	if e.Live {
		e.Lease = time.Until(l.until)
	}
	return e, nil
}

// QueueDone implements QueueTxn; the lease goes when the transaction commits.
func (t *badgerTxn) QueueDone(id uint64, owner string) error {
	if owner != "" {
		t.q.mu.Lock()
		l, ok := t.q.leases[id]
		t.q.mu.Unlock()
		// Another owner's lease, or no entry: another owner (or a cancel) finished it.
		if ok && l.owner != owner || !t.hasKey(id) {
			return ErrLeaseLost
		}
	}
	if err := t.Delete(QueueKey(id)); err != nil {
		return err
	}
	t.onCommit = append(t.onCommit, func() {
		t.q.mu.Lock()
		if l, ok := t.q.leases[id]; ok && (owner == "" || l.owner == owner) {
			delete(t.q.leases, id)
		}
		t.q.mu.Unlock()
	})
	return nil
}

func (t *badgerTxn) hasKey(id uint64) bool {
	ok, _ := t.Has(QueueKey(id))
	return ok
}

// QueueCancel implements QueueTxn: the mark is stored, and reaches the lease table (what
// Renew reads) when the transaction commits.
func (t *badgerTxn) QueueCancel(id uint64) (bool, error) {
	v, err := t.Get(QueueKey(id))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	at, _ := decodeQueueValue(v)
	var readyAt time.Time
	if at != 0 {
		readyAt = time.Unix(0, at)
	}
	if err := t.Set(QueueKey(id), encodeQueueValue(readyAt, true)); err != nil {
		return false, err
	}
	t.onCommit = append(t.onCommit, func() {
		t.q.mu.Lock()
		l := t.q.leases[id]
		l.canceled = true
		t.q.leases[id] = l
		t.q.mu.Unlock()
	})
	return true, nil
}
