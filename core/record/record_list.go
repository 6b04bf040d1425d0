package record

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/store"
)

// ListQuery is what a list reads.
type ListQuery struct {
	Filter *query.Node
	Sort   []query.SortKey
	// Page of zero size means all matching records.
	Page query.Page
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
		t, ok := d.schema().Collection(f.Target)
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
	ids, err := d.IndexIDs(tx, t, f.ForeignKey, []any{int64(value.IDOf(rec))}, 1)
	var r Record
	if err == nil && len(ids) > 0 {
		r, _ = d.load(tx, t, ids[0])
	}
	cache[key] = r
	return r, r != nil
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
		if ids, err = d.IndexIDs(tx, c, cond.Path, cond.Values, 0); err != nil {
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
			r, err := DecodeRecord(c, v)
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
