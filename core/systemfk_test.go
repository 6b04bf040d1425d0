package core_test

import (
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestSystemForeignKeyRefused: an association whose foreign key names a system field is
// refused at collections:create and fields:create (a member writing the association would
// rewrite the record's id or forge its author).
func TestSystemForeignKeyRefused(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"cats","fields":[{"name":"name","type":"string"}]}`)
	for _, tc := range []struct {
		name, path string
		body       map[string]any
	}{
		{"belongsTo on id", "/api/collections/cats/fields:create",
			map[string]any{"name": "idp", "type": "belongsTo", "target": "cats", "foreignKey": "id"}},
		{"belongsTo on createdById", "/api/collections/cats/fields:create",
			map[string]any{"name": "owner", "type": "belongsTo", "target": "users", "foreignKey": "createdById"}},
		{"belongsTo on updatedById", "/api/collections/cats/fields:create",
			map[string]any{"name": "editor", "type": "belongsTo", "target": "users", "foreignKey": "updatedById"}},
		{"hasMany with the target's createdById", "/api/collections/cats/fields:create",
			map[string]any{"name": "kittens", "type": "hasMany", "target": "cats", "foreignKey": "createdById"}},
		{"hasOne with the target's id", "/api/collections/cats/fields:create",
			map[string]any{"name": "twin", "type": "hasOne", "target": "cats", "foreignKey": "id"}},
		{"belongsTo on id at collections:create", "/api/collections:create",
			map[string]any{"name": "dogs", "fields": []any{map[string]any{"name": "idp", "type": "belongsTo", "target": "cats", "foreignKey": "id"}}}},
		{"belongsTo on createdAt at collections:create", "/api/collections:create",
			map[string]any{"name": "dogs", "fields": []any{map[string]any{"name": "at", "type": "belongsTo", "target": "cats", "foreignKey": "createdAt"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Post(tc.path, s.Root, tc.body).Must(t, 400)
			if msg := r.ErrMsg(t); !strings.Contains(msg, "system field") {
				t.Fatalf("message %q does not say system field", msg)
			}
		})
	}
}
