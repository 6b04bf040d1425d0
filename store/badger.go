package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/klauspost/compress/s2"
)

// Options configures a badger store.
type Options struct {
	// Dir is the data directory. Empty with InMemory.
	Dir string
	// InMemory keeps everything in memory (tests).
	InMemory bool
	// SyncWrites makes every Update that wrote return only once its commit is on disk.
	// Concurrent commits share one fsync (group commit), see syncer. UpdateLazy commits
	// without waiting: the next round covers it.
	SyncWrites bool
	// Logger receives badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// Retries is how many times a conflicting Update is run again (default 32).
	Retries int
	// ValueThreshold: values of at least this many bytes (as stored, compressed) are kept
	// in badger's value log, the LSM tree holding only a pointer (0: DefaultValueThreshold,
	// which keeps nearly everything in the tree). At 256, workflow executions (about 480
	// bytes compressed) go to the value log, which spares compaction their bytes (far
	// faster under workflow load) but keeps the value log mapped in memory: it stays
	// resident as it grows. At most DefaultValueThreshold.
	ValueThreshold int
	// ValueLogFileSize is the size of one value-log file (0: 64 MiB; at least 1 MiB).
	ValueLogFileSize int64
	// GCInterval is how often value-log garbage (values overwritten or deleted) is
	// collected (0: every minute; negative: never, RunGC then does it).
	GCInterval time.Duration
}

// DefaultValueThreshold is the default and largest Options.ValueThreshold: badger wants it
// below 15 % of a memtable.
const DefaultValueThreshold = 256 << 10

// Badger is the embedded store.
type Badger struct {
	db      *badger.DB
	retries int
	retried atomic.Uint64 // conflicting Updates run again, for ConflictRetries
	sync    *syncer       // nil unless SyncWrites
	stopGC  func()        // ends collectGarbage; nil when it does not run
	gcDone  chan struct{}

	mu   sync.Mutex
	seqs map[string]*badger.Sequence

	q leaseTable // the queue's leases (queue.go)
}

// memTableSize is the size of one of badger's memtables; a transaction holds at most
// 15 % of it (see OpenBadger).
const memTableSize = 2 << 20

// sequenceBandwidth is how many IDs a sequence leases from disk at once.
const sequenceBandwidth = 1000

// OpenBadger opens (or creates) a badger store tuned for a small machine: 2 cores and a
// memory budget in the low hundreds of MB.
//
// Most of badger's memory is Go heap that scales with its table sizes: each memtable is
// an arena of MemTableSize, and a table builder (flush or compaction) holds its whole
// table, twice its target size to start with, in buffers that badger's allocator pool
// keeps for reuse (eight of them, each as large as the largest table it built: a flushed
// memtable). Small memtables (2 MiB) and tables of 512 KiB on every level keep that to a
// few tens of MB: with 4 MiB memtables the pool alone held 112 MB of a 127 MB live heap
// after actionflow-bench --quick W1-W4, with 2 MiB 46 MB of 59 MB, at the same request
// rates. The price is badger's largest transaction, 15 % of a memtable: about 300 KB or
// 3,200 writes (SmallWrites; bigger actions get ErrTooBig). Every table file is mmapped
// and stays resident once written, so the tables are Snappy-compressed (a third of the
// size of raw JSON records), which needs a block cache for the decompressed blocks; a
// small one does.
func OpenBadger(o Options) (*Badger, error) {
	threshold, vlogSize := o.ValueThreshold, o.ValueLogFileSize
	if threshold == 0 {
		threshold = DefaultValueThreshold
	}
	if threshold < 0 || threshold > DefaultValueThreshold {
		return nil, fmt.Errorf("store: value threshold %d out of range (1 to %d bytes)", threshold, DefaultValueThreshold)
	}
	if vlogSize == 0 {
		vlogSize = 64 << 20 // badger refuses one below 1 MiB
	}
	opts := badger.DefaultOptions(o.Dir).
		WithInMemory(o.InMemory).
		// Durability comes from the group commit below, not from badger's per-write sync,
		// which fsyncs once per transaction.
		WithSyncWrites(false).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithBaseTableSize(512 << 10).
		WithValueThreshold(int64(threshold)).
		WithCompression(options.Snappy).
		WithBlockCacheSize(4 << 20).
		WithIndexCacheSize(8 << 20).
		WithNumCompactors(2).
		// Five level-0 tables before they are compacted into level 1 (badger's default), not
		// two: each compaction merges more at once, which under a write load of small
		// records plus executions costs far less CPU (W2 +25-40 %, W3 drain +15-25 % in
		// actionflow-bench) for about 10 MB more RSS.
		WithNumLevelZeroTables(5).
		WithNumLevelZeroTablesStall(14).
		// A base level of 4 MB, not 10: every request writes keys under several prefixes
		// (record, index entries, execution), so each level-0 table spans nearly the whole
		// key space and its compaction rewrites most of the base level. A small base level
		// bounds that rewrite. actionflow-bench 8 s runs: W2 server CPU per request 10-20 %
		// lower and its p99 about halved, W3 a little lower. 2 MB did as well at 8 s but
		// twice in six --quick runs raised the peak RSS to 168 MB (4 MB: 122-135 in five).
		WithBaseLevelSize(4 << 20).
		WithValueLogFileSize(vlogSize).
		WithNumGoroutines(2).
		WithLogger(badgerLogger{o.Logger})
	// Every level's tables the size of level 1's: a compaction's table builders hold whole
	// tables, so bigger tables in the lower levels made them the largest item of the heap.
	opts.TableSizeMultiplier = 1
	if o.InMemory {
		opts = opts.WithDir("").WithValueDir("")
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("store: open badger at %q: %w", o.Dir, err)
	}
	r := o.Retries
	if r <= 0 {
		r = 32
	}
	b := &Badger{db: db, retries: r, seqs: map[string]*badger.Sequence{}, q: leaseTable{leases: map[uint64]lease{}}}
	if o.SyncWrites && !o.InMemory {
		b.sync = newSyncer(db, o.Dir)
	}
	if !o.InMemory && o.GCInterval >= 0 {
		every := o.GCInterval
		if every == 0 {
			every = time.Minute
		}
		b.collectGarbage(every, o.Logger)
	}
	return b, nil
}

// collectGarbage runs RunGC every interval until Close.
func (b *Badger) collectGarbage(every time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	b.stopGC, b.gcDone = cancel, make(chan struct{})
	go func() {
		defer close(b.gcDone)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if err := b.RunGC(ctx); err != nil && log != nil {
				log.Warn("value log garbage collection failed", "err", err)
			}
		}
	}()
}

// OpenMemory opens an in-memory store, for tests.
func OpenMemory() (*Badger, error) {
	return OpenBadger(Options{InMemory: true})
}

// View implements Store.
func (b *Badger) View(fn func(Txn) error) error {
	return mapErr(b.db.View(func(t *badger.Txn) error { return fn(&badgerTxn{t: t, q: &b.q}) }))
}

// Update implements Store. With SyncWrites, a transaction that wrote returns once its
// commit is on disk; one that wrote nothing has nothing to wait for.
func (b *Badger) Update(fn func(Txn) error) error { return b.update(fn, false) }

// UpdateLazy implements LazyUpdater: Update, but with SyncWrites it returns once the
// transaction has committed and asks for an fsync without waiting for it. Later commits
// reach the disk after it (badger writes its log in commit order), and every Update that
// waits covers it.
func (b *Badger) UpdateLazy(fn func(Txn) error) error { return b.update(fn, true) }

func (b *Badger) update(fn func(Txn) error, lazy bool) error {
	var err error
	for attempt := 0; attempt <= b.retries; attempt++ {
		var wrote bool
		var onCommit []func()
		err = b.db.Update(func(t *badger.Txn) error {
			bt := &badgerTxn{t: t, q: &b.q}
			err := fn(bt)
			wrote, onCommit = bt.wrote, bt.onCommit
			return err
		})
		if err == nil {
			for _, f := range onCommit {
				f()
			}
			switch {
			case b.sync == nil || !wrote:
				return nil
			case lazy:
				b.sync.syncLater()
				return nil
			}
			return b.sync.wait()
		}
		if !errors.Is(err, badger.ErrConflict) {
			return mapErr(err)
		}
		b.retried.Add(1)
		// Back off a little, with jitter, so the conflicting writers spread out.
		time.Sleep(time.Duration(rand.IntN(200*(attempt+1))) * time.Microsecond)
	}
	return fmt.Errorf("store: after %d retries: %w", b.retries, ErrConflict)
}

// ConflictRetries implements RetryCounter.
func (b *Badger) ConflictRetries() uint64 { return b.retried.Load() }

// NextID implements Store.
func (b *Badger) NextID(name string) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seqs == nil {
		return 0, ErrClosed
	}
	seq, ok := b.seqs[name]
	if !ok {
		var err error
		seq, err = b.db.GetSequence(SequenceKey(name), sequenceBandwidth)
		if err != nil {
			return 0, fmt.Errorf("store: sequence %q: %w", name, err)
		}
		b.seqs[name] = seq
	}
	for {
		n, err := seq.Next()
		if err != nil {
			return 0, fmt.Errorf("store: sequence %q: %w", name, err)
		}
		if n > 0 { // badger's first value is 0; IDs start at 1
			return n, nil
		}
	}
}

// Close implements Store: it releases the leased sequence ranges and closes badger.
func (b *Badger) Close() error {
	if b.sync != nil {
		b.sync.close()
	}
	if b.stopGC != nil {
		b.stopGC()
		<-b.gcDone
	}
	b.mu.Lock()
	var errs []error
	for name, s := range b.seqs {
		if err := s.Release(); err != nil {
			errs = append(errs, fmt.Errorf("store: release sequence %q: %w", name, err))
		}
	}
	b.seqs = nil
	b.mu.Unlock()
	if err := b.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close badger: %w", err))
	}
	return errors.Join(errs...)
}

// RunGC runs badger's value-log garbage collection until there is nothing to rewrite, or
// ctx ends.
func (b *Badger) RunGC(ctx context.Context) error {
	for ctx.Err() == nil {
		err := b.db.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: value log gc: %w", err)
		}
	}
	return nil
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return ErrNotFound
	case errors.Is(err, badger.ErrConflict):
		return ErrConflict
	case errors.Is(err, badger.ErrTxnTooBig):
		return ErrTooBig
	case errors.Is(err, badger.ErrDBClosed):
		return ErrClosed
	}
	return err
}

type badgerTxn struct {
	t     *badger.Txn
	wrote bool // a Set, SetTTL or Delete was asked for: the commit has something to sync
	q     *leaseTable
	// onCommit runs after the commit: the queue's lease table follows the entries.
	onCommit []func()
}

// Values of at least compressMin bytes are stored Snappy-compressed when that saves at
// least an eighth, marked by metaSnappy in the entry's user meta byte; any other value
// (and every value written before this existed) is stored as given. Compression halves a
// workflow execution's record (about 800 bytes of JSON), and with it what memtables,
// flushes and compactions (or the value log) carry of it; small records stay as they are.
const (
	compressMin      = 256
	metaSnappy  byte = 1
)

// entry is the badger entry that stores value under key.
func entry(key, value []byte) *badger.Entry {
	if len(value) >= compressMin {
		// s2's fast Snappy encoder: 40 % less time than snappy.Encode (its "better" mode)
		// on an execution record, for 2 % more bytes.
		if c := s2.EncodeSnappy(nil, value); len(c) <= len(value)-len(value)/8 {
			return badger.NewEntry(key, c).WithMeta(metaSnappy)
		}
	}
	return badger.NewEntry(key, value)
}

// itemValue is a copy of an item's value as it was given to Set.
func itemValue(item *badger.Item) ([]byte, error) {
	if item.UserMeta()&metaSnappy == 0 {
		return item.ValueCopy(nil)
	}
	var out []byte
	err := item.Value(func(v []byte) error {
		var err error
		out, err = s2.Decode(nil, v) // s2 decodes Snappy blocks
		return err
	})
	return out, err
}

func (t *badgerTxn) Get(key []byte) ([]byte, error) {
	item, err := t.t.Get(key)
	if err != nil {
		return nil, mapErr(err)
	}
	v, err := itemValue(item)
	if err != nil {
		return nil, fmt.Errorf("store: read %q: %w", key, err)
	}
	return v, nil
}

func (t *badgerTxn) Has(key []byte) (bool, error) {
	_, err := t.t.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, mapErr(err)
	}
	return true, nil
}

func (t *badgerTxn) Set(key, value []byte) error {
	t.wrote = true
	return mapErr(t.t.SetEntry(entry(key, value)))
}

func (t *badgerTxn) SetTTL(key, value []byte, ttl time.Duration) error {
	t.wrote = true
	return mapErr(t.t.SetEntry(entry(key, value).WithTTL(ttl)))
}

func (t *badgerTxn) Delete(key []byte) error {
	t.wrote = true
	return mapErr(t.t.Delete(key))
}

func (t *badgerTxn) Scan(prefix []byte, opts ScanOptions, fn func(key, value []byte) error) error {
	io := badger.DefaultIteratorOptions
	io.Prefix = prefix
	io.Reverse = opts.Reverse
	io.PrefetchValues = !opts.KeysOnly
	if !opts.KeysOnly {
		io.PrefetchSize = 16
	}
	it := t.t.NewIterator(io)
	defer it.Close()

	start := opts.Start
	if start == nil {
		start = prefix
		if opts.Reverse {
			start = append(bytes.Clone(prefix), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
		}
	}
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		key := item.KeyCopy(nil)
		var val []byte
		if !opts.KeysOnly {
			var err error
			if val, err = itemValue(item); err != nil {
				return fmt.Errorf("store: read %q: %w", key, err)
			}
		}
		if err := fn(key, val); err != nil {
			if errors.Is(err, errStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (t *badgerTxn) Count(prefix []byte) (int, error) {
	io := badger.DefaultIteratorOptions
	io.Prefix = prefix
	io.PrefetchValues = false
	it := t.t.NewIterator(io)
	defer it.Close()
	n := 0
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		n++
	}
	return n, nil
}

// badgerLogger forwards badger's warnings and errors to slog and drops its chatter.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error(fmt.Sprintf(f, a...), "component", "badger")
	}
}

func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn(fmt.Sprintf(f, a...), "component", "badger")
	}
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
