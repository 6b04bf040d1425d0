package core

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/store"
)

// EventKind says what a write did.
type EventKind int

// Kinds of record events; they combine as bits like the collection trigger's mode.
const (
	EventCreate  EventKind = 1
	EventUpdate  EventKind = 2
	EventDestroy EventKind = 4
)

func (k EventKind) String() string {
	switch k {
	case EventCreate:
		return "create"
	case EventUpdate:
		return "update"
	case EventDestroy:
		return "destroy"
	}
	return "unknown"
}

// RecordEvent is handed to record listeners inside the transaction of every write.
type RecordEvent struct {
	Collection *Collection
	Kind       EventKind
	// Record is the record after the write; for destroy, the record removed.
	Record Record
	// Previous is the record before an update.
	Previous Record
	// Origin is what the writer passed in WriteOptions (e.g. a workflow execution stack).
	Origin any
}

// RecordListener sees every write to every collection, inside its transaction; an error
// aborts the write.
type RecordListener func(tx *Tx, ev *RecordEvent) error

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

// ListQuery is what a list reads.
type ListQuery struct {
	Filter *query.Node
	Sort   []query.SortKey
	// Page of zero size means all matching records.
	Page query.Page
}

// Data is the record layer: validated reads and writes of records and their indexes. Every
// write in the product goes through it, so record listeners see them all.
type Data struct {
	schema    *schemaHolder
	store     store.Store
	hash      func(string) (string, error)
	listeners []RecordListener
	// beforeWrite checks or completes a collection's records before they are written
	// (prev is nil on create).
	beforeWrite map[string]func(tx *Tx, rec, prev Record) error
	// counts remembers index counts for lists (indexPage).
	counts *indexCounts
}

// Schema returns the current schema snapshot.
func (d *Data) Schema() *Schema { return d.schema.load() }

// Collection returns a collection by name, or a 404.
func (d *Data) Collection(name string) (*Collection, error) {
	c, ok := d.schema.get(name)
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
	return decodeRecord(c, b)
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

// prepareValues checks client values for a create (full) or an update (partial) and
// returns the stored form. System fields in values are ignored, as are association objects
// the client echoes back; a belongsTo value sets its foreign key.
func (d *Data) prepareValues(c *Collection, values map[string]any, create bool) (Record, error) {
	out := make(Record, len(values)+4)
	for k, v := range values {
		f, ok := c.Field(k)
		if !ok {
			return nil, fieldErrorf(k, "unknown field of %s", c.Name)
		}
		if f.System {
			continue
		}
		if m, isObj := v.(map[string]any); isObj && f.Type != TypeJSON && hasOperator(m) {
			op, err := prepareOperator(f, m, create)
			if err != nil {
				return nil, fieldErrorf(k, "%v", err)
			}
			out[k] = op
			continue
		}
		switch f.Type {
		case TypeBelongsTo:
			id, set, err := associationID(v)
			if err != nil {
				return nil, fieldErrorf(k, "%v", err)
			}
			if set {
				if _, dup := values[f.ForeignKey]; !dup {
					out[f.ForeignKey] = id
				}
			}
			continue
		case TypeHasOne, TypeHasMany:
			return nil, fieldErrorf(k, "%s association %q cannot be set from %s; write the %s records instead", f.Type, k, c.Name, f.Target)
		}
		cv, err := coerceValue(f, v)
		if err != nil {
			return nil, fieldErrorf(k, "%v", err)
		}
		if f.Type == TypePassword && cv != nil {
			h, err := d.hash(cv.(string))
			if err != nil {
				return nil, fieldErrorf(k, "%v", err)
			}
			cv = h
		}
		out[k] = cv
	}
	if create {
		for _, f := range c.Fields {
			if f.DefaultValue == nil || !f.Stored() {
				continue
			}
			if _, ok := out[f.Name]; !ok {
				out[f.Name] = value.Clone(f.DefaultValue)
			}
		}
	}
	for _, f := range c.Fields {
		if !f.Required || f.System {
			continue
		}
		name := f.Name
		if f.Type == TypeBelongsTo {
			name = f.ForeignKey
		}
		v, present := out[name]
		if (create && v == nil) || (present && v == nil) {
			return nil, fieldErrorf(f.Name, "is required")
		}
	}
	return out, nil
}

// associationID reads a belongsTo value: an id, {"id": n}, or null to clear it.
func associationID(v any) (any, bool, error) {
	switch x := v.(type) {
	case nil:
		return nil, true, nil
	case map[string]any:
		idv, ok := x["id"]
		if !ok {
			// An association object without id (e.g. an echoed appended record) is ignored.
			return nil, false, nil
		}
		return associationID(idv)
	}
	id, err := toInt(v)
	if err != nil || id <= 0 {
		return nil, false, fmt.Errorf("must be a record id or an object with an id")
	}
	return id, true, nil
}

// Create validates values and writes a new record.
func (d *Data) Create(tx *Tx, c *Collection, values map[string]any, w WriteOptions) (Record, error) {
	rec, err := d.prepareValues(c, values, true)
	if err != nil {
		return nil, err
	}
	return d.insert(tx, c, rec, w)
}

// CreateStored writes a new record from values already in stored form, which belong to
// the record from then on: each value is of its field's type as Get returns it (int64,
// float64, string, bool or nil; a date as a FormatTime string; a JSON field any of those,
// or map[string]any and []any of them). Unlike Create it neither checks, converts
// nor copies the values and sets no defaults; foreign keys, indexes and listeners are
// handled as for any write. It is for a plugin's own records on a hot path: the workflow
// engine writes an execution per run with it.
func (d *Data) CreateStored(tx *Tx, c *Collection, rec Record, w WriteOptions) (Record, error) {
	return d.insert(tx, c, rec, w)
}

func (d *Data) insert(tx *Tx, c *Collection, rec Record, w WriteOptions) (Record, error) {
	if err := d.checkForeignKeys(tx, c, rec, nil); err != nil {
		return nil, err
	}
	if f := d.beforeWrite[c.Name]; f != nil {
		if err := f(tx, rec, nil); err != nil {
			return nil, err
		}
	}
	id := w.ID
	if id == 0 {
		var err error
		if id, err = d.NewID(c); err != nil {
			return nil, err
		}
	}
	now := FormatTime(time.Now())
	rec["id"] = int64(id)
	rec["createdAt"] = now
	rec["updatedAt"] = now
	if w.UserID > 0 {
		rec["createdById"] = int64(w.UserID)
		rec["updatedById"] = int64(w.UserID)
	} else {
		rec["createdById"] = nil
		rec["updatedById"] = nil
	}
	if err := d.writeIndexes(tx, c, id, nil, rec); err != nil {
		return nil, err
	}
	if err := d.put(tx, c, id, rec); err != nil {
		return nil, err
	}
	return rec, d.emit(tx, &RecordEvent{Collection: c, Kind: EventCreate, Record: rec, Origin: w.Origin})
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
	return querySchema{s: d.schema.load(), c: c}
}

func (d *Data) put(tx *Tx, c *Collection, id uint64, rec Record) error {
	b, err := marshalJSON(rec)
	if err != nil {
		return fmt.Errorf("core: encode %s %d: %w", c.Name, id, err)
	}
	if err := tx.Set(store.RecordKey(c.Name, id), b); err != nil {
		return fmt.Errorf("core: write %s %d: %w", c.Name, id, err)
	}
	return nil
}

func (d *Data) emit(tx *Tx, ev *RecordEvent) error {
	for _, l := range d.listeners {
		if err := l(tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// checkForeignKeys makes sure every belongsTo foreign key that changed points at a record.
func (d *Data) checkForeignKeys(tx *Tx, c *Collection, rec, prev Record) error {
	s := d.schema.load()
	for _, f := range c.Fields {
		if f.Type != TypeBelongsTo || f.System {
			continue
		}
		v, ok := rec[f.ForeignKey].(int64)
		if !ok || (prev != nil && prev[f.ForeignKey] == rec[f.ForeignKey]) {
			continue
		}
		t, ok := s.Collection(f.Target)
		if !ok {
			continue
		}
		exists, err := tx.Has(store.RecordKey(t.Name, uint64(v)))
		if err != nil {
			return fmt.Errorf("core: check %s: %w", f.Name, err)
		}
		if !exists {
			return fieldErrorf(f.Name, "%s %d does not exist", t.Name, v)
		}
	}
	return nil
}

// writeIndexes moves the unique and secondary index entries of record id from prev to rec
// (prev nil: a new record; rec nil: a removed one).
func (d *Data) writeIndexes(tx *Tx, c *Collection, id uint64, prev, rec Record) error {
	for _, f := range c.Fields {
		if !f.Unique && !f.Indexed() {
			continue
		}
		var old, cur any
		if prev != nil {
			old = prev[f.Name]
		}
		if rec != nil {
			cur = rec[f.Name]
		}
		if prev != nil && rec != nil && EqualValues(old, cur) {
			continue
		}
		if f.Unique {
			if err := d.moveUnique(tx, c, f, id, old, cur); err != nil {
				return err
			}
			continue
		}
		if k, ok := store.IndexKey(c.Name, f.Name, old, id); ok && prev != nil {
			d.counts.writing(tx, c.Name)
			if err := tx.Delete(k); err != nil {
				return fmt.Errorf("core: index %s.%s: %w", c.Name, f.Name, err)
			}
		}
		if k, ok := store.IndexKey(c.Name, f.Name, cur, id); ok {
			d.counts.writing(tx, c.Name)
			if err := tx.Set(k, nil); err != nil {
				return fmt.Errorf("core: index %s.%s: %w", c.Name, f.Name, err)
			}
		}
	}
	return nil
}

func (d *Data) moveUnique(tx *Tx, c *Collection, f *Field, id uint64, old, cur any) error {
	if k, ok := store.UniqueKey(c.Name, f.Name, old); ok {
		if err := tx.Delete(k); err != nil {
			return fmt.Errorf("core: unique index %s.%s: %w", c.Name, f.Name, err)
		}
	}
	k, ok := store.UniqueKey(c.Name, f.Name, cur)
	if !ok {
		return nil
	}
	owner, err := tx.Get(k)
	switch {
	case err == nil:
		if store.IDFromKey(owner) != id {
			return &UniqueError{Field: f.Name, Value: cur}
		}
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("core: unique index %s.%s: %w", c.Name, f.Name, err)
	}
	if err := tx.Set(k, store.EncodeID(id)); err != nil {
		return fmt.Errorf("core: unique index %s.%s: %w", c.Name, f.Name, err)
	}
	return nil
}

// EqualValues reports whether two record values are equal (deeply, for JSON values): value.Equal.
func EqualValues(a, b any) bool { return value.Equal(a, b) }

// Select returns the ids a selector picks, in id order. A missing id is a 404.
func (d *Data) Select(tx *Tx, c *Collection, sel Selector) ([]uint64, error) {
	if sel.ID > 0 {
		ok, err := tx.Has(store.RecordKey(c.Name, sel.ID))
		if err != nil {
			return nil, fmt.Errorf("core: read %s %d: %w", c.Name, sel.ID, err)
		}
		if !ok {
			return nil, &NotFoundError{Collection: c.Name, ID: sel.ID}
		}
		if sel.Filter != nil {
			rec, err := d.load(tx, c, sel.ID)
			if err != nil {
				return nil, err
			}
			if !sel.Filter.Match(d.getter(tx, c, rec, map[string]Record{})) {
				return nil, &NotFoundError{Collection: c.Name, ID: sel.ID}
			}
		}
		return []uint64{sel.ID}, nil
	}
	// An index that answers the whole filter gives the ids without reading a record.
	if cond, indexed := planIndex(c, sel.Filter); indexed && sel.Filter.Without(cond) == nil {
		return d.indexIDs(tx, c, cond.Path, cond.Values, 0)
	}
	recs, _, err := d.List(tx, c, ListQuery{Filter: sel.Filter})
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(recs))
	for i, r := range recs {
		ids[i] = value.IDOf(r)
	}
	return ids, nil
}

// Update writes values to every selected record and returns the records as written.
func (d *Data) Update(tx *Tx, c *Collection, sel Selector, values map[string]any, w WriteOptions) ([]Record, error) {
	changes, err := d.prepareValues(c, values, false)
	if err != nil {
		return nil, err
	}
	ids, err := d.Select(tx, c, sel)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		prev, err := d.load(tx, c, id)
		if err != nil {
			return nil, err
		}
		rec, err := d.update(tx, c, id, prev, changes, w, true)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// UpdateRecord is Update of one record that the caller read with Get in the same
// transaction and did not modify (prev): it does not read and decode the record again.
// That Get is the read that makes a concurrent write of the record conflict with tx.
func (d *Data) UpdateRecord(tx *Tx, c *Collection, prev Record, values map[string]any, w WriteOptions) (Record, error) {
	id := value.IDOf(prev)
	if id == 0 {
		return nil, fmt.Errorf("core: update %s: the previous record has no id", c.Name)
	}
	changes, err := d.prepareValues(c, values, false)
	if err != nil {
		return nil, err
	}
	return d.update(tx, c, id, prev, changes, w, true)
}

// UpdateStored is UpdateRecord with changes in stored form, which belong to the record
// from then on (see CreateStored): they are neither checked, converted nor copied.
func (d *Data) UpdateStored(tx *Tx, c *Collection, prev, changes Record, w WriteOptions) (Record, error) {
	id := value.IDOf(prev)
	if id == 0 {
		return nil, fmt.Errorf("core: update %s: the previous record has no id", c.Name)
	}
	return d.update(tx, c, id, prev, changes, w, false)
}

// update writes changes over record id, whose stored value is prev. With clone, the
// changes' values are copied first (Update writes the same changes to many records).
func (d *Data) update(tx *Tx, c *Collection, id uint64, prev, changes Record, w WriteOptions, clone bool) (Record, error) {
	rec := make(Record, len(prev)+len(changes))
	for k, v := range prev {
		rec[k] = v
	}
	for k, v := range changes {
		if op, isInc := v.(increment); isInc {
			// Applied to the value read in this transaction: a conflict retry re-reads it.
			sum, err := op.apply(prev[k])
			if err != nil {
				return nil, fieldErrorf(k, "%v", err)
			}
			rec[k] = sum
			continue
		}
		if clone {
			v = value.Clone(v)
		}
		rec[k] = v
	}
	rec["updatedAt"] = FormatTime(time.Now())
	if w.UserID > 0 {
		rec["updatedById"] = int64(w.UserID)
	}
	if err := d.checkForeignKeys(tx, c, rec, prev); err != nil {
		return nil, err
	}
	if f := d.beforeWrite[c.Name]; f != nil {
		if err := f(tx, rec, prev); err != nil {
			return nil, err
		}
	}
	if err := d.writeIndexes(tx, c, id, prev, rec); err != nil {
		return nil, err
	}
	if err := d.put(tx, c, id, rec); err != nil {
		return nil, err
	}
	if err := d.emit(tx, &RecordEvent{Collection: c, Kind: EventUpdate, Record: rec, Previous: prev, Origin: w.Origin}); err != nil {
		return nil, err
	}
	return rec, nil
}

// Destroy removes the selected records and returns how many went.
func (d *Data) Destroy(tx *Tx, c *Collection, sel Selector, w WriteOptions) (int, error) {
	ids, err := d.Select(tx, c, sel)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		prev, err := d.load(tx, c, id)
		if err != nil {
			return 0, err
		}
		if err := d.destroy(tx, c, id, prev, w); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// DestroyRecord deletes prev, a record the caller read with Get in the same transaction,
// without reading it again (that read is what makes a concurrent write conflict).
func (d *Data) DestroyRecord(tx *Tx, c *Collection, prev Record, w WriteOptions) error {
	id, ok := prev["id"].(int64)
	if !ok || id <= 0 {
		return fmt.Errorf("core: destroy %s: the record has no id", c.Name)
	}
	return d.destroy(tx, c, uint64(id), prev, w)
}

func (d *Data) destroy(tx *Tx, c *Collection, id uint64, prev Record, w WriteOptions) error {
	if err := d.writeIndexes(tx, c, id, prev, nil); err != nil {
		return err
	}
	if err := tx.Delete(store.RecordKey(c.Name, id)); err != nil {
		return fmt.Errorf("core: delete %s %d: %w", c.Name, id, err)
	}
	return d.emit(tx, &RecordEvent{Collection: c, Kind: EventDestroy, Record: prev, Origin: w.Origin})
}

// getter reads a (dotted) path of rec, loading to-one associations on the way; cache holds
// the associated records read during one query.
func (d *Data) getter(tx *Tx, c *Collection, rec Record, cache map[string]Record) query.Getter {
	return func(path string) (any, bool) {
		head, rest, dotted := strings.Cut(path, ".")
		if !dotted {
			v, ok := rec[path]
			return v, ok
		}
		f, ok := c.Field(head)
		if !ok || !f.IsToOne() {
			return nil, false
		}
		t, ok := d.schema.get(f.Target)
		if !ok {
			return nil, false
		}
		target, ok := d.toOne(tx, c, f, t, rec, cache)
		if !ok {
			return nil, false
		}
		return d.getter(tx, t, target, cache)(rest)
	}
}

// toOne loads the record a to-one association of rec points at.
func (d *Data) toOne(tx *Tx, c *Collection, f *Field, t *Collection, rec Record, cache map[string]Record) (Record, bool) {
	var key string
	if f.Type == TypeBelongsTo {
		id, ok := rec[f.ForeignKey].(int64)
		if !ok {
			return nil, false
		}
		key = fmt.Sprintf("%s/%d", t.Name, id)
		if r, hit := cache[key]; hit {
			return r, r != nil
		}
		r, err := d.load(tx, t, uint64(id))
		if err != nil {
			r = nil
		}
		cache[key] = r
		return r, r != nil
	}
	// hasOne: the first target record whose foreign key is rec's id.
	key = fmt.Sprintf("%s.%s=%d", t.Name, f.ForeignKey, value.IDOf(rec))
	if r, hit := cache[key]; hit {
		return r, r != nil
	}
	ids, err := d.indexIDs(tx, t, f.ForeignKey, []any{int64(value.IDOf(rec))}, 1)
	var r Record
	if err == nil && len(ids) > 0 {
		r, _ = d.load(tx, t, ids[0])
	}
	cache[key] = r
	return r, r != nil
}

// indexPage answers an id-ordered page of the records whose (secondary-indexed, not
// unique) field holds v, without collecting every matching id: the count is remembered
// between writes (indexCounts) or walks the index keys without copying them, and the page
// reads keys only up to its end. ok is false when it does not apply.
func (d *Data) indexPage(tx *Tx, c *Collection, field string, v any, desc bool, p query.Page) (out []Record, count int, ok bool, err error) {
	f, found := c.Field(field)
	if !found || f.Unique || !f.Indexed() || p.PageSize <= 0 {
		return nil, 0, false, nil
	}
	prefix, valid := store.IndexValuePrefix(c.Name, field, v)
	if !valid {
		return nil, 0, false, nil
	}
	count, known := d.counts.get(tx, c.Name, prefix)
	if !known {
		if count, err = tx.Count(prefix); err != nil {
			return nil, 0, false, fmt.Errorf("core: count %s.%s: %w", c.Name, field, err)
		}
		d.counts.put(tx, c.Name, prefix, count)
	}
	off := p.Offset()
	ids := make([]uint64, 0, min(p.PageSize, max(count-off, 0)))
	i := 0
	if off < count {
		err = tx.Scan(prefix, store.ScanOptions{KeysOnly: true, Reverse: desc}, func(k, _ []byte) error {
			if i >= off {
				ids = append(ids, store.IDFromKey(k))
				if len(ids) == p.PageSize {
					return store.StopScan
				}
			}
			i++
			return nil
		})
		if err != nil {
			return nil, 0, false, fmt.Errorf("core: index %s.%s: %w", c.Name, field, err)
		}
	}
	out = make([]Record, 0, len(ids))
	for _, id := range ids {
		r, err := d.load(tx, c, id)
		if err != nil {
			return nil, 0, false, err
		}
		out = append(out, r)
	}
	return out, count, true, nil
}

// indexIDs returns the ids of records whose field holds one of values, via the field's
// unique or secondary index, in id order; limit > 0 stops early.
func (d *Data) indexIDs(tx *Tx, c *Collection, field string, values []any, limit int) ([]uint64, error) {
	var ids []uint64
	if field == "id" {
		for _, v := range values {
			if id, err := toInt(v); err == nil && id > 0 {
				if ok, err := tx.Has(store.RecordKey(c.Name, uint64(id))); err != nil {
					return nil, err
				} else if ok {
					ids = append(ids, uint64(id))
				}
			}
		}
		slices.Sort(ids)
		return slices.Compact(ids), nil
	}
	f, ok := c.Field(field)
	if !ok {
		return nil, fmt.Errorf("core: no field %s.%s", c.Name, field)
	}
	for _, v := range values {
		if f.Unique {
			k, ok := store.UniqueKey(c.Name, field, v)
			if !ok {
				continue
			}
			b, err := tx.Get(k)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("core: unique index %s.%s: %w", c.Name, field, err)
			}
			ids = append(ids, store.IDFromKey(b))
			continue
		}
		p, ok := store.IndexValuePrefix(c.Name, field, v)
		if !ok {
			continue
		}
		err := tx.Scan(p, store.ScanOptions{KeysOnly: true}, func(k, _ []byte) error {
			ids = append(ids, store.IDFromKey(k))
			if limit > 0 && len(ids) >= limit && len(values) == 1 {
				return store.StopScan
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("core: index %s.%s: %w", c.Name, field, err)
		}
	}
	if len(values) > 1 {
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	return ids, nil
}

// planIndex picks an index-backed condition of the filter, if there is one.
func planIndex(c *Collection, n *query.Node) (query.Cond, bool) {
	if n == nil {
		return query.Cond{}, false
	}
	for _, cond := range n.IndexableEq() {
		if slices.Contains(cond.Values, nil) {
			continue // null matches missing values, which no index holds
		}
		if cond.Path == "id" {
			return cond, true
		}
		if f, ok := c.Field(cond.Path); ok && (f.Unique || f.Indexed()) {
			return cond, true
		}
	}
	return query.Cond{}, false
}

// byID reports whether the sort is plain id order (or none, which means id order).
func byID(keys []query.SortKey) (desc bool, ok bool) {
	switch {
	case len(keys) == 0:
		return false, true
	case len(keys) == 1 && keys[0].Path == "id":
		return keys[0].Desc, true
	}
	return false, false
}

// List returns the page of matching records (raw) and the total count of matches.
func (d *Data) List(tx *Tx, c *Collection, q ListQuery) ([]Record, int, error) {
	cond, indexed := planIndex(c, q.Filter)
	rest := q.Filter
	desc, idOrder := byID(q.Sort)
	if indexed && idOrder && len(cond.Values) == 1 && q.Filter.Without(cond) == nil {
		if out, count, ok, err := d.indexPage(tx, c, cond.Path, cond.Values[0], desc, q.Page); ok || err != nil {
			return out, count, err
		}
	}
	var ids []uint64
	if indexed {
		var err error
		if ids, err = d.indexIDs(tx, c, cond.Path, cond.Values, 0); err != nil {
			return nil, 0, err
		}
		rest = q.Filter.Without(cond)
	}

	// Fast path: the index (or nothing) answers the whole filter and the order is id
	// order, so only the page's records are read.
	if rest == nil && idOrder {
		if !indexed {
			var err error
			if ids, err = d.allIDs(tx, c); err != nil {
				return nil, 0, err
			}
		}
		if desc {
			slices.Reverse(ids)
		}
		count := len(ids)
		ids = pageOf(ids, q.Page)
		out := make([]Record, 0, len(ids))
		for _, id := range ids {
			r, err := d.load(tx, c, id)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, r)
		}
		return out, count, nil
	}

	cache := map[string]Record{}
	var matched []Record
	keep := func(r Record) {
		if rest == nil || rest.Match(d.getter(tx, c, r, cache)) {
			matched = append(matched, r)
		}
	}
	if indexed {
		for _, id := range ids {
			r, err := d.load(tx, c, id)
			if err != nil {
				return nil, 0, err
			}
			keep(r)
		}
	} else {
		err := tx.Scan(store.RecordPrefix(c.Name), store.ScanOptions{}, func(_, v []byte) error {
			r, err := decodeRecord(c, v)
			if err != nil {
				return err
			}
			keep(r)
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	if idOrder {
		if desc {
			slices.Reverse(matched)
		}
	} else {
		sort.SliceStable(matched, func(i, j int) bool {
			return query.Compare(q.Sort, d.getter(tx, c, matched[i], cache), d.getter(tx, c, matched[j], cache)) < 0
		})
	}
	return pageOf(matched, q.Page), len(matched), nil
}

// IDs returns up to n record ids of a collection in id order (descending with desc),
// reading keys only: the oldest or newest records without counting them all. A from other
// than 0 starts there: ids from it up (down with desc). Starting past the ids a caller
// deleted skips their tombstones, which a scan from the first key walks until compaction
// has dropped them.
func (d *Data) IDs(tx *Tx, c *Collection, from uint64, n int, desc bool) ([]uint64, error) {
	ids := make([]uint64, 0, min(n, 1024))
	opts := store.ScanOptions{KeysOnly: true, Reverse: desc}
	if from != 0 {
		opts.Start = store.RecordKey(c.Name, from)
	}
	err := tx.Scan(store.RecordPrefix(c.Name), opts, func(k, _ []byte) error {
		if len(ids) >= n {
			return store.StopScan
		}
		ids = append(ids, store.IDFromKey(k))
		return nil
	})
	return ids, err
}

func (d *Data) allIDs(tx *Tx, c *Collection) ([]uint64, error) {
	var ids []uint64
	err := tx.Scan(store.RecordPrefix(c.Name), store.ScanOptions{KeysOnly: true}, func(k, _ []byte) error {
		ids = append(ids, store.IDFromKey(k))
		return nil
	})
	return ids, err
}

func pageOf[T any](all []T, p query.Page) []T {
	if p.PageSize <= 0 {
		return all
	}
	off := p.Offset()
	if off >= len(all) {
		return nil
	}
	end := min(off+p.PageSize, len(all))
	return all[off:end]
}

// Count returns the number of records of a collection matching a filter.
func (d *Data) Count(tx *Tx, c *Collection, f *query.Node) (int, error) {
	_, n, err := d.List(tx, c, ListQuery{Filter: f, Page: query.Page{Page: 1, PageSize: 1}})
	return n, err
}

// Match reports whether a raw record matches a filter; dotted paths load to-one
// associations in tx.
func (d *Data) Match(tx *Tx, c *Collection, rec Record, f *query.Node) bool {
	return f.Match(d.getter(tx, c, rec, map[string]Record{}))
}
