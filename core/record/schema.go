package record

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/actionflow/actionflow/core/query"
)

// FieldType is the type of a collection field (API.md §2).
type FieldType string

// Field types.
const (
	TypeString    FieldType = "string"
	TypeText      FieldType = "text"
	TypeInteger   FieldType = "integer"
	TypeFloat     FieldType = "float"
	TypeBoolean   FieldType = "boolean"
	TypeDate      FieldType = "date"
	TypeJSON      FieldType = "json"
	TypePassword  FieldType = "password"
	TypeBelongsTo FieldType = "belongsTo"
	TypeHasOne    FieldType = "hasOne"
	TypeHasMany   FieldType = "hasMany"
)

// Field is one field of a collection.
type Field struct {
	Name         string    `json:"name"`
	Type         FieldType `json:"type"`
	Title        string    `json:"title,omitempty"`
	Required     bool      `json:"required,omitempty"`
	Unique       bool      `json:"unique,omitempty"`
	Hidden       bool      `json:"hidden,omitempty"`
	Index        bool      `json:"index,omitempty"`
	DefaultValue any       `json:"defaultValue,omitempty"`
	Target       string    `json:"target,omitempty"`
	ForeignKey   string    `json:"foreignKey,omitempty"`
	// System marks the fields every record has (id, createdAt, ...); they are set by the server.
	System bool `json:"system,omitempty"`
	// Implicit marks a field the server added: a foreign key of an association.
	Implicit bool `json:"implicit,omitempty"`
}

// IsAssociation reports whether the field links to another collection.
func (f *Field) IsAssociation() bool {
	return f.Type == TypeBelongsTo || f.Type == TypeHasOne || f.Type == TypeHasMany
}

// IsToOne reports whether the field is a to-one association.
func (f *Field) IsToOne() bool { return f.Type == TypeBelongsTo || f.Type == TypeHasOne }

// Stored reports whether the field's value is kept in the record itself.
func (f *Field) Stored() bool { return !f.IsAssociation() }

// Indexed reports whether the field has a secondary index (foreign keys and index:true).
func (f *Field) Indexed() bool { return f.Index && !f.Unique }

func (f *Field) HiddenOnOutput() bool { return f.Hidden || f.Type == TypePassword }

// Collection is a collection definition (API.md §2).
type Collection struct {
	Name   string   `json:"name"`
	Title  string   `json:"title,omitempty"`
	Fields []*Field `json:"fields"`
	// System marks the built-in collections (users, roles).
	System bool `json:"system,omitempty"`

	byName map[string]*Field
}

// Field returns the named field.
func (c *Collection) Field(name string) (*Field, bool) {
	f, ok := c.byName[name]
	return f, ok
}

func (c *Collection) Reindex() {
	c.byName = make(map[string]*Field, len(c.Fields))
	for _, f := range c.Fields {
		c.byName[f.Name] = f
	}
}

func (c *Collection) clone() *Collection {
	n := &Collection{Name: c.Name, Title: c.Title, System: c.System, Fields: make([]*Field, len(c.Fields))}
	for i, f := range c.Fields {
		cp := *f
		n.Fields[i] = &cp
	}
	n.Reindex()
	return n
}

// Names of the built-in collections and fields.
const (
	UsersCollection = "users"
	RolesCollection = "roles"
)

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// reservedResources may not be used as collection names: they are resources of their own.
var reservedResources = map[string]bool{
	"auth": true, "collections": true, "workflows": true, "executions": true, "app": true,
}

// systemFields are the fields every collection gets (API.md §2).
func systemFields() []*Field {
	return []*Field{
		{Name: "id", Type: TypeInteger, System: true},
		{Name: "createdAt", Type: TypeDate, System: true},
		{Name: "updatedAt", Type: TypeDate, System: true},
		{Name: "createdById", Type: TypeInteger, System: true, Index: true},
		{Name: "updatedById", Type: TypeInteger, System: true},
		{Name: "createdBy", Type: TypeBelongsTo, Target: UsersCollection, ForeignKey: "createdById", System: true},
		{Name: "updatedBy", Type: TypeBelongsTo, Target: UsersCollection, ForeignKey: "updatedById", System: true},
	}
}

// isSystemField reports whether name is one of the system fields every collection has.
func isSystemField(name string) bool {
	for _, f := range systemFields() {
		if f.Name == name {
			return true
		}
	}
	return false
}

// validTypes lists the field types a client may declare.
var validTypes = map[FieldType]bool{
	TypeString: true, TypeText: true, TypeInteger: true, TypeFloat: true, TypeBoolean: true,
	TypeDate: true, TypeJSON: true, TypePassword: true, TypeBelongsTo: true, TypeHasOne: true, TypeHasMany: true,
}

// checkField validates a client-declared field in collection coll; param names the request
// part for error messages.
func checkField(coll string, f *Field, param string) error {
	if !identRe.MatchString(f.Name) {
		return fieldErrorf(param, "field name %q must be an identifier (letters, digits, _)", f.Name)
	}
	if !validTypes[f.Type] {
		return fieldErrorf(param, "field %q: unknown type %q", f.Name, f.Type)
	}
	if f.System || f.Implicit {
		return fieldErrorf(param, "field %q: system and implicit are set by the server", f.Name)
	}
	if f.IsAssociation() {
		if f.Target == "" {
			return fieldErrorf(param, "field %q: %s needs a target collection", f.Name, f.Type)
		}
		if !identRe.MatchString(f.Target) {
			return fieldErrorf(param, "field %q: target %q is not a collection name", f.Name, f.Target)
		}
		if f.ForeignKey != "" && !identRe.MatchString(f.ForeignKey) {
			return fieldErrorf(param, "field %q: foreignKey %q must be an identifier", f.Name, f.ForeignKey)
		}
		if f.Unique || f.DefaultValue != nil || f.Required && f.Type != TypeBelongsTo {
			return fieldErrorf(param, "field %q: unique, defaultValue and required do not apply to %s", f.Name, f.Type)
		}
		if f.Type == TypeBelongsTo && f.ForeignKey == "" {
			f.ForeignKey = f.Name + "Id"
		}
		if f.Type != TypeBelongsTo && f.ForeignKey == "" {
			f.ForeignKey = singular(coll) + "Id"
		}
		if isSystemField(f.ForeignKey) {
			// Writing the association would write the system field (the record's id, its
			// author): a belongsTo's key in this collection, a hasOne/hasMany's in the target.
			return fieldErrorf(param, "field %q: foreignKey %q is a system field", f.Name, f.ForeignKey)
		}
		return nil
	}
	if f.Target != "" || f.ForeignKey != "" {
		return fieldErrorf(param, "field %q: target and foreignKey only apply to associations", f.Name)
	}
	if f.Type == TypePassword && f.Unique {
		return fieldErrorf(param, "field %q: a password cannot be unique", f.Name)
	}
	if f.DefaultValue != nil {
		v, err := coerceValue(f, f.DefaultValue)
		if err != nil {
			return fieldErrorf(param, "field %q: defaultValue: %v", f.Name, err)
		}
		f.DefaultValue = v
	}
	return nil
}

// singular is the naive English singular used for default foreign keys: "categories" →
// "category", "posts" → "post".
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "ses") || strings.HasSuffix(s, "xes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return s[:len(s)-1]
	}
	return s
}

// NewCollection builds a collection from a client definition: it validates the fields and
// adds the system fields and the foreign keys of belongsTo fields.
func NewCollection(def *Collection) (*Collection, error) {
	if !identRe.MatchString(def.Name) {
		return nil, fieldErrorf("name", "collection name %q must be an identifier (letters, digits, _; at most 63)", def.Name)
	}
	if reservedResources[def.Name] && !def.System {
		return nil, fieldErrorf("name", "%q is a reserved resource name", def.Name)
	}
	c := &Collection{Name: def.Name, Title: def.Title, System: def.System}
	c.Fields = append(c.Fields, systemFields()...)
	c.Reindex()
	for i, f := range def.Fields {
		if err := c.AddField(f, fmt.Sprintf("fields[%d]", i)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// AddField validates f and appends it (with its foreign key, for belongsTo).
func (c *Collection) AddField(f *Field, param string) error {
	if f == nil {
		return fieldErrorf(param, "field must be an object")
	}
	cp := *f
	f = &cp
	if err := checkField(c.Name, f, param); err != nil {
		return err
	}
	if existing, ok := c.byName[f.Name]; ok {
		if !existing.Implicit {
			return &ConflictError{Field: param, Msg: fmt.Sprintf("field %q already exists", f.Name)}
		}
		if f.Type != existing.Type {
			return fieldErrorf(param, "field %q is the foreign key of an association and must be an integer", f.Name)
		}
		// A declared field takes over an implicit foreign key.
		*existing = *f
		existing.Index = true
		return nil
	}
	c.Fields = append(c.Fields, f)
	c.byName[f.Name] = f
	if f.Type == TypeBelongsTo {
		fk, ok := c.byName[f.ForeignKey]
		switch {
		case !ok:
			fk = &Field{Name: f.ForeignKey, Type: TypeInteger, Index: true, Implicit: true}
			c.Fields = append(c.Fields, fk)
			c.byName[fk.Name] = fk
		case fk.Type != TypeInteger:
			return fieldErrorf(param, "field %q: foreign key %q must be an integer field", f.Name, f.ForeignKey)
		default:
			fk.Index = true
		}
	}
	return nil
}

// Schema is an immutable snapshot of all collections, with the foreign keys that hasOne and
// hasMany fields need on their targets derived into the targets.
type Schema struct {
	colls map[string]*Collection
}

// Collection returns the named collection.
func (s *Schema) Collection(name string) (*Collection, bool) {
	c, ok := s.colls[name]
	return c, ok
}

// Collections lists the collections by name.
func (s *Schema) Collections() []*Collection {
	out := make([]*Collection, 0, len(s.colls))
	for _, c := range s.colls {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// BuildSchema makes a snapshot from stored definitions, adding derived foreign keys.
func BuildSchema(defs []*Collection) *Schema {
	s := &Schema{colls: make(map[string]*Collection, len(defs))}
	for _, d := range defs {
		c := d.clone()
		s.colls[c.Name] = c
	}
	for _, c := range s.colls {
		for _, f := range c.Fields {
			if f.Type != TypeHasMany && f.Type != TypeHasOne {
				continue
			}
			t, ok := s.colls[f.Target]
			if !ok {
				continue
			}
			if fk, ok := t.byName[f.ForeignKey]; ok {
				if fk.Type == TypeInteger {
					fk.Index = true
				}
				continue
			}
			fk := &Field{Name: f.ForeignKey, Type: TypeInteger, Index: true, Implicit: true}
			t.Fields = append(t.Fields, fk)
			t.byName[fk.Name] = fk
		}
	}
	return s
}

// resolvePath follows a dotted path through to-one associations and returns the final field.
func (s *Schema) resolvePath(c *Collection, path string) (*Field, error) {
	parts := strings.Split(path, ".")
	cur := c
	for i, p := range parts {
		f, ok := cur.Field(p)
		if !ok {
			return nil, fmt.Errorf("unknown field %q in %s", strings.Join(parts[:i+1], "."), c.Name)
		}
		if i == len(parts)-1 {
			return f, nil
		}
		if !f.IsToOne() {
			return nil, fmt.Errorf("%q is not a to-one association", strings.Join(parts[:i+1], "."))
		}
		t, ok := s.Collection(f.Target)
		if !ok {
			return nil, fmt.Errorf("association %q: target collection %q does not exist", p, f.Target)
		}
		cur = t
	}
	return nil, fmt.Errorf("empty path")
}

// Query resolves filter and sort paths of c in this snapshot, for query.ParseFilterValue
// and query.ParseSort.
func (s *Schema) Query(c *Collection) query.Schema { return querySchema{s: s, c: c} }

// querySchema adapts a collection to query.Schema.
type querySchema struct {
	s *Schema
	c *Collection
}

func (q querySchema) Resolve(path string) (query.Kind, error) {
	f, err := q.s.resolvePath(q.c, path)
	if err != nil {
		return 0, err
	}
	switch f.Type {
	case TypeString, TypeText:
		return query.KindString, nil
	case TypeInteger:
		return query.KindInteger, nil
	case TypeFloat:
		return query.KindFloat, nil
	case TypeBoolean:
		return query.KindBool, nil
	case TypeDate:
		return query.KindDate, nil
	case TypeJSON:
		return query.KindJSON, nil
	case TypePassword:
		return 0, fmt.Errorf("field %q cannot be filtered", path)
	}
	return 0, fmt.Errorf("%q is an association; filter on one of its fields, e.g. %q", path, path+".id")
}
