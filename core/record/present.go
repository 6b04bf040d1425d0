package record

import (
	"fmt"
	"strings"

	"github.com/actionflow/actionflow/core/value"
)

// appendTree is a parsed "appends" list: association name → nested appends.
type appendTree map[string]appendTree

// parseAppends checks that each dotted path walks associations of c and builds the tree.
func (d *Data) parseAppends(c *Collection, paths []string, param string) (appendTree, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	s := d.schema()
	tree := appendTree{}
	for _, p := range paths {
		cur, node := c, tree
		for _, seg := range strings.Split(p, ".") {
			f, ok := cur.Field(seg)
			if !ok || !f.IsAssociation() {
				return nil, fieldErrorf(param, "%q is not an association of %s", p, cur.Name)
			}
			t, ok := s.Collection(f.Target)
			if !ok {
				return nil, fieldErrorf(param, "%q: target collection %q does not exist", p, f.Target)
			}
			next, ok := node[seg]
			if !ok {
				next = appendTree{}
				node[seg] = next
			}
			cur, node = t, next
		}
	}
	return tree, nil
}

// Present shapes raw records for output: hidden fields removed, the appends loaded, and,
// when fields is not empty, only those fields (associations named in fields are appended).
func (d *Data) Present(tx *Tx, c *Collection, recs []Record, appends, fields []string) ([]Record, error) {
	var names map[string]bool
	if len(fields) > 0 {
		names = make(map[string]bool, len(fields))
		for _, f := range fields {
			fd, ok := c.Field(f)
			if !ok {
				return nil, fieldErrorf("fields", "unknown field %q of %s", f, c.Name)
			}
			names[f] = true
			if fd.IsAssociation() {
				appends = append(appends, f)
			}
		}
	}
	tree, err := d.parseAppends(c, appends, "appends")
	if err != nil {
		return nil, err
	}
	cache := map[string]Record{}
	out := make([]Record, len(recs))
	for i, r := range recs {
		o, err := d.present(tx, c, r, tree, names, cache, 0)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

// PresentOne is Present for one record.
func (d *Data) PresentOne(tx *Tx, c *Collection, r Record, appends, fields []string) (Record, error) {
	out, err := d.Present(tx, c, []Record{r}, appends, fields)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

const maxAppendDepth = 8

func (d *Data) present(tx *Tx, c *Collection, r Record, tree appendTree, names map[string]bool, cache map[string]Record, depth int) (Record, error) {
	out := make(Record, len(r)+len(tree))
	for k, v := range r {
		f, ok := c.Field(k)
		if ok && f.HiddenOnOutput() {
			continue
		}
		if names != nil && !names[k] {
			continue
		}
		out[k] = v
	}
	if depth >= maxAppendDepth {
		return out, nil
	}
	s := d.schema()
	for name, sub := range tree {
		f, _ := c.Field(name)
		t, ok := s.Collection(f.Target)
		if !ok {
			continue
		}
		if f.IsToOne() {
			target, ok := d.toOne(tx, c, f, t, r, cache)
			if !ok {
				out[name] = nil
				continue
			}
			o, err := d.present(tx, t, target, sub, nil, cache, depth+1)
			if err != nil {
				return nil, err
			}
			out[name] = o
			continue
		}
		ids, err := d.IndexIDs(tx, t, f.ForeignKey, []any{int64(value.IDOf(r))}, 0)
		if err != nil {
			return nil, err
		}
		list := make([]any, 0, len(ids))
		for _, id := range ids {
			rec, err := d.load(tx, t, id)
			if err != nil {
				return nil, fmt.Errorf("core: append %s: %w", name, err)
			}
			o, err := d.present(tx, t, rec, sub, nil, cache, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, o)
		}
		out[name] = list
	}
	return out, nil
}

// Desensitize returns a copy of a record without its hidden and password fields.
func Desensitize(c *Collection, r Record) Record {
	out := make(Record, len(r))
	for k, v := range r {
		if f, ok := c.Field(k); ok && f.HiddenOnOutput() {
			continue
		}
		out[k] = value.Clone(v)
	}
	return out
}

// CheckAppends reports whether each path walks associations of c (the appends rule).
func (d *Data) CheckAppends(c *Collection, paths []string) error {
	_, err := d.parseAppends(c, paths, "appends")
	return err
}

// ToOnePath follows a dotted path of to-one associations from c and returns the
// collection it ends at.
func (d *Data) ToOnePath(c *Collection, path string) (*Collection, error) {
	s := d.schema()
	cur := c
	for _, seg := range strings.Split(path, ".") {
		f, ok := cur.Field(seg)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q", cur.Name, seg)
		}
		if !f.IsToOne() {
			return nil, fmt.Errorf("%s.%s is not a to-one association", cur.Name, seg)
		}
		t, ok := s.Collection(f.Target)
		if !ok {
			return nil, fmt.Errorf("%s.%s: target collection %q does not exist", cur.Name, seg, f.Target)
		}
		cur = t
	}
	return cur, nil
}

// Related loads the record at the end of a to-one path from rec (raw); nil when an
// association on the way is empty.
func (d *Data) Related(tx *Tx, c *Collection, rec Record, path string) (*Collection, Record, error) {
	s := d.schema()
	cur, r := c, rec
	cache := map[string]Record{}
	for _, seg := range strings.Split(path, ".") {
		f, ok := cur.Field(seg)
		if !ok || !f.IsToOne() {
			return nil, nil, fmt.Errorf("%s.%s is not a to-one association", cur.Name, seg)
		}
		t, ok := s.Collection(f.Target)
		if !ok {
			return nil, nil, fmt.Errorf("%s.%s: target collection %q does not exist", cur.Name, seg, f.Target)
		}
		next, found := d.toOne(tx, cur, f, t, r, cache)
		cur = t
		if !found {
			return cur, nil, nil
		}
		r = next
	}
	return cur, r, nil
}
