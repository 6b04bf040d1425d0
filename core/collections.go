package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/actionflow/actionflow/core/value"
	"github.com/actionflow/actionflow/store"
)

// loadSchema reads every collection definition from the store.
func (a *App) loadSchema() error {
	var defs []*Collection
	err := a.store.View(func(tx store.Txn) error {
		return tx.Scan(store.CollectionPrefix(), store.ScanOptions{}, func(k, v []byte) error {
			var c Collection
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("core: decode collection %s: %w", k, err)
			}
			c.Reindex()
			defs = append(defs, &c)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("core: load collections: %w", err)
	}
	a.schema.store(buildSchema(defs))
	return nil
}

// storedDefs returns the stored (not derived) definitions, for rebuilding.
func (a *App) saveCollection(tx *Tx, c *Collection) error {
	// Derived foreign keys are not stored: they come back from the owning association.
	stored := &Collection{Name: c.Name, Title: c.Title, System: c.System}
	for _, f := range c.Fields {
		if f.Implicit && !a.ownFK(c, f) {
			continue
		}
		stored.Fields = append(stored.Fields, f)
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("core: encode collection %s: %w", c.Name, err)
	}
	if err := tx.Set(store.CollectionKey(c.Name), b); err != nil {
		return fmt.Errorf("core: save collection %s: %w", c.Name, err)
	}
	return a.schemaVersion.Bump(tx) // every node reloads its schema
}

// ownFK reports whether an implicit field is the foreign key of one of c's own belongsTo
// fields (stored with c), as opposed to one derived from another collection's hasMany.
func (a *App) ownFK(c *Collection, f *Field) bool {
	for _, o := range c.Fields {
		if o.Type == TypeBelongsTo && o.ForeignKey == f.Name {
			return true
		}
	}
	return false
}

// storedCollection reads a collection definition as stored, in tx.
func storedCollection(tx *Tx, name string) (*Collection, error) {
	b, err := tx.Get(store.CollectionKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFound("collection %q not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("core: read collection %s: %w", name, err)
	}
	var c Collection
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("core: decode collection %s: %w", name, err)
	}
	c.Reindex()
	return &c, nil
}

// ensureCollection creates a system collection, or adds the fields it lacks.
func (a *App) ensureCollection(def *Collection) error {
	err := a.Update(context.Background(), func(tx *Tx) error {
		cur, err := storedCollection(tx, def.Name)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusNotFound {
				return err
			}
			c, err := newCollection(def)
			if err != nil {
				return err
			}
			return a.saveCollection(tx, c)
		}
		changed := false
		for i, f := range def.Fields {
			if _, ok := cur.Field(f.Name); ok {
				continue
			}
			if err := cur.AddField(f, fmt.Sprintf("fields[%d]", i)); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			return nil
		}
		return a.saveCollection(tx, cur)
	})
	if err != nil {
		return fmt.Errorf("core: ensure collection %s: %w", def.Name, err)
	}
	return nil
}

// collectionInput is the body of collections:create and collections:update.
type collectionInput struct {
	Name   string   `json:"name"`
	Title  string   `json:"title"`
	Fields []*Field `json:"fields"`
}

func decodeInput(ac *ActionContext, v any) error {
	if len(ac.Params.Body) == 0 {
		return BadRequest("body", "a JSON object is required")
	}
	if err := decodeJSON(ac.Params.Body, v); err != nil {
		return BadRequest("body", "%v", err)
	}
	return nil
}

func (a *App) collectionsResource() map[string]Action {
	return map[string]Action{
		"list": {Tx: TxRead, Handler: func(ac *ActionContext) error {
			list := a.schema.load().Collections()
			ac.Result = &Result{Data: list, Meta: map[string]any{"count": len(list)}}
			return nil
		}},
		"get": {Tx: TxRead, Handler: func(ac *ActionContext) error {
			c, err := a.data.Collection(ac.Params.FilterByTk)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: c}
			return nil
		}},
		"create": {Tx: TxWrite, Handler: func(ac *ActionContext) error {
			var in collectionInput
			if err := decodeInput(ac, &in); err != nil {
				return err
			}
			if _, err := storedCollection(ac.Tx, in.Name); err == nil {
				return Conflict("name", "collection %q already exists", in.Name)
			}
			if _, taken := a.resources[in.Name]; taken {
				return BadRequest("name", "%q is a reserved resource name", in.Name)
			}
			c, err := newCollection(&Collection{Name: in.Name, Title: in.Title, Fields: in.Fields})
			if err != nil {
				return err
			}
			for _, f := range c.Fields {
				if err := a.targetEditable(ac, f); err != nil {
					return err
				}
			}
			if err := a.saveCollection(ac.Tx, c); err != nil {
				return err
			}
			ac.Result = &Result{Data: c}
			return nil
		}},
		"update": {Tx: TxWrite, Handler: func(ac *ActionContext) error {
			var in struct {
				Title  *string           `json:"title"`
				Fields []json.RawMessage `json:"fields"`
			}
			if err := decodeInput(ac, &in); err != nil {
				return err
			}
			c, err := a.editableCollection(ac)
			if err != nil {
				return err
			}
			if in.Fields != nil {
				return BadRequest("fields", "add fields with collections/%s/fields:create", c.Name)
			}
			if in.Title != nil {
				c.Title = *in.Title
			}
			if err := a.saveCollection(ac.Tx, c); err != nil {
				return err
			}
			ac.Result = &Result{Data: c}
			return nil
		}},
		"destroy": {Tx: TxWrite, Handler: func(ac *ActionContext) error {
			c, err := a.editableCollection(ac)
			if err != nil {
				return err
			}
			if err := ac.Tx.Delete(store.CollectionKey(c.Name)); err != nil {
				return fmt.Errorf("core: delete collection %s: %w", c.Name, err)
			}
			if err := a.schemaVersion.Bump(ac.Tx); err != nil {
				return err
			}
			// After the schema reload that Bump registered.
			ac.Tx.OnCommit(func() { a.purgeCollection(c.Name) })
			ac.Result = &Result{Data: 1}
			return nil
		}},
	}
}

// editableCollection reads the collection named by filterByTk for a schema change; system
// collections are refused.
func (a *App) editableCollection(ac *ActionContext) (*Collection, error) {
	name := ac.Params.FilterByTk
	if name == "" {
		return nil, BadRequest("filterByTk", "the collection name is required")
	}
	c, err := storedCollection(ac.Tx, name)
	if err != nil {
		return nil, err
	}
	if c.System {
		return nil, Forbidden("%s is a system collection", name)
	}
	return c, nil
}

// purgeCollection removes the records and index entries of a destroyed collection, in
// batches so that no transaction grows too big.
func (a *App) purgeCollection(name string) {
	prefixes := append([][]byte{store.RecordPrefix(name)}, store.CollectionIndexPrefixes(name)...)
	defer a.data.BeginIndexWrites(name)()
	for _, p := range prefixes {
		for {
			var keys [][]byte
			err := a.store.View(func(tx store.Txn) error {
				return tx.Scan(p, store.ScanOptions{KeysOnly: true}, func(k, _ []byte) error {
					keys = append(keys, k)
					if len(keys) >= store.SmallWrites {
						return store.StopScan
					}
					return nil
				})
			})
			if err == nil && len(keys) > 0 {
				err = a.store.Update(func(tx store.Txn) error {
					for _, k := range keys {
						if err := tx.Delete(k); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err != nil {
				a.log.Error("purge collection", "collection", name, "err", err)
				return
			}
			if len(keys) == 0 {
				break
			}
		}
	}
}

func (a *App) fieldsResource() map[string]Action {
	return map[string]Action{
		"create": {Tx: TxWrite, Handler: func(ac *ActionContext) error {
			c, err := storedCollection(ac.Tx, ac.SourceID)
			if err != nil {
				return err
			}
			if err := fieldsEditable(ac, c); err != nil {
				return err
			}
			var f Field
			if err := decodeInput(ac, &f); err != nil {
				return err
			}
			if err := c.AddField(&f, "body"); err != nil {
				return err
			}
			added, _ := c.Field(f.Name)
			if err := a.targetEditable(ac, added); err != nil {
				return err
			}
			if added.Required && added.DefaultValue == nil {
				ids, err := a.data.IDs(ac.Tx, c, 0, 1, false)
				if err != nil {
					return fmt.Errorf("core: read %s: %w", c.Name, err)
				}
				if len(ids) > 0 {
					return BadRequest(f.Name, "a required field needs a defaultValue when %s has records", c.Name)
				}
			}
			if added.Unique || added.Indexed() {
				if err := a.indexExisting(ac.Tx, c, added); err != nil {
					return err
				}
			}
			if err := a.saveCollection(ac.Tx, c); err != nil {
				return err
			}
			ac.Result = &Result{Data: added}
			return nil
		}},
		"destroy": {Tx: TxWrite, Handler: func(ac *ActionContext) error {
			c, err := storedCollection(ac.Tx, ac.SourceID)
			if err != nil {
				return err
			}
			if err := fieldsEditable(ac, c); err != nil {
				return err
			}
			purges, err := a.removeField(ac.Tx, c, ac.Params.FilterByTk)
			if err != nil {
				return err
			}
			if err := a.saveCollection(ac.Tx, c); err != nil {
				return err
			}
			// After the schema reload that saveCollection registered: no write of this
			// node knows the fields any more when their values go, and a write of another
			// node that read the schema version before this commit conflicts and runs again.
			ac.Tx.OnCommit(func() {
				for _, p := range purges {
					a.purgeField(p[0], p[1])
				}
			})
			ac.Result = &Result{Data: 1}
			return nil
		}},
		"list": {Tx: TxRead, Handler: func(ac *ActionContext) error {
			c, err := a.data.Collection(ac.SourceID)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: c.Fields, Meta: map[string]any{"count": len(c.Fields)}}
			return nil
		}},
	}
}

// indexExisting builds the index of a field added to a collection that has records; for a
// unique field, duplicates among existing values are a 409.
func (a *App) indexExisting(tx *Tx, c *Collection, f *Field) error {
	return a.data.IndexExisting(tx, c, f)
}

// fieldsEditable says whether the role of ac may add or remove fields of c (API.md §3):
// only root changes the fields of users; the other system collections (roles, and those
// plugins define, such as workflows and executions) have a fixed schema.
func fieldsEditable(ac *ActionContext, c *Collection) error {
	switch {
	case !c.System:
		return nil
	case c.Name == UsersCollection && ac.Role == RoleRoot:
		return nil
	case c.Name == UsersCollection:
		return Forbidden("only root may change the fields of users")
	}
	return Forbidden("the fields of the system collection %s are fixed", c.Name)
}

// removeField takes field name out of the stored definition c and returns the fields,
// as {collection, field}, whose stored values and index entries must go once that is
// committed: the field; for a belongsTo, its foreign key when the server added it; for a
// hasOne or hasMany, the foreign key derived into its target when nothing else declares
// or derives it.
func (a *App) removeField(tx *Tx, c *Collection, name string) ([][2]string, error) {
	if name == "" {
		return nil, BadRequest("filterByTk", "the field name is required")
	}
	f, ok := c.Field(name)
	if !ok {
		if live, ok := a.schema.get(c.Name); ok {
			if lf, ok := live.Field(name); ok && lf.Implicit {
				return nil, BadRequest(name, "is the foreign key of another collection's association; destroy that association instead")
			}
		}
		return nil, NotFound("field %q of %s not found", value.Truncate(name, 64), c.Name)
	}
	if f.System {
		return nil, BadRequest(name, "is a system field")
	}
	if c.Name == UsersCollection {
		def := usersCollection()
		def.Reindex()
		if _, builtin := def.Field(name); builtin {
			return nil, BadRequest(name, "is a system field of users")
		}
	}
	for _, o := range c.Fields {
		if o.Type == TypeBelongsTo && o.ForeignKey == name {
			return nil, BadRequest(name, "is the foreign key of %s; destroy that association instead", o.Name)
		}
	}
	purges := [][2]string{{c.Name, name}}
	drop := map[string]bool{name: true}
	if f.Type == TypeBelongsTo && !sharedFK(c, f) {
		if fk, ok := c.Field(f.ForeignKey); ok && fk.Implicit {
			drop[fk.Name] = true
			purges = append(purges, [2]string{c.Name, fk.Name})
		}
	}
	if f.Type == TypeHasMany || f.Type == TypeHasOne {
		derived, err := a.derivedOnly(tx, c, f)
		if err != nil {
			return nil, err
		}
		if derived {
			purges = append(purges, [2]string{f.Target, f.ForeignKey})
		}
	}
	kept := c.Fields[:0]
	for _, x := range c.Fields {
		if !drop[x.Name] {
			kept = append(kept, x)
		}
	}
	c.Fields = kept
	c.Reindex()
	return purges, nil
}

// sharedFK reports whether another belongsTo of c uses f's foreign key.
func sharedFK(c *Collection, f *Field) bool {
	for _, o := range c.Fields {
		if o != f && o.Type == TypeBelongsTo && o.ForeignKey == f.ForeignKey {
			return true
		}
	}
	return false
}

// targetEditable refuses a hasOne or hasMany field whose target is a system collection
// whose fields the role may not change: it would add a foreign key to that collection.
func (a *App) targetEditable(ac *ActionContext, f *Field) error {
	if f.Type != TypeHasOne && f.Type != TypeHasMany {
		return nil
	}
	t, ok := a.schema.get(f.Target)
	if !ok {
		return nil
	}
	if err := fieldsEditable(ac, t); err != nil {
		return Forbidden("field %s: %s would add the foreign key %s to %s: %s", f.Name, f.Type, f.ForeignKey, t.Name, err.Error())
	}
	return nil
}

// derivedOnly reports whether the foreign key that c's hasOne/hasMany field f puts into
// its target exists only because of f: the target does not declare it and no other
// association derives it.
func (a *App) derivedOnly(tx *Tx, c *Collection, f *Field) (bool, error) {
	t, err := storedCollection(tx, f.Target)
	if err != nil {
		return false, nil // no target: nothing was derived
	}
	if _, declared := t.Field(f.ForeignKey); declared {
		return false, nil
	}
	for _, o := range a.schema.load().Collections() {
		for _, g := range o.Fields {
			if g == f || (o.Name == c.Name && g.Name == f.Name) {
				continue
			}
			if (g.Type == TypeHasMany || g.Type == TypeHasOne) && g.Target == f.Target && g.ForeignKey == f.ForeignKey {
				return false, nil
			}
		}
	}
	return true, nil
}

// purgeField removes a destroyed field's index entries and its values from the stored
// records of a collection, in batches so that no transaction grows too big; a field
// added later with the same name starts empty.
func (a *App) purgeField(coll, field string) {
	err := a.purgeFieldIndex(coll, field)
	if err == nil {
		err = a.purgeFieldValues(coll, field)
	}
	if err != nil {
		a.log.Error("purge field", "collection", coll, "field", field, "err", err)
	}
	if coll == UsersCollection {
		a.sessions.invalidate() // it holds users as they were read
	}
}

func (a *App) purgeFieldIndex(coll, field string) error {
	ctx := context.Background()
	for _, p := range [][]byte{store.UniqueFieldPrefix(coll, field), store.IndexFieldPrefix(coll, field)} {
		for {
			n := 0
			err := a.Update(ctx, func(tx *Tx) error {
				var keys [][]byte
				err := tx.Scan(p, store.ScanOptions{KeysOnly: true}, func(k, _ []byte) error {
					keys = append(keys, k)
					if len(keys) >= store.SmallWrites {
						return store.StopScan
					}
					return nil
				})
				if err != nil {
					return err
				}
				if len(keys) > 0 {
					a.data.MarkIndexWrite(tx, coll)
				}
				for _, k := range keys {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
				n = len(keys)
				return nil
			})
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
	}
	return nil
}

// purgeBatchBytes bounds the record bytes one purge transaction rewrites.
const purgeBatchBytes = 100 << 10

func (a *App) purgeFieldValues(coll, field string) error {
	ctx := context.Background()
	c := &Collection{Name: coll}
	c.Reindex()
	if live, ok := a.schema.get(coll); ok {
		c = live
	}
	from := store.RecordKey(coll, 0)
	for {
		var ids []uint64
		size := 0
		err := a.View(ctx, func(tx *Tx) error {
			return tx.Scan(store.RecordPrefix(coll), store.ScanOptions{Start: from}, func(k, v []byte) error {
				r, err := decodeRecord(c, v)
				if err != nil {
					return err
				}
				if _, has := r[field]; has {
					ids = append(ids, store.IDFromKey(k))
					size += len(v)
				}
				if size >= purgeBatchBytes || len(ids) >= store.SmallWrites {
					return store.StopScan
				}
				return nil
			})
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		err = a.Update(ctx, func(tx *Tx) error {
			for _, id := range ids {
				r, err := a.data.Get(tx, c, id)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if _, has := r[field]; !has {
					continue
				}
				delete(r, field)
				if err := a.data.PutRaw(tx, c, id, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		from = store.RecordKey(coll, ids[len(ids)-1]+1)
	}
}
