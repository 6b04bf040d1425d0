package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/actionflow/actionflow/core/value"
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
	a.data.BeforeWrite(UsersCollection, a.checkUser)
	a.data.BeforeWrite(RolesCollection, checkRole)
	a.data.Listen(func(tx *Tx, ev *RecordEvent) error {
		switch ev.Collection.Name {
		case RolesCollection:
			if ev.Kind == EventDestroy && isBuiltinRole(ev.Record["name"]) {
				return BadRequest("filterByTk", "the built-in role %q cannot be destroyed", ev.Record["name"])
			}
			return a.rolesVersion.Bump(tx)
		case UsersCollection:
			return a.sessionsVersion.Bump(tx) // the session cache holds users
		}
		return nil
	})
	ctx := context.Background()
	roles, _ := a.schema.get(RolesCollection)
	users, _ := a.schema.get(UsersCollection)
	if err := a.normalizeStoredEmails(ctx, users); err != nil {
		return err
	}
	a.dummy()
	return a.Update(ctx, func(tx *Tx) error {
		for _, r := range builtinRoles {
			ids, err := a.data.IndexIDs(tx, roles, "name", []any{r.Name}, 1)
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
		// The root user's email goes through checkUser, so it is validated and lower-cased.
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
	rec, err := a.data.Get(tx, roles, id)
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

// checkUser validates a user record before it is written (API.md §3): its roles, its
// email (an address, stored lower case) and its password (a user needs one). Email and
// password are checked when they change, so an old record is not refused for them.
func (a *App) checkUser(tx *Tx, rec, prev Record) error {
	if err := a.checkUserRoles(tx, rec, prev); err != nil {
		return err
	}
	if prev == nil || !EqualValues(rec["email"], prev["email"]) {
		if e, ok := rec["email"].(string); ok {
			norm, err := normalizeEmail(e)
			if err != nil {
				return err
			}
			rec["email"] = norm
		}
	}
	if prev == nil || !EqualValues(rec["password"], prev["password"]) {
		if pw, _ := rec["password"].(string); pw == "" {
			return BadRequest("password", "is required: a user needs a password")
		}
	}
	return nil
}

// normalizeEmail checks that s is a bare email address (no display name, no angle
// brackets) and returns it lower case.
func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", BadRequest("email", "%q is not an email address", value.Truncate(s, 80))
	}
	return strings.ToLower(s), nil
}

// normalizeStoredEmails lower-cases the emails of users written before emails were
// normalised, so that sign-in (which looks them up lower case) finds them. A user whose
// lower-cased email is taken by another stays as it is (and is logged); sign-in then
// finds it by its email as stored.
func (a *App) normalizeStoredEmails(ctx context.Context, users *Collection) error {
	var ids []uint64
	err := a.View(ctx, func(tx *Tx) error {
		return tx.Scan(store.RecordPrefix(users.Name), store.ScanOptions{}, func(k, v []byte) error {
			r, err := decodeRecord(users, v)
			if err != nil {
				return err
			}
			if e, ok := r["email"].(string); ok && e != strings.ToLower(e) {
				ids = append(ids, store.IDFromKey(k))
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("core: read users: %w", err)
	}
	for _, id := range ids {
		err := a.Update(ctx, func(tx *Tx) error {
			prev, err := a.data.Get(tx, users, id)
			if err != nil {
				return err
			}
			e, _ := prev["email"].(string)
			_, err = a.data.UpdateStored(tx, users, prev, Record{"email": strings.ToLower(e)}, WriteOptions{})
			return err
		})
		if err != nil {
			a.log.Warn("email of a user left as it is", "user", id, "err", err)
		}
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
		ids, err := a.data.IndexIDs(tx, roles, "name", []any{name}, 1)
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

// session is what a token key holds. Stamp is passwordStamp of the user's password hash
// when the token was made: a token is valid only while the user's password is the one it
// was signed in with, so any change of the password (auth:changePassword, root's
// users:update, a script's db.update) revokes every token of the user at once, on every
// node sharing the store, without an index of a user's tokens.
type session struct {
	UserID    uint64    `json:"userId"`
	ExpiresAt time.Time `json:"expiresAt"`
	Stamp     string    `json:"stamp"`
}

// passwordStamp is a short digest of a user record's password hash (itself salted).
func passwordStamp(u Record) string {
	h, _ := u["password"].(string)
	sum := sha256.Sum256([]byte("actionflow.session:" + h))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
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
		tokenKey().Set(ac, token)
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
		u, err := a.data.Get(tx, users, s.UserID)
		if err != nil {
			return Unauthorized("the token's user no longer exists")
		}
		if s.Stamp != passwordStamp(u) {
			return Unauthorized("the token was revoked by a password change")
		}
		ac.User, ac.UserID = u, s.UserID
		tokenKey().Set(ac, token)
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
		return Unauthorized("role %q is not one of the user's roles", value.Truncate(want, 64))
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
// known token reads neither: the token's session and its user record were a transaction
// and two JSON decodes per request. Every committed write to users, and every sign-out,
// on any node, empties it (through the sessions version, versions.go) (a generation counter keeps a lookup that raced with such a
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
	return value.Clone(e.user).(Record), e.userID, true
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
	c.entries[hash] = sessionEntry{user: value.Clone(u).(Record), userID: s.UserID, expires: s.ExpiresAt}
}

// roleCache keeps roles in memory; role writes on any node invalidate it (through the
// roles version, versions.go).
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

// Sign-in throttling (API.md §3): from the signInLimit-th failed sign-in for one account
// within signInWindow of the first failure counted, sign-ins for it answer 429 until the
// window ends. The count is kept in the store (store.SignInFailuresKey, with a TTL), so it
// survives restarts and holds for every node sharing the store.
const (
	signInLimit  = 10
	signInWindow = 15 * time.Minute
)

// signInFailures is what a sign-in failures key holds.
type signInFailures struct {
	Count int       `json:"count"`
	First time.Time `json:"first"`
}

// failuresKey is the throttling key of an account (an email or a username), lower case.
func failuresKey(account string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(account)))
	return store.SignInFailuresKey(h[:])
}

// reserveSignIn counts one more attempt against account before its password is
// checked, or refuses it with a 429 when the account's window is closed. Counting first
// means concurrent guesses cannot pass the limit; a successful attempt clears the count
// (clearSignIn).
func (a *App) reserveSignIn(ctx context.Context, account string) error {
	key := failuresKey(account)
	var wait time.Duration
	err := a.Update(ctx, func(tx *Tx) error {
		now := time.Now()
		wait = 0
		var f signInFailures
		b, err := tx.Get(key)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("core: read sign-in failures: %w", err)
		default:
			if json.Unmarshal(b, &f) != nil {
				f = signInFailures{}
			}
		}
		end := f.First.Add(signInWindow)
		if f.Count == 0 || !now.Before(end) {
			f = signInFailures{First: now}
			end = now.Add(signInWindow)
		}
		if f.Count >= signInLimit {
			wait = end.Sub(now)
			return nil
		}
		f.Count++
		b, _ = json.Marshal(f)
		return tx.SetTTL(key, b, end.Sub(now))
	})
	if err != nil {
		return err
	}
	if wait > 0 {
		return TooManyRequests(wait, "too many failed sign-ins for this account; try again later")
	}
	return nil
}

// checkPassword compares a password with a user's bcrypt hash. With no hash (an unknown
// account, a user without a password) it compares with a dummy hash of the same cost, so
// that the answer takes as long as for a wrong password.
func (a *App) checkPassword(hash, password string) bool {
	a.passwordChecks.Add(1)
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(a.dummy(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummy is the dummy hash checkPassword compares with, made once (at start, see
// bootstrapAuth, so that no sign-in pays for making it).
func (a *App) dummy() []byte {
	a.dummyOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte(randomToken(16)), a.cfg.BcryptCost)
		if err == nil {
			a.dummyHash = h
		}
	})
	return a.dummyHash
}

// findUser looks a user up by email (lower case; as stored too, for an old record that
// could not be lower-cased) or by username; nil when there is none.
func (a *App) findUser(tx *Tx, users *Collection, account string) (Record, error) {
	field, values := "username", []string{account}
	if strings.Contains(account, "@") {
		field, values = "email", []string{strings.ToLower(account)}
		if values[0] != account {
			values = append(values, account)
		}
	}
	for _, v := range values {
		ids, err := a.data.IndexIDs(tx, users, field, []any{v}, 1)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			return a.data.Get(tx, users, ids[0])
		}
	}
	return nil, nil
}

// SignIn checks credentials and makes a token. Failed attempts are throttled per account
// (signInLimit, signInWindow).
func (a *App) SignIn(ctx context.Context, account, password string) (token string, user Record, err error) {
	users, _ := a.schema.get(UsersCollection)
	account = strings.TrimSpace(account)
	var u Record
	err = a.View(ctx, func(tx *Tx) error {
		u, err = a.findUser(tx, users, account)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	throttle := account
	if e, ok := u["email"].(string); ok && e != "" {
		throttle = e // a user's attempts count together, by email or by username
	}
	if err := a.reserveSignIn(ctx, throttle); err != nil {
		return "", nil, err
	}
	hash, _ := u["password"].(string)
	if !a.checkPassword(hash, password) || u == nil {
		return "", nil, Unauthorized("wrong account or password")
	}
	token = randomToken(32)
	exp := time.Now().Add(a.cfg.TokenTTL)
	b, _ := json.Marshal(session{UserID: value.IDOf(u), ExpiresAt: exp, Stamp: passwordStamp(u)})
	err = a.Update(ctx, func(tx *Tx) error {
		if err := tx.Delete(failuresKey(throttle)); err != nil {
			return err
		}
		return tx.SetTTL(store.TokenKey(tokenHash(token)), b, a.cfg.TokenTTL)
	})
	if err != nil {
		return "", nil, fmt.Errorf("core: save token: %w", err)
	}
	return token, Desensitize(users, u), nil
}

// ChangePassword sets a user's password after checking the old one, which revokes every
// token of the user (see session). A wrong old password is a 400 naming oldPassword and
// counts as a failed sign-in of the user.
func (a *App) ChangePassword(ctx context.Context, userID uint64, oldPassword, newPassword string) (Record, error) {
	if newPassword == "" {
		return nil, BadRequest("newPassword", "is required")
	}
	if len(newPassword) > 72 {
		return nil, BadRequest("newPassword", "longer than 72 bytes")
	}
	users, _ := a.schema.get(UsersCollection)
	var u Record
	err := a.View(ctx, func(tx *Tx) error {
		var err error
		u, err = a.data.Get(tx, users, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	email, _ := u["email"].(string)
	if email == "" {
		email = fmt.Sprintf("user %d", userID) // an old record without email: a count of its own
	}
	if err := a.reserveSignIn(ctx, email); err != nil {
		return nil, err
	}
	hash, _ := u["password"].(string)
	if !a.checkPassword(hash, oldPassword) {
		return nil, BadRequest("oldPassword", "is not the user's password")
	}
	var rec Record
	err = a.Update(ctx, func(tx *Tx) error {
		prev, err := a.data.Get(tx, users, userID)
		if err != nil {
			return err
		}
		if prev["password"] != u["password"] {
			return Conflict("oldPassword", "the password changed meanwhile; try again")
		}
		if err := tx.Delete(failuresKey(email)); err != nil {
			return err
		}
		rec, err = a.data.UpdateRecord(tx, users, prev, map[string]any{"password": newPassword}, WriteOptions{UserID: userID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return Desensitize(users, rec), nil
}

// SignOut revokes a token.
func (a *App) SignOut(ctx context.Context, token string) error {
	return a.Update(ctx, func(tx *Tx) error {
		if err := tx.Delete(store.TokenKey(tokenHash(token))); err != nil {
			return err
		}
		return a.sessionsVersion.Bump(tx) // every node forgets its cached sessions
	})
}
