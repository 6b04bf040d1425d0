package core

import (
	"time"

	"github.com/actionflow/actionflow/core/record"
)

// The record layer lives in core/record; these names keep it reachable as core's, so
// plugins and scripts written against core read the same.

type (
	// Data is the record layer (record.Data).
	Data = record.Data
	// Tx is one store transaction as the record layer and plugins see it (record.Tx).
	Tx = record.Tx
	// Record is one record's values (record.Record).
	Record = record.Record
	// Schema is a snapshot of all collections (record.Schema).
	Schema = record.Schema
	// Collection is a collection definition (record.Collection).
	Collection = record.Collection
	// Field is one field of a collection (record.Field).
	Field = record.Field
	// FieldType is the type of a field (record.FieldType).
	FieldType = record.FieldType
	// WriteOptions says who writes and on whose behalf (record.WriteOptions).
	WriteOptions = record.WriteOptions
	// Selector picks the records of an update or destroy (record.Selector).
	Selector = record.Selector
	// ListQuery is a list's filter, sort and page (record.ListQuery).
	ListQuery = record.ListQuery
	// EventKind says what a write did (record.EventKind).
	EventKind = record.EventKind
	// RecordEvent is handed to record listeners (record.RecordEvent).
	RecordEvent = record.RecordEvent
	// RecordListener sees every write, inside its transaction (record.RecordListener).
	RecordListener = record.RecordListener
	// FieldError is a value the record layer refuses: a 400 (record.FieldError).
	FieldError = record.FieldError
	// NotFoundError is a missing collection or record: a 404 (record.NotFoundError).
	NotFoundError = record.NotFoundError
	// UniqueError is a taken value of a unique field: a 409 (record.UniqueError).
	UniqueError = record.UniqueError
	// ConflictError is a definition that clashes with another: a 409 (record.ConflictError).
	ConflictError = record.ConflictError
)

// Field types (record's).
const (
	TypeString    = record.TypeString
	TypeText      = record.TypeText
	TypeInteger   = record.TypeInteger
	TypeFloat     = record.TypeFloat
	TypeBoolean   = record.TypeBoolean
	TypeDate      = record.TypeDate
	TypeJSON      = record.TypeJSON
	TypePassword  = record.TypePassword
	TypeBelongsTo = record.TypeBelongsTo
	TypeHasOne    = record.TypeHasOne
	TypeHasMany   = record.TypeHasMany
)

// Kinds of record events (record's).
const (
	EventCreate  = record.EventCreate
	EventUpdate  = record.EventUpdate
	EventDestroy = record.EventDestroy
)

// Names of the built-in collections.
const (
	UsersCollection = record.UsersCollection
	RolesCollection = record.RolesCollection
)

// TimeFormat is how dates are stored and rendered (record.TimeFormat).
const TimeFormat = record.TimeFormat

// MaxJSONDepth is how deep a JSON field's value may nest (record.MaxJSONDepth).
const MaxJSONDepth = record.MaxJSONDepth

// FormatTime renders t as a stored date (record.FormatTime).
func FormatTime(t time.Time) string { return record.FormatTime(t) }

// IsStoredJSON reports whether v is a JSON value in stored form (record.IsStoredJSON).
func IsStoredJSON(v any) (bool, error) { return record.IsStoredJSON(v) }

// EqualValues compares two record values (record.EqualValues).
func EqualValues(a, b any) bool { return record.EqualValues(a, b) }

// Desensitize returns a copy of r without its hidden and password fields (record.Desensitize).
func Desensitize(c *Collection, r Record) Record { return record.Desensitize(c, r) }

// The record layer's helpers core's resources use.

func decodeRecord(c *Collection, b []byte) (Record, error) { return record.DecodeRecord(c, b) }
func decodeJSON(b []byte, v any) error                     { return record.DecodeJSON(b, v) }
func newCollection(def *Collection) (*Collection, error)   { return record.NewCollection(def) }
func buildSchema(defs []*Collection) *Schema               { return record.BuildSchema(defs) }
func typeValues(c *Collection, values map[string]any, create bool) (map[string]any, error) {
	return record.TypeValues(c, values, create)
}
