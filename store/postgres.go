package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4/skl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klauspost/compress/s2"
)

// PostgresOptions configures a PostgreSQL store.
type PostgresOptions struct {
	// Logger receives warnings (failed clean-ups of expired keys); nil discards them.
	Logger *slog.Logger
	// Retries is how many times a conflicting Update is run again (default 32, as badger).
	Retries int
	// CleanupInterval is how often expired keys are deleted (0: every minute; negative:
	// never). Expired keys are invisible to reads either way.
	CleanupInterval time.Duration
}

// Postgres is the store on PostgreSQL 15 or later: one table of keys and values
// (actionflow_kv), one of sequences (actionflow_seq) and the queue (actionflow_queue, see
// queue.go and pgqueue.go), created on open.
//
// It keeps badger's semantics: Update runs in a SERIALIZABLE transaction and is run again
// on a serialization failure or deadlock (SQLSTATE 40001, 40P01), as badger runs it again
// on a conflict; View runs in a read-only snapshot. Writes are buffered in the transaction
// and sent in one batch at commit; reads (Get, Has, Scan, Count) see them. Scans read
// pages of scanPage keys, so a callback may use the transaction while scanning. A
// transaction holds as many writes as badger's (SmallWrites always fit; see
// pgTxn.checkSize), TTLs use the database's clock, and NextID leases ranges of IDs as
// badger's sequences do (gaps after a restart, never repeats).
type Postgres struct {
	// Three pools, so that a store call made inside a transaction's function (NextID in
	// an Update, a View in an Update: the Lua db module) never waits for a connection
	// that only the transactions waiting for it could give back.
	pool    *pgxpool.Pool // Update
	views   *pgxpool.Pool // View
	seqs    *pgxpool.Pool // NextID's leases
	retries int
	retried atomic.Uint64 // conflicting Updates run again, for ConflictRetries
	log     *slog.Logger

	ctx       context.Context // ends at Close
	cancel    context.CancelFunc
	cleanDone chan struct{} // closed when the clean-up goroutine ends; nil when none runs

	mu     sync.Mutex
	closed bool
	leases map[string]*pgSeq
}

type pgSeq struct{ next, end uint64 } // IDs next..end-1 are leased and unused

// scanPage is how many rows one query of a Scan reads.
const scanPage = 256

// Badger's transaction limit (see OpenBadger and badger's Txn.checkSize): 15 % of a
// memtable in bytes, and that divided by the size of a skiplist node in entries.
const (
	pgMaxBatchSize  = 15 * memTableSize / 100
	pgMaxBatchCount = pgMaxBatchSize / int64(skl.MaxNodeSize)
)

const pgSchema = `
CREATE TABLE IF NOT EXISTS actionflow_kv (
	k bytea PRIMARY KEY,
	v bytea NOT NULL,
	expires_at timestamptz
);
CREATE INDEX IF NOT EXISTS actionflow_kv_expires ON actionflow_kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS actionflow_seq (
	name text PRIMARY KEY,
	next bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS actionflow_queue (
	id bigint PRIMARY KEY,
	ready_at timestamptz NOT NULL,
	owner text,
	lease_until timestamptz,
	canceled boolean NOT NULL DEFAULT false
);`

// visible is the condition on a row that has not expired.
const visible = `(expires_at IS NULL OR expires_at > statement_timestamp())`

// OpenPostgres connects to the database at url (postgres://user:password@host:port/db?...)
// and creates the tables when missing. Updates use up to 32 connections (pool_max_conns
// in the URL sets another number), views up to half as many, sequences 2.
func OpenPostgres(url string, o PostgresOptions) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: postgres url: %w", err)
	}
	if !hasParam(url, "pool_max_conns") {
		cfg.MaxConns = 32
	}
	ctx, cancel := context.WithCancel(context.Background())
	var pools []*pgxpool.Pool
	fail := func(err error) (*Postgres, error) {
		for _, p := range pools {
			p.Close()
		}
		cancel()
		return nil, err
	}
	for _, conns := range []int32{cfg.MaxConns, max(cfg.MaxConns/2, 2), 2} {
		c := cfg.Copy()
		c.MaxConns = conns
		pool, err := pgxpool.NewWithConfig(ctx, c)
		if err != nil {
			return fail(fmt.Errorf("store: postgres: %w", err))
		}
		pools = append(pools, pool)
	}
	if err := createSchema(ctx, pools[0]); err != nil {
		return fail(err)
	}
	r := o.Retries
	if r <= 0 {
		r = 32
	}
	p := &Postgres{pool: pools[0], views: pools[1], seqs: pools[2], retries: r, log: o.Logger, ctx: ctx, cancel: cancel,
		leases: map[string]*pgSeq{}}
	if o.CleanupInterval >= 0 {
		every := o.CleanupInterval
		if every == 0 {
			every = time.Minute
		}
		p.cleanDone = make(chan struct{})
		go p.cleanExpired(every)
	}
	return p, nil
}

func hasParam(url, name string) bool {
	_, q, ok := bytes.Cut([]byte(url), []byte("?"))
	if !ok {
		return false
	}
	for _, kv := range bytes.Split(q, []byte("&")) {
		if k, _, _ := bytes.Cut(kv, []byte("=")); string(k) == name {
			return true
		}
	}
	return false
}

// createSchema creates the tables under an advisory lock, so that nodes starting together
// do not race on CREATE TABLE.
func createSchema(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: postgres: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7206283541)`); err != nil {
		return fmt.Errorf("store: postgres: create tables: %w", err)
	}
	if _, err := tx.Exec(ctx, pgSchema); err != nil {
		return fmt.Errorf("store: postgres: create tables: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: postgres: create tables: %w", err)
	}
	return nil
}

// cleanExpired deletes expired rows every interval until Close.
func (p *Postgres) cleanExpired(every time.Duration) {
	defer close(p.cleanDone)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-tick.C:
		}
		if err := p.DeleteExpired(p.ctx); err != nil && p.ctx.Err() == nil && p.log != nil {
			p.log.Warn("deleting expired keys failed", "component", "store", "err", err)
		}
	}
}

// DeleteExpired deletes the rows whose TTL has passed (reads never see them anyway).
func (p *Postgres) DeleteExpired(ctx context.Context) error {
	if _, err := p.seqs.Exec(ctx, `DELETE FROM actionflow_kv WHERE expires_at <= statement_timestamp()`); err != nil {
		return fmt.Errorf("store: postgres: delete expired: %w", err)
	}
	return nil
}

func (p *Postgres) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// View implements Store: fn runs in a read-only snapshot (REPEATABLE READ, which never
// fails to serialize).
func (p *Postgres) View(fn func(Txn) error) error {
	if p.isClosed() {
		return ErrClosed
	}
	tx, err := p.views.BeginTx(p.ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return p.mapErr(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	t := &pgTxn{ctx: p.ctx, tx: tx, readOnly: true}
	if err := fn(t); err != nil {
		return err
	}
	return nil
}

// Update implements Store.
func (p *Postgres) Update(fn func(Txn) error) error { return p.update(fn, false) }

// UpdateLazy implements LazyUpdater: the commit does not wait for the WAL to reach the
// disk (synchronous_commit off for this transaction).
func (p *Postgres) UpdateLazy(fn func(Txn) error) error { return p.update(fn, true) }

func (p *Postgres) update(fn func(Txn) error, lazy bool) error {
	var err error
	for attempt := 0; attempt <= p.retries; attempt++ {
		if p.isClosed() {
			return ErrClosed
		}
		var retry bool
		retry, err = p.try(fn, lazy)
		if !retry {
			return err
		}
		p.retried.Add(1)
		// Back off a little, with jitter, as badger's Update does.
		time.Sleep(time.Duration(rand.IntN(200*(attempt+1))) * time.Microsecond)
	}
	return fmt.Errorf("store: after %d retries: %w (%v)", p.retries, ErrConflict, err)
}

// ConflictRetries implements RetryCounter.
func (p *Postgres) ConflictRetries() uint64 { return p.retried.Load() }

// try runs fn once in a SERIALIZABLE transaction and commits it; retry reports a
// serialization failure (of a read, a write or the commit).
func (p *Postgres) try(fn func(Txn) error, lazy bool) (retry bool, err error) {
	tx, err := p.pool.BeginTx(p.ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return false, p.mapErr(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	t := &pgTxn{ctx: p.ctx, tx: tx, writes: map[string]pgWrite{}}
	if err := fn(t); err != nil {
		if t.conflict || isSerialization(err) {
			return true, err
		}
		return false, err
	}
	// A serialization failure that fn's code swallowed (a read whose error it took for
	// "absent", say) aborted the transaction all the same: the flush or commit then fails
	// with 25P02, and the transaction is run again like any conflict.
	if err := t.flush(lazy); err != nil {
		return t.conflict || isSerialization(err), p.mapErr(err)
	}
	if err := tx.Commit(p.ctx); err != nil {
		return t.conflict || isSerialization(err), p.mapErr(err)
	}
	return false, nil
}

func isSerialization(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func (p *Postgres) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if p.ctx.Err() != nil || errors.Is(err, pgx.ErrTxClosed) {
		return ErrClosed
	}
	return fmt.Errorf("store: postgres: %w", err)
}

// sequenceLease is how many IDs NextID leases from the database at once.
const sequenceLease = sequenceBandwidth

// NextID implements Store: IDs come from leases of sequenceLease IDs taken from
// actionflow_seq in their own transaction, so nodes sharing a database never hand out the
// same ID.
func (p *Postgres) NextID(name string) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	s := p.leases[name]
	if s == nil || s.next >= s.end {
		var end int64
		err := p.seqs.QueryRow(p.ctx, `INSERT INTO actionflow_seq AS s (name, next) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET next = s.next + $2 RETURNING next`, name, int64(sequenceLease)).Scan(&end)
		if err != nil {
			return 0, fmt.Errorf("store: sequence %q: %w", name, p.mapErr(err))
		}
		s = &pgSeq{next: uint64(end) - sequenceLease + 1, end: uint64(end) + 1}
		p.leases[name] = s
	}
	id := s.next
	s.next++
	return id, nil
}

// Close implements Store: it stops the clean-up and closes the connections. Leased IDs
// are not returned (a gap, as after a crash).
func (p *Postgres) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.leases = nil
	p.mu.Unlock()
	p.cancel()
	if p.cleanDone != nil {
		<-p.cleanDone
	}
	p.pool.Close()
	p.views.Close()
	p.seqs.Close()
	return nil
}

// pgWrite is a buffered write: a value (with an expiry when ttl > 0) or a delete.
type pgWrite struct {
	value []byte
	ttl   time.Duration
	del   bool
}

type pgTxn struct {
	ctx      context.Context
	tx       pgx.Tx
	readOnly bool
	writes   map[string]pgWrite
	count    int64 // badger's entry count and size estimate of the writes
	size     int64
	conflict bool // a statement failed to serialize: the transaction is run again
}

var errReadOnly = errors.New("store: write in a read-only transaction")

// fail records a serialization failure and wraps a database error.
func (t *pgTxn) fail(err error) error {
	if isSerialization(err) {
		t.conflict = true
		return fmt.Errorf("store: postgres: %w: %w", ErrConflict, err)
	}
	if t.ctx.Err() != nil {
		return ErrClosed
	}
	return fmt.Errorf("store: postgres: %w", err)
}

// GetLatest implements LatestReader: one statement outside any transaction.
func (p *Postgres) GetLatest(key []byte) ([]byte, error) {
	var v []byte
	err := p.views.QueryRow(p.ctx, `SELECT v FROM actionflow_kv WHERE k = $1 AND `+visible, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, p.mapErr(err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (t *pgTxn) Get(key []byte) ([]byte, error) {
	if w, ok := t.writes[string(key)]; ok {
		if w.del {
			return nil, ErrNotFound
		}
		return bytes.Clone(w.value), nil
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, `SELECT v FROM actionflow_kv WHERE k = $1 AND `+visible, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, t.fail(err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (t *pgTxn) Has(key []byte) (bool, error) {
	if w, ok := t.writes[string(key)]; ok {
		return !w.del, nil
	}
	var one int
	err := t.tx.QueryRow(t.ctx, `SELECT 1 FROM actionflow_kv WHERE k = $1 AND `+visible, key).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.fail(err)
	}
	return true, nil
}

func (t *pgTxn) Set(key, value []byte) error { return t.write(key, pgWrite{value: value}) }

func (t *pgTxn) SetTTL(key, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = time.Nanosecond // already expired, as in badger
	}
	return t.write(key, pgWrite{value: value, ttl: ttl})
}

func (t *pgTxn) Delete(key []byte) error { return t.write(key, pgWrite{del: true}) }

func (t *pgTxn) write(key []byte, w pgWrite) error {
	switch {
	case t.readOnly:
		return errReadOnly
	case len(key) == 0:
		return errors.New("store: empty key")
	}
	if err := t.checkSize(key, w); err != nil {
		return err
	}
	if w.value == nil && !w.del {
		w.value = []byte{}
	}
	t.writes[string(key)] = w
	return nil
}

// checkSize counts a write as badger's Txn.checkSize does (each call, the key and the
// value as badger stores it: Snappy-compressed when that saves an eighth, a value pointer
// past the value threshold) and fails with ErrTooBig where badger would.
func (t *pgTxn) checkSize(key []byte, w pgWrite) error {
	v := int64(len(w.value))
	if len(w.value) >= compressMin {
		if n := len(s2.EncodeSnappy(nil, w.value)); n <= len(w.value)-len(w.value)/8 {
			v = int64(n)
		}
	}
	est := int64(len(key)) + v + 2
	if v >= DefaultValueThreshold {
		est = int64(len(key)) + 12 + 2
	}
	count, size := t.count+1, t.size+est+10
	if count >= pgMaxBatchCount || size >= pgMaxBatchSize {
		return ErrTooBig
	}
	t.count, t.size = count, size
	return nil
}

// flush sends the buffered writes in one batch, in key order (so that concurrent
// transactions lock rows in the same order).
func (t *pgTxn) flush(lazy bool) error {
	if len(t.writes) == 0 {
		return nil
	}
	keys := make([]string, 0, len(t.writes))
	for k := range t.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var setK, setV, del [][]byte
	var ttls []*int64 // milliseconds
	for _, k := range keys {
		w := t.writes[k]
		if w.del {
			del = append(del, []byte(k))
			continue
		}
		setK, setV = append(setK, []byte(k)), append(setV, w.value)
		var ms *int64
		if w.ttl > 0 {
			n := max(w.ttl.Milliseconds(), 1)
			ms = &n
		}
		ttls = append(ttls, ms)
	}
	b := &pgx.Batch{}
	if lazy {
		b.Queue(`SET LOCAL synchronous_commit TO OFF`)
	}
	if len(del) > 0 {
		b.Queue(`DELETE FROM actionflow_kv WHERE k = ANY($1)`, del)
	}
	if len(setK) > 0 {
		b.Queue(`INSERT INTO actionflow_kv (k, v, expires_at)
			SELECT k, v, statement_timestamp() + ms * interval '1 millisecond'
			FROM unnest($1::bytea[], $2::bytea[], $3::bigint[]) AS w(k, v, ms)
			ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at`, setK, setV, ttls)
	}
	return t.tx.SendBatch(t.ctx, b).Close()
}

// pgRow is a key and value of a scan.
type pgRow struct{ k, v []byte }

// pending returns the buffered writes with keys in [lo, hi) (hi nil: no bound), in key
// order: what a scan started now sees of the transaction's own writes.
func (t *pgTxn) pending(lo, hi []byte) []pgRow {
	var out []pgRow
	for k, w := range t.writes {
		kb := []byte(k)
		if bytes.Compare(kb, lo) < 0 || hi != nil && bytes.Compare(kb, hi) >= 0 {
			continue
		}
		r := pgRow{k: kb}
		if !w.del {
			r.v = w.value
			if r.v == nil {
				r.v = []byte{}
			}
		}
		out = append(out, r) // v == nil: deleted
	}
	slices.SortFunc(out, func(a, b pgRow) int { return bytes.Compare(a.k, b.k) })
	return out
}

// prefixEnd is the first key after every key with the prefix, nil when there is none.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Scan implements Txn. It reads pages of scanPage rows (keyset pagination) and merges the
// transaction's own writes as they were when the scan began (badger's iterators see the
// pending writes of their creation), so fn may read and write the transaction.
func (t *pgTxn) Scan(prefix []byte, opts ScanOptions, fn func(key, value []byte) error) error {
	lo, hi := prefix, prefixEnd(prefix) // keys in [lo, hi)
	var startIncl []byte
	if opts.Start != nil {
		if opts.Reverse {
			if bytes.Compare(opts.Start, lo) < 0 {
				return nil
			}
			startIncl = opts.Start
		} else if bytes.Compare(opts.Start, lo) > 0 {
			lo = opts.Start
		}
	}
	own := t.pending(lo, hi)
	if startIncl != nil {
		own = slices.DeleteFunc(own, func(r pgRow) bool { return bytes.Compare(r.k, startIncl) > 0 })
	}
	if opts.Reverse {
		slices.Reverse(own)
	}
	page := pgPager{t: t, lo: lo, hi: hi, reverse: opts.Reverse, keysOnly: opts.KeysOnly, start: startIncl}
	emit := func(r pgRow) error {
		if opts.KeysOnly {
			r.v = nil
		} else {
			r.v = bytes.Clone(r.v)
		}
		return fn(r.k, r.v)
	}
	before := func(a, b []byte) bool { // a comes before b in scan order
		if opts.Reverse {
			return bytes.Compare(a, b) > 0
		}
		return bytes.Compare(a, b) < 0
	}
	i := 0
	for {
		r, ok, err := page.next()
		if err != nil {
			return err
		}
		for ; i < len(own) && (!ok || before(own[i].k, r.k)); i++ {
			if own[i].v == nil {
				continue
			}
			if err := emit(own[i]); err != nil {
				return stopped(err)
			}
		}
		if !ok {
			return nil
		}
		if i < len(own) && bytes.Equal(own[i].k, r.k) {
			r = own[i]
			i++
			if r.v == nil {
				continue
			}
		}
		if err := emit(r); err != nil {
			return stopped(err)
		}
	}
}

func stopped(err error) error {
	if errors.Is(err, errStopScan) {
		return nil
	}
	return err
}

// pgPager reads a scan's rows from the database a page at a time.
type pgPager struct {
	t        *pgTxn
	lo, hi   []byte // keys in [lo, hi); hi nil: no upper bound
	start    []byte // reverse: the last key (inclusive); nil: none
	reverse  bool
	keysOnly bool

	rows  []pgRow
	after []byte // the last key read; nil before the first page
	done  bool   // the last page was short
}

func (p *pgPager) next() (pgRow, bool, error) {
	if len(p.rows) == 0 {
		if p.done {
			return pgRow{}, false, nil
		}
		if err := p.fetch(); err != nil {
			return pgRow{}, false, err
		}
		if len(p.rows) == 0 {
			return pgRow{}, false, nil
		}
	}
	r := p.rows[0]
	p.rows = p.rows[1:]
	return r, true, nil
}

func (p *pgPager) fetch() error {
	cols := "k, v"
	if p.keysOnly {
		cols = "k, NULL::bytea"
	}
	var conds []string
	var args []any
	arg := func(op string, v []byte) {
		args = append(args, v)
		conds = append(conds, "k "+op+" $"+strconv.Itoa(len(args)))
	}
	arg(">=", p.lo)
	if p.hi != nil {
		arg("<", p.hi)
	}
	order := "k"
	if p.reverse {
		order = "k DESC"
		if p.start != nil {
			arg("<=", p.start)
		}
		if p.after != nil {
			arg("<", p.after)
		}
	} else if p.after != nil {
		arg(">", p.after)
	}
	q := "SELECT " + cols + " FROM actionflow_kv WHERE "
	for _, c := range conds {
		q += c + " AND "
	}
	q += visible + " ORDER BY " + order + " LIMIT " + strconv.Itoa(scanPage)
	rows, err := p.t.tx.Query(p.t.ctx, q, args...)
	if err != nil {
		return p.t.fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r pgRow
		if err := rows.Scan(&r.k, &r.v); err != nil {
			return p.t.fail(err)
		}
		if !p.keysOnly && r.v == nil {
			r.v = []byte{}
		}
		p.rows = append(p.rows, r)
	}
	if err := rows.Err(); err != nil {
		return p.t.fail(err)
	}
	if len(p.rows) < scanPage {
		p.done = true
	}
	if len(p.rows) > 0 {
		p.after = p.rows[len(p.rows)-1].k
	}
	return nil
}

// Count implements Txn: the rows with the prefix, corrected by the transaction's own
// writes.
func (t *pgTxn) Count(prefix []byte) (int, error) {
	hi := prefixEnd(prefix)
	q, args := `SELECT count(*) FROM actionflow_kv WHERE k >= $1 AND `+visible, []any{prefix}
	if hi != nil {
		q, args = `SELECT count(*) FROM actionflow_kv WHERE k >= $1 AND k < $2 AND `+visible, []any{prefix, hi}
	}
	var n int
	if err := t.tx.QueryRow(t.ctx, q, args...).Scan(&n); err != nil {
		return 0, t.fail(err)
	}
	own := t.pending(prefix, hi)
	if len(own) == 0 {
		return n, nil
	}
	keys := make([][]byte, len(own))
	for i, r := range own {
		keys[i] = r.k
	}
	rows, err := t.tx.Query(t.ctx, `SELECT k FROM actionflow_kv WHERE k = ANY($1) AND `+visible, keys)
	if err != nil {
		return 0, t.fail(err)
	}
	stored := map[string]bool{}
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return 0, t.fail(err)
		}
		stored[string(k)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, t.fail(err)
	}
	for _, r := range own {
		switch {
		case r.v != nil && !stored[string(r.k)]:
			n++
		case r.v == nil && stored[string(r.k)]:
			n--
		}
	}
	return n, nil
}
