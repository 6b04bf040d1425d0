package core

import (
	"errors"
	"strings"

	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/core/value"
)

// The checks of this file hold for requests only (API.md §3): the record layer, which
// workflows' db module uses too, reads every path.

// checkPaths checks every path of a request's filter, sort, appends and fields against the
// role: each association it walks must lead to a collection the role may list (else 403
// naming the path), and no filter or sort may read a hidden or password field (400).
func (a *App) checkPaths(ac *ActionContext) error {
	c := ac.Collection
	if c == nil {
		return nil
	}
	p := &ac.Params
	for _, path := range p.Filter.Paths() {
		if err := a.checkPath(ac, c, path, "filter", true); err != nil {
			return err
		}
	}
	for _, k := range p.Sort {
		if err := a.checkPath(ac, c, k.Path, "sort", true); err != nil {
			return err
		}
	}
	for _, path := range p.Appends {
		if err := a.checkPath(ac, c, path, "appends", false); err != nil {
			return err
		}
	}
	for _, name := range p.Fields {
		if f, ok := c.Field(name); ok && f.IsAssociation() {
			if err := a.checkPath(ac, c, name, "fields", false); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPath walks path from c. With value, its last segment is a field whose value is read
// (a filter or sort); without, every segment is an association (appends). Unknown segments
// end the walk: the parsers and Present report them.
func (a *App) checkPath(ac *ActionContext, c *Collection, path, param string, value bool) error {
	s := a.schema.load()
	segs := strings.Split(path, ".")
	cur := c
	for i, seg := range segs {
		f, ok := cur.Field(seg)
		if !ok {
			return nil
		}
		if f.HiddenOnOutput() {
			verb := map[string]string{"filter": "filtered on", "sort": "sorted on"}[param]
			if verb == "" {
				verb = "read"
			}
			return BadRequest(param, "%q: the hidden field %s.%s cannot be %s", path, cur.Name, f.Name, verb)
		}
		if value && i == len(segs)-1 {
			return nil
		}
		if !f.IsAssociation() {
			return nil
		}
		t, ok := s.Collection(f.Target)
		if !ok {
			return nil
		}
		ok, err := a.mayList(ac.Role, t)
		if err != nil {
			return err
		}
		if !ok {
			e := Forbidden("%s: %q: role %s may not list %s (reached through %q)", param, path, ac.Role, t.Name, strings.Join(segs[:i+1], "."))
			e.Field = param
			return e
		}
		cur = t
	}
	return nil
}

// MayReadPath checks a dotted path of associations from c against the role of request ac
// as appends are checked: every association it walks must lead to a collection the role may
// list (else a 403 naming param and the path), and none may be a hidden field (400). For
// plugins that reach records through a path a request names (?triggerWorkflows=key!path).
func (a *App) MayReadPath(ac *ActionContext, c *Collection, path, param string) error {
	if c == nil {
		return nil
	}
	return a.checkPath(ac, c, path, param, false)
}

// mayList reports whether role may list every record of c: what reading c through an
// association needs (a "list:own" permission does not reach through associations).
func (a *App) mayList(role string, c *Collection) (bool, error) {
	g, err := a.grant(role, c, "list")
	return g == grantAll, err
}

// checkOwners refuses, before any hook runs, an action scoped to the user's own records
// (ac.OwnRecords, AssociationScope.OwnSource) that names by filterByTk a record, or an
// association source, that another user created: 403. Missing records are left to the
// action (404).
func (a *App) checkOwners(ac *ActionContext) error {
	as := ac.Association
	ownSource := as != nil && as.OwnSource
	if !ac.OwnRecords && !ownSource {
		return nil
	}
	var ids []uint64
	if ac.OwnRecords {
		// Every filterByTk given, as collection actions of plugins may read them all.
		ids, _ = value.ParseIDs(append(ac.Params.All("filterByTk"), ac.Params.FilterByTk)...)
	}
	if len(ids) == 0 && !ownSource {
		return nil
	}
	return a.View(ac.ctx, func(tx *Tx) error {
		if ownSource {
			if err := a.checkOwner(tx, ac, as.Source, as.SourceID, "get"); err != nil {
				return err
			}
		}
		for _, id := range ids {
			if err := a.checkOwner(tx, ac, ac.Collection, id, ac.Action); err != nil {
				return err
			}
		}
		return nil
	})
}

func (a *App) checkOwner(tx *Tx, ac *ActionContext, c *Collection, id uint64, action string) error {
	rec, err := a.data.Get(tx, c, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !ownedBy(rec, ac.UserID) {
		return Forbidden("role %s may %s only its own records of %s; %s %d is another user's", ac.Role, action, c.Name, c.Name, id)
	}
	return nil
}

func ownedBy(rec Record, userID uint64) bool {
	id, ok := rec["createdById"].(int64)
	return ok && userID > 0 && id == int64(userID)
}

// ownFilter adds "created by the acting user" to f when the action is scoped to the
// user's own records.
func ownFilter(ac *ActionContext, f *query.Node) *query.Node {
	if !ac.OwnRecords {
		return f
	}
	own := &query.Node{Op: query.OpEq, Path: "createdById", Value: int64(ac.UserID)}
	if f == nil {
		return own
	}
	return &query.Node{Op: query.OpAnd, Children: []*query.Node{own, f}}
}
