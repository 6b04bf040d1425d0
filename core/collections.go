package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

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
			c.index()
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
	tx.OnCommit(func() {
		if err := a.loadSchema(); err != nil {
			a.log.Error("reload collections", "err", err)
		}
	})
	return nil
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
	c.index()
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
			if err := cur.addField(f, fmt.Sprintf("fields[%d]", i)); err != nil {
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
			ac.Tx.OnCommit(func() {
				if err := a.loadSchema(); err != nil {
					a.log.Error("reload collections", "err", err)
				}
				a.purgeCollection(c.Name)
			})
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
	a.data.counts.begin(name)
	defer a.data.counts.end(name)
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
			var f Field
			if err := decodeInput(ac, &f); err != nil {
				return err
			}
			if err := c.addField(&f, "body"); err != nil {
				return err
			}
			added, _ := c.Field(f.Name)
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
	return tx.Scan(store.RecordPrefix(c.Name), store.ScanOptions{}, func(k, v []byte) error {
		r, err := decodeRecord(c, v)
		if err != nil {
			return err
		}
		id := store.IDFromKey(k)
		if f.Unique {
			return a.data.moveUnique(tx, c, f, id, nil, r[f.Name])
		}
		if key, ok := store.IndexKey(c.Name, f.Name, r[f.Name], id); ok {
			a.data.counts.writing(tx, c.Name)
			return tx.Set(key, nil)
		}
		return nil
	})
}
