package record

import (
	"fmt"
	"time"

	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/store"
)

// prepareValues checks client values for a create (full) or an update (partial) and
// returns the stored form. System fields in values are ignored, as are association objects
// the client echoes back; a belongsTo value sets its foreign key.
func (d *Data) prepareValues(c *Collection, values map[string]any, create bool) (Record, error) {
	out := make(Record, len(values)+4)
	for k, v := range values {
		r, err := checkValue(c, k, v, create)
		if err != nil {
			return nil, err
		}
		f := r.f
		switch {
		case f.System:
			continue
		case f.Type == TypeBelongsTo:
			if fk, ok := c.Field(f.ForeignKey); r.set && ok && fk.System {
				// A belongsTo never writes a system field (a definition stored before
				// checkField refused such a foreign key).
				continue
			}
			if r.set {
				if _, dup := values[f.ForeignKey]; !dup {
					out[f.ForeignKey] = r.id
				}
			}
			continue
		case f.Type == TypePassword && r.value != nil:
			h, err := d.hash(r.value.(string))
			if err != nil {
				return nil, fieldErrorf(k, "%v", err)
			}
			r.value = h
		}
		out[k] = r.value
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
	c = tx.current(c)
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
	c = tx.current(c)
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
	if err := d.PutRaw(tx, c, id, rec); err != nil {
		return nil, err
	}
	return rec, d.emit(tx, &RecordEvent{Collection: c, Kind: EventCreate, Record: rec, Origin: w.Origin})
}

// checkForeignKeys makes sure every belongsTo foreign key that changed points at a record.
func (d *Data) checkForeignKeys(tx *Tx, c *Collection, rec, prev Record) error {
	s := d.schema()
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
		return d.IndexIDs(tx, c, cond.Path, cond.Values, 0)
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
	c = tx.current(c)
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
	c = tx.current(c)
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
	c = tx.current(c)
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
	if err := d.PutRaw(tx, c, id, rec); err != nil {
		return nil, err
	}
	if err := d.emit(tx, &RecordEvent{Collection: c, Kind: EventUpdate, Record: rec, Previous: prev, Origin: w.Origin}); err != nil {
		return nil, err
	}
	return rec, nil
}

// Destroy removes the selected records and returns how many went.
func (d *Data) Destroy(tx *Tx, c *Collection, sel Selector, w WriteOptions) (int, error) {
	c = tx.current(c)
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
	c = tx.current(c)
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
