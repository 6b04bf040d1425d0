package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/actionflow/actionflow/store"
	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/bcrypt"
)

// Built-in role names.
const (
	RoleRoot   = "root"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Role is a role record (API.md §3).
type Role struct {
	Name        string              `json:"name"`
	Title       string              `json:"title"`
	AllowAll    bool                `json:"allowAll"`
	Permissions map[string][]string `json:"permissions"`
}

func usersCollection() *Collection {
	return &Collection{Name: UsersCollection, Title: "Users", System: true, Fields: []*Field{
		{Name: "email", Type: TypeString, Unique: true, Required: true},
		{Name: "username", Type: TypeString, Unique: true},
		{Name: "nickname", Type: TypeString},
		{Name: "password", Type: TypePassword, Hidden: true},
		{Name: "roles", Type: TypeJSON},
	}}
}

func rolesCollection() *Collection {
	return &Collection{Name: RolesCollection, Title: "Roles", System: true, Fields: []*Field{
		{Name: "name", Type: TypeString, Unique: true, Required: true},
		{Name: "title", Type: TypeString},
		{Name: "allowAll", Type: TypeBoolean, DefaultValue: false},
		{Name: "permissions", Type: TypeJSON},
	}}
}

var builtinRoles = []Role{
	{Name: RoleRoot, Title: "Root", AllowAll: true},
	{Name: RoleAdmin, Title: "Admin", AllowAll: true},
	{Name: RoleMember, Title: "Member"},
}

// memberPermissions is what the built-in member role may do on every non-system
// collection while its record sets neither allowAll nor permissions (API.md §3).
var memberPermissions = []string{"list", "get", "create", "update:own", "destroy:own"}

// dataActions are the actions a role's permissions can grant; each may also be given as
// "<action>:own" (only the records the user created).
var dataActions = map[string]bool{"list": true, "get": true, "create": true, "update": true, "destroy": true}

// ownSuffix scopes a permission item to the records the user created.
const ownSuffix = ":own"

func isBuiltinRole(name any) bool {
	for _, r := range builtinRoles {
		if name == r.Name {
			return true
		}
	}
	return false
}

// bootstrapAuth makes the users and roles collections, the built-in roles and, on first
// start, the root user.
func (a *App) bootstrapAuth() error {
	for _, def := range []*Collection{usersCollection(), rolesCollection()} {
		if err := a.ensureCollection(def); err != nil {
			return err
		}
	}
	a.data.beforeWrite = map[string]func(*Tx, Record, Record) error{
		UsersCollection: a.checkUserRoles,
		RolesCollection: checkRole,
	}
	a.data.listeners = append(a.data.listeners, func(tx *Tx, ev *RecordEvent) error {
		switch ev.Collection.Name {
		case RolesCollection:
			if ev.Kind == EventDestroy && isBuiltinRole(ev.Record["name"]) {
				return BadRequest("filterByTk", "the built-in role %q cannot be destroyed", ev.Record["name"])
			}
			tx.OnCommit(a.roles.invalidate)
		case UsersCollection:
			tx.OnCommit(a.sessions.invalidate)
		}
		return nil
	})
	ctx := context.Background()
	roles, _ := a.schema.get(RolesCollection)
	users, _ := a.schema.get(UsersCollection)
	return a.Update(ctx, func(tx *Tx) error {
		for _, r := range builtinRoles {
			ids, err := a.data.indexIDs(tx, roles, "name", []any{r.Name}, 1)
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				if r.Name == RoleMember {
					if err := a.migrateMember(tx, roles, ids[0]); err != nil {
						return err
					}
				}
				continue
			}
			if _, err := a.data.Create(tx, roles, map[string]any{"name": r.Name, "title": r.Title, "allowAll": r.AllowAll}, WriteOptions{}); err != nil {
				return fmt.Errorf("core: make role %s: %w", r.Name, err)
			}
		}
		n, err := a.data.Count(tx, users, nil)
		if err != nil || n > 0 {
			return err
		}
		pw := a.cfg.RootPassword
		if pw == "" {
			pw = randomToken(12)
			a.generated = pw
		}
		_, err = a.data.Create(tx, users, map[string]any{
			"email": a.cfg.RootEmail, "username": "root", "nickname": "Super Admin",
			"password": pw, "roles": []any{RoleRoot},
		}, WriteOptions{})
		if err != nil {
			return fmt.Errorf("core: make root user: %w", err)
		}
		return nil
	})
}

// migrateMember gives a member role record made by an earlier version, which had
// allowAll as its default, the code-defined member permissions (memberPermissions): only
// while nobody has written the record since it was made, so an edit by root is kept.
func (a *App) migrateMember(tx *Tx, roles *Collection, id uint64) error {
	rec, err := a.data.load(tx, roles, id)
	if err != nil {
		return err
	}
	if rec["allowAll"] != true || rec["permissions"] != nil || rec["updatedById"] != nil || rec["createdAt"] != rec["updatedAt"] {
		return nil
	}
	if _, err := a.data.UpdateRecord(tx, roles, rec, map[string]any{"allowAll": false}, WriteOptions{}); err != nil {
		return fmt.Errorf("core: migrate role member: %w", err)
	}
	return nil
}

// checkUserRoles validates users.roles: a list of existing role names, ["member"] when a
// new user has none.
func (a *App) checkUserRoles(tx *Tx, rec, prev Record) error {
	v, present := rec["roles"]
	if !present || v == nil {
		if prev == nil {
			rec["roles"] = []any{RoleMember}
		}
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return BadRequest("roles", "must be a list of role names")
	}
	roles, _ := a.schema.get(RolesCollection)
	seen := map[string]bool{}
	out := make([]any, 0, len(list))
	for _, r := range list {
		name, ok := r.(string)
		if !ok {
			return BadRequest("roles", "must be a list of role names")
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		ids, err := a.data.indexIDs(tx, roles, "name", []any{name}, 1)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return BadRequest("roles", "role %q does not exist", name)
		}
		out = append(out, name)
	}
	rec["roles"] = out
	return nil
}

func checkRole(_ *Tx, rec, prev Record) error {
	if prev != nil && prev["name"] != rec["name"] {
		for _, r := range builtinRoles {
			if prev["name"] == r.Name {
				return BadRequest("name", "the built-in role %q cannot be renamed", r.Name)
			}
		}
	}
	if p, ok := rec["permissions"]; ok && p != nil {
		m, ok := p.(map[string]any)
		if !ok {
			return BadRequest("permissions", `must be an object {"<collection>": ["list", ...]}`)
		}
		for coll, acts := range m {
			list, ok := acts.([]any)
			if !ok {
				return BadRequest("permissions", "%s: must be a list of actions", coll)
			}
			for _, x := range list {
				s, _ := x.(string)
				if !dataActions[strings.TrimSuffix(s, ownSuffix)] {
					return BadRequest("permissions", "%s: unknown action %v", coll, x)
				}
			}
		}
	}
	return nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// session is what a token key holds.
type session struct {
	UserID    uint64    `json:"userId"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// authenticate resolves the bearer token and X-Role into ac.User, ac.UserID and ac.Role.
func (a *App) authenticate(ctx *fasthttp.RequestCtx, ac *ActionContext) error {
	h := ctx.Request.Header.Peek("Authorization")
	token, ok := strings.CutPrefix(string(h), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return Unauthorized("missing bearer token")
	}
	if len(token) > 256 {
		return Unauthorized("invalid token")
	}
	users, _ := a.schema.get(UsersCollection)
	hash := tokenHash(token)
	if u, id, ok := a.sessions.get(string(hash)); ok {
		ac.User, ac.UserID = u, id
		ac.Set(tokenKey, token)
		return a.pickRole(ctx, ac)
	}
	gen := a.sessions.generation()
	err := a.View(ac.ctx, func(tx *Tx) error {
		b, err := tx.Get(store.TokenKey(hash))
		if errors.Is(err, store.ErrNotFound) {
			return Unauthorized("invalid or expired token")
		}
		if err != nil {
			return fmt.Errorf("core: read token: %w", err)
		}
		var s session
		if err := json.Unmarshal(b, &s); err != nil || time.Now().After(s.ExpiresAt) {
			return Unauthorized("invalid or expired token")
		}
		u, err := a.data.load(tx, users, s.UserID)
		if err != nil {
			return Unauthorized("the token's user no longer exists")
		}
		ac.User, ac.UserID = u, s.UserID
		ac.Set(tokenKey, token)
		a.sessions.put(gen, string(hash), u, s)
		return nil
	})
	if err != nil {
		return err
	}
	return a.pickRole(ctx, ac)
}

// pickRole sets the request's role: the X-Role header's, which must be one of the user's
// roles, or the user's first.
func (a *App) pickRole(ctx *fasthttp.RequestCtx, ac *ActionContext) error {
	roles := UserRoles(ac.User)
	if want := string(ctx.Request.Header.Peek("X-Role")); want != "" {
		for _, r := range roles {
			if r == want {
				ac.Role = want
				return nil
			}
		}
		return Unauthorized("role %q is not one of the user's roles", truncate(want, 64))
	}
	if len(roles) > 0 {
		ac.Role = roles[0]
	}
	return nil
}

// UserRoles lists a user record's role names.
func UserRoles(u Record) []string {
	list, _ := u["roles"].([]any)
	out := make([]string, 0, len(list))
	for _, r := range list {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// sessionCache remembers signed-in tokens with their users, so that a request with a
// known token reads nothing from the store: the token's session and its user record were
// a transaction and two JSON decodes per request. Every committed write to users, and
// every sign-out, empties it (a generation counter keeps a lookup that raced with such a
// write from storing what it read); an entry is used only until its token expires.
type sessionCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]sessionEntry // by token hash
}

type sessionEntry struct {
	user    Record
	userID  uint64
	expires time.Time
}

// maxSessions bounds the cache; when it is full it starts again empty.
const maxSessions = 10000

func (c *sessionCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *sessionCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.entries = nil
	c.mu.Unlock()
}

// get returns a copy of the cached user of a token hash.
func (c *sessionCache) get(hash string) (Record, uint64, bool) {
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if !ok || time.Now().After(e.expires) {
		return nil, 0, false
	}
	return cloneValue(e.user).(Record), e.userID, true
}

// put caches what a lookup read, unless users or tokens changed since it began (gen).
func (c *sessionCache) put(gen uint64, hash string, u Record, s session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxSessions {
		c.entries = make(map[string]sessionEntry)
	}
	c.entries[hash] = sessionEntry{user: cloneValue(u).(Record), userID: s.UserID, expires: s.ExpiresAt}
}

// roleCache keeps roles in memory; role writes invalidate it on commit.
type roleCache struct {
	mu    sync.Mutex
	roles map[string]Role
}

func (c *roleCache) invalidate() {
	c.mu.Lock()
	c.roles = nil
	c.mu.Unlock()
}

func (a *App) role(name string) (Role, bool, error) {
	a.roles.mu.Lock()
	defer a.roles.mu.Unlock()
	if a.roles.roles == nil {
		coll, _ := a.schema.get(RolesCollection)
		m := map[string]Role{}
		err := a.View(context.Background(), func(tx *Tx) error {
			recs, _, err := a.data.List(tx, coll, ListQuery{})
			if err != nil {
				return err
			}
			for _, r := range recs {
				b, _ := json.Marshal(r)
				var role Role
				if err := json.Unmarshal(b, &role); err != nil {
					continue
				}
				m[role.Name] = role
			}
			return nil
		})
		if err != nil {
			return Role{}, false, fmt.Errorf("core: load roles: %w", err)
		}
		a.roles.roles = m
	}
	r, ok := a.roles.roles[name]
	return r, ok, nil
}

// authorize checks the role against the action (API.md §3): root may do everything; admin
// everything but writing users and roles; other roles their data permissions on
// non-system collections. A permission given as "<action>:own" sets ac.OwnRecords. An
// association resource also needs the right to get its source collection.
func (a *App) authorize(ac *ActionContext, act Action) error {
	if act.Authenticated || ac.Role == RoleRoot {
		return nil
	}
	if ac.Role == "" {
		return Forbidden("the user has no role")
	}
	c := ac.Collection
	if ac.Role == RoleAdmin {
		if c != nil && (c.Name == UsersCollection || c.Name == RolesCollection) && act.Permission != "list" && act.Permission != "get" {
			return Forbidden("role admin may not change %s", c.Name)
		}
		return nil
	}
	if act.Permission == "" || c == nil || c.System {
		return Forbidden("role %s may not %s %s", ac.Role, ac.Action, ac.Resource)
	}
	g, err := a.grant(ac.Role, c, act.Permission)
	if err != nil {
		return err
	}
	if g == grantNone {
		return Forbidden("role %s may not %s %s", ac.Role, act.Permission, c.Name)
	}
	ac.OwnRecords = g == grantOwn
	if as := ac.Association; as != nil {
		g, err := a.grant(ac.Role, as.Source, "get")
		if err != nil {
			return err
		}
		if g == grantNone {
			return Forbidden("role %s may not get %s", ac.Role, as.Source.Name)
		}
		as.OwnSource = g == grantOwn
	}
	return nil
}

// grantKind is how far a role's permission for an action on a collection reaches.
type grantKind int

const (
	grantNone grantKind = iota
	// grantOwn reaches the records the user created ("<action>:own").
	grantOwn
	grantAll
)

// grant says how far role may do action on c. Root may do everything, admin everything
// but writing users and roles; other roles only act on non-system collections, by allowAll
// or their permissions (the built-in member by memberPermissions when its record sets
// none). Of "update" and "update:own" the wider wins.
func (a *App) grant(role string, c *Collection, action string) (grantKind, error) {
	switch role {
	case RoleRoot:
		return grantAll, nil
	case RoleAdmin:
		if (c.Name == UsersCollection || c.Name == RolesCollection) && action != "list" && action != "get" {
			return grantNone, nil
		}
		return grantAll, nil
	}
	if c.System {
		return grantNone, nil
	}
	r, ok, err := a.role(role)
	if err != nil || !ok {
		return grantNone, err
	}
	if r.AllowAll {
		return grantAll, nil
	}
	perms := r.Permissions[c.Name]
	if r.Name == RoleMember && r.Permissions == nil {
		perms = memberPermissions
	}
	switch {
	case contains(perms, action):
		return grantAll, nil
	case contains(perms, action+ownSuffix):
		if action == "create" {
			return grantAll, nil // what a user creates is its own
		}
		return grantOwn, nil
	}
	return grantNone, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SignIn checks credentials and makes a token.
func (a *App) SignIn(ctx context.Context, account, password string) (token string, user Record, err error) {
	users, _ := a.schema.get(UsersCollection)
	field := "email"
	if !strings.Contains(account, "@") {
		field = "username"
	}
	var u Record
	err = a.View(ctx, func(tx *Tx) error {
		ids, err := a.data.indexIDs(tx, users, field, []any{account}, 1)
		if err != nil || len(ids) == 0 {
			return err
		}
		u, err = a.data.load(tx, users, ids[0])
		return err
	})
	if err != nil {
		return "", nil, err
	}
	hash, _ := u["password"].(string)
	if u == nil || hash == "" || bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", nil, Unauthorized("wrong account or password")
	}
	token = randomToken(32)
	exp := time.Now().Add(a.cfg.TokenTTL)
	b, _ := json.Marshal(session{UserID: idOf(u), ExpiresAt: exp})
	err = a.Update(ctx, func(tx *Tx) error {
		return tx.SetTTL(store.TokenKey(tokenHash(token)), b, a.cfg.TokenTTL)
	})
	if err != nil {
		return "", nil, fmt.Errorf("core: save token: %w", err)
	}
	return token, Desensitize(users, u), nil
}

// SignOut revokes a token.
func (a *App) SignOut(ctx context.Context, token string) error {
	err := a.Update(ctx, func(tx *Tx) error { return tx.Delete(store.TokenKey(tokenHash(token))) })
	a.sessions.invalidate()
	return err
}
