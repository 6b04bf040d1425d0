// Package record is actionflow's record layer: validated reads and writes of records and
// their indexes (Data), the schema types they follow (Schema, Collection, Field), the
// transaction they run in (Tx), record values, lists, presentation, the record JSON decoder
// and encoder, and the record errors, which carry no HTTP status. core builds the App on it
// and keeps aliases of its names (core.Data, core.Tx, ...); it imports core/query,
// core/value and store, never core.
package record

import (
	"errors"
	"fmt"

	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/store"
)

// WriteOptions says who writes and on whose behalf.
type WriteOptions struct {
	UserID uint64
	Origin any
	// ID, on create, is an id taken earlier with NewID (0: take the next one).
	ID uint64
}

// Selector picks the records of an update or destroy: one id, or a filter.
type Selector struct {
	ID     uint64
	Filter *query.Node
}

// Data is the record layer: validated reads and writes of records and their indexes. Every
// write in the product goes through it, so record listeners see them all. Its files, by
// job: records.go (Data, reads), record_write.go (create, update, destroy, validation),
// record_index.go (index upkeep and the index planner), record_list.go (the list engine),
// record_events.go (record events), record_errors.go, values.go, present.go.
type Data struct {
	schema    func() *Schema
	store     store.Store
	hash      func(string) (string, error)
	listeners []RecordListener
	// beforeWrite checks or completes a collection's records before they are written
	// (prev is nil on create).
	beforeWrite map[string]func(tx *Tx, rec, prev Record) error
	// counts remembers index counts for lists (indexPage); nil on a shared store.
	counts *indexCounts
}

// New makes the record layer over st. schema returns the current schema snapshot (the
// app's, reloaded as collections change); hash hashes the values of password fields.
func New(st store.Store, schema func() *Schema, hash func(string) (string, error)) *Data {
	return &Data{schema: schema, store: st, hash: hash, counts: newIndexCounts()}
}

// SharedStore tells the record layer that other processes write the store too (several
// nodes on PostgreSQL): it then remembers no index counts, which only the writes of this
// process keep exact, and counts in the store every time. Call it before any transaction.
func (d *Data) SharedStore() { d.counts = nil }

// Listen adds a record listener: it sees every later write, inside its transaction.
func (d *Data) Listen(l RecordListener) { d.listeners = append(d.listeners, l) }

// BeforeWrite sets the check of a collection's records before they are written (prev is
// nil on create): it may refuse them or complete rec. One per collection; the last wins.
func (d *Data) BeforeWrite(collection string, check func(tx *Tx, rec, prev Record) error) {
	if d.beforeWrite == nil {
		d.beforeWrite = map[string]func(tx *Tx, rec, prev Record) error{}
	}
	d.beforeWrite[collection] = check
}

// Schema returns the current schema snapshot.
func (d *Data) Schema() *Schema { return d.schema() }

// Collection returns a collection by name, or a 404.
func (d *Data) Collection(name string) (*Collection, error) {
	c, ok := d.schema().Collection(name)
	if !ok {
		return nil, &NotFoundError{Collection: name}
	}
	return c, nil
}

func (d *Data) load(tx *Tx, c *Collection, id uint64) (Record, error) {
	b, err := tx.Get(store.RecordKey(c.Name, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &NotFoundError{Collection: c.Name, ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("core: read %s %d: %w", c.Name, id, err)
	}
	return DecodeRecord(c, b)
}

// Get reads one record (raw: hidden fields included, no associations).
func (d *Data) Get(tx *Tx, c *Collection, id uint64) (Record, error) {
	return d.load(tx, c, id)
}

// Exists reports whether a record is stored, without reading or decoding it; the key is
// among tx's reads, so a concurrent write of the record conflicts with tx.
func (d *Data) Exists(tx *Tx, c *Collection, id uint64) (bool, error) {
	return tx.Has(store.RecordKey(c.Name, id))
}

// NewID takes the next record id of a collection, for a create that needs its id before
// it writes (WriteOptions.ID).
func (d *Data) NewID(c *Collection) (uint64, error) {
	id, err := d.store.NextID("r/" + c.Name)
	if err != nil {
		return 0, fmt.Errorf("core: new %s id: %w", c.Name, err)
	}
	return id, nil
}

// QuerySchema resolves filter and sort paths of a collection, for query.ParseFilterValue
// and query.ParseSort.
func (d *Data) QuerySchema(c *Collection) query.Schema {
	return querySchema{s: d.schema(), c: c}
}

func (d *Data) PutRaw(tx *Tx, c *Collection, id uint64, rec Record) error {
	b, err := marshalJSON(rec)
	if err != nil {
		return fmt.Errorf("core: encode %s %d: %w", c.Name, id, err)
	}
	if err := tx.Set(store.RecordKey(c.Name, id), b); err != nil {
		return fmt.Errorf("core: write %s %d: %w", c.Name, id, err)
	}
	return nil
}
