package record

import (
	"errors"
	"fmt"
	"slices"

	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/store"
)

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
			return &UniqueError{Field: f.Name, Value: cur, Hidden: f.HiddenOnOutput()}
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

// IndexIDs returns the ids of records whose field holds one of values, via the field's
// unique or secondary index, in id order; limit > 0 stops early.
func (d *Data) IndexIDs(tx *Tx, c *Collection, field string, values []any, limit int) ([]uint64, error) {
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

// IndexExisting builds the index of a field added to a collection that has records; for a
// unique field, duplicates among existing values are a UniqueError.
func (d *Data) IndexExisting(tx *Tx, c *Collection, f *Field) error {
	return tx.Scan(store.RecordPrefix(c.Name), store.ScanOptions{}, func(k, v []byte) error {
		r, err := DecodeRecord(c, v)
		if err != nil {
			return err
		}
		id := store.IDFromKey(k)
		if f.Unique {
			return d.moveUnique(tx, c, f, id, nil, r[f.Name])
		}
		if key, ok := store.IndexKey(c.Name, f.Name, r[f.Name], id); ok {
			d.counts.writing(tx, c.Name)
			return tx.Set(key, nil)
		}
		return nil
	})
}

// MarkIndexWrite tells the index counts that tx writes (or deletes) index entries of coll
// outside Data's writes, so that no count taken before it commits is used after.
func (d *Data) MarkIndexWrite(tx *Tx, coll string) { d.counts.writing(tx, coll) }

// BeginIndexWrites tells the index counts that coll's index entries change outside any Tx
// (a purge) until the returned end is called.
func (d *Data) BeginIndexWrites(coll string) (end func()) {
	d.counts.begin(coll)
	return func() { d.counts.end(coll) }
}
