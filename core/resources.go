package core

import (
	"strings"

	"github.com/actionflow/actionflow/core/query"
)

// registerBuiltins adds the core resources: auth, collections and the default actions of
// every data collection.
func (a *App) registerBuiltins() {
	must := func(err error) {
		if err != nil {
			panic(err) // only on a programming error in the built-in tables
		}
	}
	must(a.addActions("auth", a.authResource()))
	must(a.addActions("collections", a.collectionsResource()))
	must(a.addActions("collections.fields", a.fieldsResource()))
	must(a.addActions(UsersCollection, a.usersResource()))
	must(a.addActions("app", a.backupResource()))
	for name, act := range a.recordActions() {
		must(a.addCollectionAction(name, act))
	}
}

func (a *App) authResource() map[string]Action {
	return map[string]Action{
		"signIn": {Tx: TxNone, Public: true, Handler: func(ac *ActionContext) error {
			var in struct {
				Email    string `json:"email"`
				Account  string `json:"account"`
				Username string `json:"username"`
				Password string `json:"password"`
			}
			if err := decodeInput(ac, &in); err != nil {
				return err
			}
			account := strings.TrimSpace(in.Email + in.Account + in.Username)
			if account == "" || in.Password == "" {
				return BadRequest("email", "email (or account) and password are required")
			}
			token, user, err := a.SignIn(ac.ctx, account, in.Password)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: map[string]any{"token": token, "user": user}}
			return nil
		}},
		"signOut": {Tx: TxNone, Authenticated: true, Handler: func(ac *ActionContext) error {
			if err := a.SignOut(ac.ctx, ac.token()); err != nil {
				return err
			}
			ac.Result = &Result{Data: nil}
			return nil
		}},
		"changePassword": {Tx: TxNone, Authenticated: true, Handler: func(ac *ActionContext) error {
			var in struct {
				OldPassword string `json:"oldPassword"`
				NewPassword string `json:"newPassword"`
			}
			if err := decodeInput(ac, &in); err != nil {
				return err
			}
			if in.OldPassword == "" {
				return BadRequest("oldPassword", "is required")
			}
			user, err := a.ChangePassword(ac.ctx, ac.UserID, in.OldPassword, in.NewPassword)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: user}
			return nil
		}},
		"check": {Tx: TxRead, Authenticated: true, Handler: func(ac *ActionContext) error {
			users, _ := a.schema.get(UsersCollection)
			ac.Result = &Result{Data: Desensitize(users, ac.User)}
			return nil
		}},
	}
}

// usersResource adds actions to the users collection's default ones.
func (a *App) usersResource() map[string]Action {
	return map[string]Action{
		// updateProfile changes the signed-in user's own record: any field but roles, the
		// password (auth:changePassword), hidden fields and system fields.
		"updateProfile": {Tx: TxWrite, Authenticated: true, Handler: func(ac *ActionContext) error {
			if err := requireObject(ac); err != nil {
				return err
			}
			users := ac.Collection
			for k := range ac.Params.Values {
				f, ok := users.Field(k)
				switch {
				case k == "roles":
					return BadRequest(k, "a user cannot change their own roles")
				case ok && f.Type == TypePassword:
					return BadRequest(k, "change the password with auth:changePassword")
				case ok && f.Hidden:
					return BadRequest(k, "is not part of the user's profile")
				}
			}
			recs, err := a.data.Update(ac.Tx, users, Selector{ID: ac.UserID}, ac.Params.Values, ac.WriteOptions())
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: Desensitize(users, recs[0])}
			return nil
		}},
	}
}

// scopeFilter adds the association scope (foreign key = source id) and, for an action
// scoped to the user's own records, "created by the user" to a filter.
func scopeFilter(ac *ActionContext, f *query.Node) *query.Node {
	f = ownFilter(ac, f)
	as := ac.Association
	if as == nil || !as.Field.IsAssociation() || as.Field.Type == TypeBelongsTo {
		return f
	}
	scope := &query.Node{Op: query.Op("$eq"), Path: as.Field.ForeignKey, Value: int64(as.SourceID)}
	if f == nil {
		return scope
	}
	return &query.Node{Op: query.Op("$and"), Children: []*query.Node{scope, f}}
}

// checkScope makes sure the source record of an association resource exists and, for a
// belongsTo association, finds the one target id.
func (a *App) checkScope(ac *ActionContext) (targetID uint64, err error) {
	as := ac.Association
	if as == nil {
		return 0, nil
	}
	src, err := a.data.Get(ac.Tx, as.Source, as.SourceID)
	if err != nil {
		return 0, err
	}
	if as.Field.Type == TypeBelongsTo {
		id, _ := src[as.Field.ForeignKey].(int64)
		if id <= 0 {
			return 0, NotFound("%s %d has no %s", as.Source.Name, as.SourceID, as.Field.Name)
		}
		return uint64(id), nil
	}
	return 0, nil
}

// selector reads filterByTk / filter of an update or destroy; one of them is required.
func selector(ac *ActionContext) (Selector, error) {
	p := &ac.Params
	if p.ID == 0 && p.Filter == nil && ac.Association == nil {
		return Selector{}, BadRequest("filterByTk", "filterByTk or filter is required")
	}
	return Selector{ID: p.ID, Filter: scopeFilter(ac, p.Filter)}, nil
}

// recordActions are the default actions of every data collection (API.md §1).
func (a *App) recordActions() map[string]Action {
	return map[string]Action{
		"list": {Tx: TxRead, Permission: "list", Handler: func(ac *ActionContext) error {
			c, p := ac.Collection, &ac.Params
			targetID, err := a.checkScope(ac)
			if err != nil {
				return err
			}
			var recs []Record
			count := 0
			if targetID > 0 {
				f := scopeFilter(ac, p.Filter)
				if r, err := a.data.Get(ac.Tx, c, targetID); err == nil && (f == nil || a.data.Match(ac.Tx, c, r, f)) {
					recs, count = []Record{r}, 1
				}
			} else {
				recs, count, err = a.data.List(ac.Tx, c, ListQuery{Filter: scopeFilter(ac, p.Filter), Sort: p.Sort, Page: p.Page})
				if err != nil {
					return err
				}
			}
			out, err := a.data.Present(ac.Tx, c, recs, p.Appends, p.Fields)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: out, Meta: map[string]any{
				"count": count, "page": p.Page.Page, "pageSize": p.Page.PageSize, "totalPage": p.Page.TotalPage(count),
			}}
			return nil
		}},
		"get": {Tx: TxRead, Permission: "get", Handler: func(ac *ActionContext) error {
			c, p := ac.Collection, &ac.Params
			targetID, err := a.checkScope(ac)
			if err != nil {
				return err
			}
			var rec Record
			switch {
			case targetID > 0:
				rec, err = a.data.Get(ac.Tx, c, targetID)
				if err == nil && ac.OwnRecords && !ownedBy(rec, ac.UserID) {
					err = NotFound("%s %d not found", c.Name, targetID)
				}
			case p.ID > 0:
				ids, serr := a.data.Select(ac.Tx, c, Selector{ID: p.ID, Filter: scopeFilter(ac, p.Filter)})
				if serr != nil {
					return serr
				}
				rec, err = a.data.Get(ac.Tx, c, ids[0])
			case p.Filter != nil || ac.Association != nil:
				var recs []Record
				recs, _, err = a.data.List(ac.Tx, c, ListQuery{Filter: scopeFilter(ac, p.Filter), Sort: p.Sort, Page: query.Page{Page: 1, PageSize: 1}})
				if err == nil && len(recs) == 0 {
					err = NotFound("no %s matches the filter", c.Name)
				}
				if err == nil {
					rec = recs[0]
				}
			default:
				return BadRequest("filterByTk", "filterByTk or filter is required")
			}
			if err != nil {
				return err
			}
			out, err := a.data.PresentOne(ac.Tx, c, rec, p.Appends, p.Fields)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: out}
			return nil
		}},
		"create": {Tx: TxWrite, Permission: "create", Handler: func(ac *ActionContext) error {
			c, p := ac.Collection, &ac.Params
			if err := requireObject(ac); err != nil {
				return err
			}
			if _, err := a.checkScope(ac); err != nil {
				return err
			}
			values := p.Values
			if as := ac.Association; as != nil {
				if as.Field.Type == TypeBelongsTo {
					return BadRequest("path", "create the %s record directly and set %s.%s", c.Name, as.Source.Name, as.Field.ForeignKey)
				}
				values = make(map[string]any, len(p.Values)+1)
				for k, v := range p.Values {
					values[k] = v
				}
				values[as.Field.ForeignKey] = int64(as.SourceID)
			}
			rec, err := a.data.Create(ac.Tx, c, values, ac.WriteOptions())
			if err != nil {
				return err
			}
			out, err := a.data.PresentOne(ac.Tx, c, rec, p.Appends, p.Fields)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: out}
			recordsKey().Set(ac, []Record{rec})
			return nil
		}},
		"update": {Tx: TxWrite, Permission: "update", Handler: func(ac *ActionContext) error {
			c, p := ac.Collection, &ac.Params
			if err := requireObject(ac); err != nil {
				return err
			}
			if _, err := a.checkScope(ac); err != nil {
				return err
			}
			if ac.Association != nil && ac.Association.Field.Type == TypeBelongsTo {
				return BadRequest("path", "update the %s record directly", c.Name)
			}
			sel, err := selector(ac)
			if err != nil {
				return err
			}
			recs, err := a.data.Update(ac.Tx, c, sel, p.Values, ac.WriteOptions())
			if err != nil {
				return err
			}
			out, err := a.data.Present(ac.Tx, c, recs, p.Appends, p.Fields)
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: out}
			recordsKey().Set(ac, recs)
			return nil
		}},
		"destroy": {Tx: TxWrite, Permission: "destroy", Handler: func(ac *ActionContext) error {
			if _, err := a.checkScope(ac); err != nil {
				return err
			}
			if ac.Association != nil && ac.Association.Field.Type == TypeBelongsTo {
				return BadRequest("path", "destroy the %s record directly", ac.Collection.Name)
			}
			sel, err := selector(ac)
			if err != nil {
				return err
			}
			n, err := a.data.Destroy(ac.Tx, ac.Collection, sel, ac.WriteOptions())
			if err != nil {
				return err
			}
			ac.Result = &Result{Data: n}
			return nil
		}},
	}
}

// requireObject insists that a write's body, when present, is a JSON object.
func requireObject(ac *ActionContext) error {
	if len(ac.Params.Body) > 0 && ac.Params.Values == nil {
		return BadRequest("body", "must be a JSON object of field values")
	}
	if ac.Params.Values == nil {
		ac.Params.Values = map[string]any{}
	}
	return nil
}
