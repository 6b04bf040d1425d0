package record

import "testing"

// TestPrepareValuesSkipsSystemForeignKey: a belongsTo stored before checkField refused a
// system foreign key never writes that system field.
func TestPrepareValuesSkipsSystemForeignKey(t *testing.T) {
	c := &Collection{Name: "cats", Fields: append(systemFields(),
		&Field{Name: "idp", Type: TypeBelongsTo, Target: "cats", ForeignKey: "id"},
		&Field{Name: "owner", Type: TypeBelongsTo, Target: "users", ForeignKey: "createdById"},
		&Field{Name: "name", Type: TypeString},
	)}
	c.Reindex()
	d := &Data{}
	for _, tc := range []struct {
		name   string
		values map[string]any
		field  string
	}{
		{"id through a belongsTo", map[string]any{"idp": 1}, "id"},
		{"id through a belongsTo object", map[string]any{"idp": map[string]any{"id": 1}}, "id"},
		{"createdById through a belongsTo", map[string]any{"owner": 2}, "createdById"},
	} {
		for _, create := range []bool{true, false} {
			t.Run(tc.name, func(t *testing.T) {
				out, err := d.prepareValues(c, tc.values, create)
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := out[tc.field]; ok {
					t.Fatalf("create=%v: %s written: %v", create, tc.field, v)
				}
			})
		}
	}
}
