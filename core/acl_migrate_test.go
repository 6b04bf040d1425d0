package core

import (
	"context"
	"testing"
)

// TestMemberMigration: a data directory whose member role record is still the old
// default (allowAll, never written since) gets member's scoped permissions on start; a
// member record that root edited is kept as it is.
func TestMemberMigration(t *testing.T) {
	tests := []struct {
		name     string
		editedBy any // the record's updatedById
		want     grantKind
	}{
		{"old default", nil, grantOwn},
		{"edited by root", int64(1), grantAll},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{DataDir: dir, RootPassword: "root-pw", BcryptCost: 4}
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			roles, _ := a.schema.get(RolesCollection)
			// Make the record what an earlier version wrote: allowAll true.
			err = a.Update(context.Background(), func(tx *Tx) error {
				ids, err := a.data.IndexIDs(tx, roles, "name", []any{RoleMember}, 1)
				if err != nil {
					return err
				}
				rec, err := a.data.Get(tx, roles, ids[0])
				if err != nil {
					return err
				}
				rec["allowAll"] = true
				rec["updatedById"] = tc.editedBy
				if tc.editedBy != nil {
					rec["updatedAt"] = "2030-01-01T00:00:00.000Z"
				}
				return a.data.PutRaw(tx, roles, ids[0], rec)
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Close(context.Background()); err != nil {
				t.Fatal(err)
			}

			a, err = New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close(context.Background())
			posts := &Collection{Name: "posts"}
			g, err := a.grant(RoleMember, posts, "update")
			if err != nil {
				t.Fatal(err)
			}
			if g != tc.want {
				t.Fatalf("member's update on posts: %v, want %v", g, tc.want)
			}
		})
	}
}
