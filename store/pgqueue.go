package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The queue on PostgreSQL: actionflow_queue (id, ready_at, owner, lease_until, canceled).
// Entries are written in the transaction of the record (SERIALIZABLE, as every Update);
// Claim, Renew and Release are single statements, each its own short transaction at the
// database's default isolation, and Claim locks the rows it takes with FOR UPDATE SKIP
// LOCKED, so that nodes claiming together never wait for or take each other's rows. Lease
// times are on the database's clock.

func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// Claim implements Queue.
func (p *Postgres) Claim(owner string, n int, lease time.Duration) ([]Claimed, error) {
	if n <= 0 {
		return nil, nil
	}
	if p.isClosed() {
		return nil, ErrClosed
	}
	rows, err := p.views.Query(p.ctx, `UPDATE actionflow_queue q SET owner = $1,
			lease_until = clock_timestamp() + $3 * interval '1 millisecond'
		FROM (SELECT id FROM actionflow_queue
			WHERE ready_at <= clock_timestamp() AND (lease_until IS NULL OR lease_until <= clock_timestamp())
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) c
		WHERE q.id = c.id RETURNING q.id, q.canceled`, owner, n, ms(lease))
	if err != nil {
		return nil, fmt.Errorf("store: queue claim: %w", p.mapErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Claimed, error) {
		var c Claimed
		var id int64
		err := r.Scan(&id, &c.Canceled)
		c.ID = uint64(id)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue claim: %w", p.mapErr(err))
	}
	slices.SortFunc(out, func(a, b Claimed) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func int64s(ids []uint64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// Renew implements Queue.
func (p *Postgres) Renew(owner string, ids []uint64, lease time.Duration) (Renewal, error) {
	var r Renewal
	if len(ids) == 0 {
		return r, nil
	}
	if p.isClosed() {
		return r, ErrClosed
	}
	rows, err := p.views.Query(p.ctx, `UPDATE actionflow_queue SET lease_until = clock_timestamp() + $3 * interval '1 millisecond'
		WHERE owner = $1 AND id = ANY($2) RETURNING id, canceled`, owner, int64s(ids), ms(lease))
	if err != nil {
		return r, fmt.Errorf("store: queue renew: %w", p.mapErr(err))
	}
	held := map[uint64]bool{}
	for rows.Next() {
		var id int64
		var canceled bool
		if err := rows.Scan(&id, &canceled); err != nil {
			rows.Close()
			return r, fmt.Errorf("store: queue renew: %w", p.mapErr(err))
		}
		held[uint64(id)] = true
		if canceled {
			r.Canceled = append(r.Canceled, uint64(id))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("store: queue renew: %w", p.mapErr(err))
	}
	for _, id := range ids {
		if !held[id] {
			r.Lost = append(r.Lost, id)
		}
	}
	return r, nil
}

// Release implements Queue.
func (p *Postgres) Release(owner string, ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	if p.isClosed() {
		return ErrClosed
	}
	_, err := p.views.Exec(p.ctx, `UPDATE actionflow_queue SET owner = NULL, lease_until = NULL
		WHERE owner = $1 AND id = ANY($2)`, owner, int64s(ids))
	if err != nil {
		return fmt.Errorf("store: queue release: %w", p.mapErr(err))
	}
	return nil
}

// QueuePut implements QueueTxn.
func (t *pgTxn) QueuePut(id uint64, e QueueEntry) error {
	if t.readOnly {
		return errReadOnly
	}
	var readyAt *time.Time
	if !e.ReadyAt.IsZero() {
		readyAt = &e.ReadyAt
	}
	var owner *string
	if e.Owner != "" {
		owner = &e.Owner
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO actionflow_queue (id, ready_at, owner, lease_until, canceled)
		VALUES ($1, COALESCE($2, statement_timestamp()), $3,
			CASE WHEN $3::text IS NULL THEN NULL ELSE statement_timestamp() + $4 * interval '1 millisecond' END, $5)
		ON CONFLICT (id) DO UPDATE SET ready_at = excluded.ready_at, owner = excluded.owner,
			lease_until = excluded.lease_until, canceled = excluded.canceled`,
		int64(id), readyAt, owner, ms(e.Lease), e.Canceled)
	if err != nil {
		return t.fail(err)
	}
	return nil
}

// QueueGet implements QueueTxn.
func (t *pgTxn) QueueGet(id uint64) (QueueEntry, error) {
	var e QueueEntry
	var owner *string
	var left *float64
	err := t.tx.QueryRow(t.ctx, `SELECT ready_at, owner, lease_until > statement_timestamp(),
			extract(epoch FROM lease_until - statement_timestamp()), canceled
		FROM actionflow_queue WHERE id = $1`, int64(id)).Scan(&e.ReadyAt, &owner, &e.Live, &left, &e.Canceled)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, t.fail(err)
	}
	if owner != nil {
		e.Owner = *owner
	}
	if e.Live && left != nil {
		e.Lease = time.Duration(*left * float64(time.Second))
	}
	return e, nil
}

// QueueDone implements QueueTxn.
func (t *pgTxn) QueueDone(id uint64, owner string) error {
	if t.readOnly {
		return errReadOnly
	}
	var held *string
	err := t.tx.QueryRow(t.ctx, `DELETE FROM actionflow_queue WHERE id = $1 RETURNING owner`, int64(id)).Scan(&held)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if owner != "" {
			return ErrLeaseLost // finished by another owner, or a cancel
		}
		return nil
	case err != nil:
		return t.fail(err)
	case owner != "" && (held == nil || *held != owner):
		return ErrLeaseLost
	}
	return nil
}

// QueueCancel implements QueueTxn.
func (t *pgTxn) QueueCancel(id uint64) (bool, error) {
	if t.readOnly {
		return false, errReadOnly
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE actionflow_queue SET canceled = true WHERE id = $1`, int64(id))
	if err != nil {
		return false, t.fail(err)
	}
	return tag.RowsAffected() > 0, nil
}
