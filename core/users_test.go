package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/store"
	"golang.org/x/crypto/bcrypt"
)

// errField is the field the first error of a response names.
func errField(t *testing.T, r coretest.Response) string {
	t.Helper()
	errs, _ := r.Body["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("no errors in %s", r.Raw)
	}
	m, _ := errs[0].(map[string]any)
	f, _ := m["field"].(string)
	return f
}

func TestChangePassword(t *testing.T) {
	s := coretest.New(t, core.Config{})
	tok := s.User("cp@x.io", "member")
	other := s.SignIn("cp@x.io", "pw-cp@x.io") // a second token of the same user

	bad := []struct {
		name  string
		body  any
		field string
	}{
		{"wrong old password", map[string]any{"oldPassword": "nope", "newPassword": "new-pw"}, "oldPassword"},
		{"no old password", map[string]any{"newPassword": "new-pw"}, "oldPassword"},
		{"empty new password", map[string]any{"oldPassword": "pw-cp@x.io", "newPassword": ""}, "newPassword"},
		{"no body", nil, "body"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Post("/api/auth:changePassword", tok, tc.body).Must(t, 400)
			if f := errField(t, r); f != tc.field {
				t.Fatalf("field = %q, want %q", f, tc.field)
			}
			s.Get("/api/auth:check", tok).Must(t, 200) // nothing changed
		})
	}
	t.Run("needs a token", func(t *testing.T) {
		s.Post("/api/auth:changePassword", "", map[string]any{"oldPassword": "pw-cp@x.io", "newPassword": "x"}).Must(t, 401)
	})
	t.Run("revokes every token of the user", func(t *testing.T) {
		s.Get("/api/auth:check", tok).Must(t, 200) // cached
		u := s.Post("/api/auth:changePassword", tok, map[string]any{"oldPassword": "pw-cp@x.io", "newPassword": "new-pw"}).Must(t, 200).Obj(t)
		if u["email"] != "cp@x.io" || u["password"] != nil {
			t.Fatalf("user = %v", u)
		}
		s.Get("/api/auth:check", tok).Must(t, 401)
		s.Get("/api/auth:check", other).Must(t, 401)
		s.Get("/api/auth:check", s.Root).Must(t, 200)
		s.Post("/api/auth:signIn", "", map[string]any{"email": "cp@x.io", "password": "pw-cp@x.io"}).Must(t, 401)
		fresh := s.SignIn("cp@x.io", "new-pw")
		s.Get("/api/auth:check", fresh).Must(t, 200)
	})
}

// TestPasswordWriteRevokesTokens: root setting a user's password with users:update revokes
// the user's tokens, also the ones the session cache holds; other writes do not.
func TestPasswordWriteRevokesTokens(t *testing.T) {
	s := coretest.New(t, core.Config{})
	cases := []struct {
		name   string
		values map[string]any
		status int // of the user's old token afterwards
	}{
		{"password set by root", map[string]any{"password": "set-by-root"}, 401},
		{"nickname set by root", map[string]any{"nickname": "N"}, 200},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := fmt.Sprintf("rv%d@x.io", i)
			tok := s.User(email, "member")
			u := s.Get("/api/auth:check", tok).Must(t, 200).Obj(t)
			s.Get("/api/auth:check", tok).Must(t, 200) // a cache hit
			s.Post(fmt.Sprintf("/api/users:update?filterByTk=%d", coretest.ID(t, u)), s.Root, tc.values).Must(t, 200)
			s.Get("/api/auth:check", tok).Must(t, tc.status)
			s.Get("/api/auth:check", s.Root).Must(t, 200)
		})
	}
}

func TestSignInThrottle(t *testing.T) {
	s := coretest.New(t, core.Config{})
	for _, e := range []string{"t1@x.io", "t2@x.io", "t4@x.io", "t5@x.io"} {
		s.User(e, "member")
	}
	s.Post("/api/users:create", s.Root, map[string]any{"email": "t3@x.io", "username": "tee3", "password": "pw-t3"}).Must(t, 200)
	signIn := func(account, pw string) coretest.Response {
		return s.Post("/api/auth:signIn", "", map[string]any{"account": account, "password": pw})
	}
	fail := func(t *testing.T, n int, account string) {
		t.Helper()
		for i := 0; i < n; i++ {
			signIn(account, "wrong").Must(t, 401)
		}
	}
	closed := func(t *testing.T, r coretest.Response) {
		t.Helper()
		r.Must(t, 429)
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 15*60 {
			t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
	}
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"ten failures close the window, right password too", func(t *testing.T) {
			fail(t, 10, "t1@x.io")
			closed(t, signIn("t1@x.io", "pw-t1@x.io"))
			closed(t, signIn("t1@x.io", "wrong"))
			s.SignIn("t2@x.io", "pw-t2@x.io") // another account is not throttled
		}},
		{"the email's case does not matter", func(t *testing.T) {
			fail(t, 10, "T2@X.IO")
			closed(t, signIn("t2@x.io", "pw-t2@x.io"))
		}},
		{"email and username count together", func(t *testing.T) {
			fail(t, 5, "t3@x.io")
			fail(t, 5, "tee3")
			closed(t, signIn("t3@x.io", "pw-t3"))
		}},
		{"a success resets the count", func(t *testing.T) {
			fail(t, 9, "t4@x.io")
			s.SignIn("t4@x.io", "pw-t4@x.io")
			fail(t, 9, "t4@x.io")
			s.SignIn("t4@x.io", "pw-t4@x.io")
		}},
		{"an unknown email is throttled like a known one", func(t *testing.T) {
			fail(t, 10, "nobody@x.io")
			closed(t, signIn("nobody@x.io", "wrong"))
		}},
		{"wrong old passwords of changePassword count", func(t *testing.T) {
			tok := s.SignIn("t5@x.io", "pw-t5@x.io")
			for i := 0; i < 10; i++ {
				s.Post("/api/auth:changePassword", tok, map[string]any{"oldPassword": "wrong", "newPassword": "x"}).Must(t, 400)
			}
			closed(t, s.Post("/api/auth:changePassword", tok, map[string]any{"oldPassword": "pw-t5@x.io", "newPassword": "x"}))
			closed(t, signIn("t5@x.io", "pw-t5@x.io"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

// TestSignInChecksAPasswordForEveryAccount: an unknown account costs a bcrypt comparison
// like a wrong password, so the answer's time does not tell whether the account exists.
func TestSignInChecksAPasswordForEveryAccount(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.User("known@x.io", "member")
	for _, account := range []string{"unknown@x.io", "unknown-username", "known@x.io"} {
		t.Run(account, func(t *testing.T) {
			before := s.App.PasswordChecks()
			s.Post("/api/auth:signIn", "", map[string]any{"account": account, "password": "wrong"}).Must(t, 401)
			if n := s.App.PasswordChecks() - before; n != 1 {
				t.Fatalf("%d password comparisons, want 1", n)
			}
		})
	}
}

func TestUserEmailsAndPasswords(t *testing.T) {
	s := coretest.New(t, core.Config{})
	cases := []struct {
		name   string
		values map[string]any
		status int
		field  string
	}{
		{"email clashes whatever its case", map[string]any{"email": "ROOT@actionflow.local", "password": "p"}, 409, "email"},
		{"not an address", map[string]any{"email": "not-an-email", "password": "p"}, 400, "email"},
		{"display name", map[string]any{"email": "Bob <bob@x.io>", "password": "p"}, 400, "email"},
		{"no password", map[string]any{"email": "nopw@x.io"}, 400, "password"},
		{"null password", map[string]any{"email": "nopw@x.io", "password": nil}, 400, "password"},
		{"empty password", map[string]any{"email": "nopw@x.io", "password": ""}, 400, "password"},
		{"mixed case is stored lower case", map[string]any{"email": " Mixed@X.io ", "password": "p"}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Post("/api/users:create", s.Root, tc.values).Must(t, tc.status)
			if tc.status != 200 {
				if f := errField(t, r); f != tc.field {
					t.Fatalf("field = %q, want %q", f, tc.field)
				}
				return
			}
			if e := r.Obj(t)["email"]; e != "mixed@x.io" {
				t.Fatalf("email = %v", e)
			}
			s.SignIn("MIXED@x.IO", "p")
		})
	}
	id := coretest.ID(t, s.Post("/api/users:create", s.Root, map[string]any{"email": "upd@x.io", "password": "p"}).Must(t, 200).Obj(t))
	updates := []struct {
		name   string
		values map[string]any
		status int
	}{
		{"update to an invalid email", map[string]any{"email": "bad"}, 400},
		{"update to a taken email in upper case", map[string]any{"email": "ROOT@ACTIONFLOW.LOCAL"}, 409},
		{"update to no password", map[string]any{"password": nil}, 400},
		{"update to an empty password", map[string]any{"password": ""}, 400},
		{"update of the nickname only", map[string]any{"nickname": "U"}, 200},
	}
	for _, tc := range updates {
		t.Run(tc.name, func(t *testing.T) {
			s.Post(fmt.Sprintf("/api/users:update?filterByTk=%d", id), s.Root, tc.values).Must(t, tc.status)
		})
	}
	t.Run("the root email of the configuration is lower-cased", func(t *testing.T) {
		app, err := core.New(core.Config{InMemory: true, BcryptCost: 4, RootEmail: "Boss@Example.COM", RootPassword: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close(context.Background())
		_, u, err := app.SignIn(context.Background(), "boss@example.com", "pw")
		if err != nil || u["email"] != "boss@example.com" {
			t.Fatalf("user = %v, err = %v", u, err)
		}
	})
}

// TestMixedCaseEmailsOfOldDataAreNormalised: users written before emails were lower-cased
// are lower-cased on start, so that sign-in (which looks emails up lower case) finds them.
func TestMixedCaseEmailsOfOldDataAreNormalised(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := core.Config{DataDir: dir, RootPassword: "root-pw", BcryptCost: 4}
	app, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := app.Data().Schema().Collection(core.UsersCollection)
	id, err := app.Data().NewID(users)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("old-pw"), 4)
	rec, _ := json.Marshal(map[string]any{"id": id, "email": "Old@X.io", "password": string(hash), "roles": []string{"member"}})
	uk, _ := store.UniqueKey(core.UsersCollection, "email", "Old@X.io")
	err = app.Store().Update(func(tx store.Txn) error { // as an older version stored it
		if err := tx.Set(store.RecordKey(core.UsersCollection, id), rec); err != nil {
			return err
		}
		return tx.Set(uk, store.EncodeID(id))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(ctx); err != nil {
		t.Fatal(err)
	}
	app, err = core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	for _, account := range []string{"old@x.io", "OLD@x.io", "Old@X.io"} {
		t.Run(account, func(t *testing.T) {
			_, u, err := app.SignIn(ctx, account, "old-pw")
			if err != nil {
				t.Fatal(err)
			}
			if u["email"] != "old@x.io" {
				t.Fatalf("email = %v", u["email"])
			}
		})
	}
}

func TestUpdateProfile(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Post("/api/collections/users/fields:create", s.Root, map[string]any{"name": "phone", "type": "string"}).Must(t, 200)
	s.Post("/api/collections/users/fields:create", s.Root, map[string]any{"name": "credits", "type": "integer", "hidden": true}).Must(t, 200)
	tok := s.User("me@x.io", "member")
	me := coretest.ID(t, s.Get("/api/auth:check", tok).Must(t, 200).Obj(t))
	cases := []struct {
		name   string
		values map[string]any
		status int
		field  string
	}{
		{"nickname", map[string]any{"nickname": "Neo", "username": "neo"}, 200, ""},
		{"custom field", map[string]any{"phone": "123"}, 200, ""},
		{"email is lower-cased", map[string]any{"email": "Me2@X.io"}, 200, ""},
		{"roles", map[string]any{"roles": []any{"root"}}, 400, "roles"},
		{"password", map[string]any{"password": "x"}, 400, "password"},
		{"hidden field", map[string]any{"credits": 100}, 400, "credits"},
		{"unknown field", map[string]any{"nope": 1}, 400, "nope"},
		{"taken email", map[string]any{"email": "ROOT@actionflow.local"}, 409, "email"},
		{"invalid email", map[string]any{"email": "nope"}, 400, "email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// filterByTk names root: updateProfile ignores it and changes the caller only.
			r := s.Post("/api/users:updateProfile?filterByTk=1", tok, tc.values).Must(t, tc.status)
			if tc.status != 200 {
				if f := errField(t, r); f != tc.field {
					t.Fatalf("field = %q, want %q", f, tc.field)
				}
				return
			}
			if coretest.ID(t, r.Obj(t)) != me {
				t.Fatalf("changed %s", r.Raw)
			}
		})
	}
	u := s.Get("/api/auth:check", tok).Must(t, 200).Obj(t) // the token still holds
	if u["nickname"] != "Neo" || u["username"] != "neo" || u["phone"] != "123" || u["email"] != "me2@x.io" || fmt.Sprint(u["roles"]) != "[member]" {
		t.Fatalf("user = %v", u)
	}
	if root := s.Get("/api/auth:check", s.Root).Must(t, 200).Obj(t); root["nickname"] != "Super Admin" {
		t.Fatalf("root = %v", root)
	}
	s.Post(fmt.Sprintf("/api/users:update?filterByTk=%d", me), tok, map[string]any{"nickname": "x"}).Must(t, 403)
	s.Post("/api/users:updateProfile", "", map[string]any{"nickname": "x"}).Must(t, 401)
}

func TestSystemSchemas(t *testing.T) {
	s := coretest.New(t, core.Config{})
	admin := s.User("adm@x.io", "admin")
	s.Collection(`{"name":"filled","fields":[{"name":"a","type":"string"}]}`)
	s.Collection(`{"name":"empty","fields":[{"name":"a","type":"string"}]}`)
	s.Post("/api/filled:create", s.Root, map[string]any{"a": "x"}).Must(t, 200)
	cases := []struct {
		name   string
		token  string
		coll   string
		field  map[string]any
		status int
	}{
		{"admin adds a field to users", admin, "users", map[string]any{"name": "phone", "type": "string"}, 403},
		{"root adds a field to users", s.Root, "users", map[string]any{"name": "phone", "type": "string"}, 200},
		{"root adds a required field without default to users", s.Root, "users", map[string]any{"name": "dept", "type": "string", "required": true}, 400},
		{"root adds a required field with a default to users", s.Root, "users", map[string]any{"name": "dept", "type": "string", "required": true, "defaultValue": "none"}, 200},
		{"root adds a field to roles", s.Root, "roles", map[string]any{"name": "x", "type": "string"}, 403},
		{"admin adds a field to roles", admin, "roles", map[string]any{"name": "x", "type": "string"}, 403},
		{"admin adds a hasMany that would change users", admin, "filled", map[string]any{"name": "fans", "type": "hasMany", "target": "users"}, 403},
		{"required without default on a collection with records", s.Root, "filled", map[string]any{"name": "r", "type": "string", "required": true}, 400},
		{"required belongsTo on a collection with records", s.Root, "filled", map[string]any{"name": "owner", "type": "belongsTo", "target": "users", "required": true}, 400},
		{"required with a default on a collection with records", s.Root, "filled", map[string]any{"name": "r", "type": "string", "required": true, "defaultValue": "d"}, 200},
		{"required without default on an empty collection", s.Root, "empty", map[string]any{"name": "r", "type": "string", "required": true}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Post("/api/collections/"+tc.coll+"/fields:create", tc.token, tc.field).Must(t, tc.status)
		})
	}
	t.Run("root still creates users", func(t *testing.T) {
		u := s.Post("/api/users:create", s.Root, map[string]any{"email": "new@x.io", "password": "p"}).Must(t, 200).Obj(t)
		if u["dept"] != "none" {
			t.Fatalf("user = %v", u)
		}
	})
	for _, name := range []string{"users", "roles"} {
		t.Run("collections:update of "+name, func(t *testing.T) {
			s.Post("/api/collections:update?filterByTk="+name, s.Root, map[string]any{"title": "x"}).Must(t, 403)
			s.Post("/api/collections:destroy?filterByTk="+name, s.Root, nil).Must(t, 403)
		})
	}
}

func TestFieldsDestroy(t *testing.T) {
	s := coretest.New(t, core.Config{})
	admin := s.User("adm@x.io", "admin")
	s.Collection(`{"name":"categories","fields":[{"name":"name","type":"string"},{"name":"notes","type":"hasMany","target":"notes","foreignKey":"categoryId"}]}`)
	s.Collection(`{"name":"notes","fields":[{"name":"code","type":"string","unique":true},{"name":"tag","type":"string","index":true},` +
		`{"name":"owner","type":"belongsTo","target":"users"},{"name":"title","type":"string"}]}`)
	s.Post("/api/collections/users/fields:create", s.Root, map[string]any{"name": "phone", "type": "string"}).Must(t, 200)
	cat := coretest.ID(t, s.Post("/api/categories:create", s.Root, map[string]any{"name": "c"}).Must(t, 200).Obj(t))
	note := coretest.ID(t, s.Post("/api/notes:create", s.Root, map[string]any{"code": "A1", "tag": "t", "owner": 1, "title": "x", "categoryId": cat}).Must(t, 200).Obj(t))
	destroy := func(token, coll, field string) coretest.Response {
		return s.Post("/api/collections/"+coll+"/fields:destroy?filterByTk="+field, token, nil)
	}
	getNote := func(t *testing.T) map[string]any {
		t.Helper()
		return s.Get(fmt.Sprintf("/api/notes:get?filterByTk=%d", note), s.Root).Must(t, 200).Obj(t)
	}
	refused := []struct {
		name   string
		token  string
		coll   string
		field  string
		status int
	}{
		{"system field id", s.Root, "notes", "id", 400},
		{"system field createdBy", s.Root, "notes", "createdBy", 400},
		{"foreign key of a belongsTo", s.Root, "notes", "ownerId", 400},
		{"foreign key derived from a hasMany", s.Root, "notes", "categoryId", 400},
		{"unknown field", s.Root, "notes", "nope", 404},
		{"no field named", s.Root, "notes", "", 400},
		{"unknown collection", s.Root, "nope", "a", 404},
		{"a field users were defined with", s.Root, "users", "email", 400},
		{"a custom field of users by admin", admin, "users", "phone", 403},
		{"a field of roles", s.Root, "roles", "title", 403},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			destroy(tc.token, tc.coll, tc.field).Must(t, tc.status)
		})
	}
	t.Run("a unique field comes back empty", func(t *testing.T) {
		destroy(s.Root, "notes", "code").Must(t, 200)
		if n := getNote(t); n["code"] != nil {
			t.Fatalf("note = %v", n)
		}
		s.Post("/api/notes:create", s.Root, map[string]any{"code": "A1"}).Must(t, 400) // unknown field now
		s.Post("/api/collections/notes/fields:create", s.Root, map[string]any{"name": "code", "type": "string", "unique": true}).Must(t, 200)
		if n := getNote(t); n["code"] != nil {
			t.Fatalf("note = %v", n)
		}
		s.Post("/api/notes:create", s.Root, map[string]any{"code": "A1"}).Must(t, 200) // the old value's index entry went
	})
	t.Run("an indexed field comes back empty", func(t *testing.T) {
		destroy(s.Root, "notes", "tag").Must(t, 200)
		s.Post("/api/collections/notes/fields:create", s.Root, map[string]any{"name": "tag", "type": "string", "index": true}).Must(t, 200)
		r := s.Get(`/api/notes:list?filter={"tag":"t"}`, s.Root).Must(t, 200)
		if n := coretest.Num(r.Body["meta"].(map[string]any)["count"]); n != 0 {
			t.Fatalf("notes tagged t: %s", r.Raw)
		}
	})
	t.Run("a belongsTo takes its foreign key along", func(t *testing.T) {
		destroy(s.Root, "notes", "owner").Must(t, 200)
		if n := getNote(t); n["ownerId"] != nil || n["title"] != "x" {
			t.Fatalf("note = %v", n)
		}
		s.Post("/api/notes:create", s.Root, map[string]any{"ownerId": 1}).Must(t, 400)
	})
	t.Run("a hasMany takes the foreign key it derived along", func(t *testing.T) {
		destroy(s.Root, "categories", "notes").Must(t, 200)
		if n := getNote(t); n["categoryId"] != nil {
			t.Fatalf("note = %v", n)
		}
	})
	t.Run("root removes a custom field of users", func(t *testing.T) {
		s.Post("/api/users:updateProfile", s.Root, map[string]any{"phone": "1"}).Must(t, 200)
		destroy(s.Root, "users", "phone").Must(t, 200)
		if u := s.Get("/api/auth:check", s.Root).Must(t, 200).Obj(t); u["phone"] != nil {
			t.Fatalf("root = %v", u)
		}
	})
}
