package record

import (
	"errors"
	"fmt"

	"github.com/actionflow/actionflow/core/value"
)

// Errors of the record layer (Data): they say what went wrong, without an HTTP status. A
// plugin or the Lua db module reads them as they are; the renderer maps them to statuses in
// one place (asError).

// Errors of the record layer, by kind: errors.Is matches a NotFoundError with ErrNotFound,
// a UniqueError or a ConflictError with ErrConflict.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// FieldError is a value or parameter the record layer refuses: a 400 INVALID_INPUT naming
// Field (empty when no single field is at fault).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// fieldErrorf is a FieldError with a formatted message.
func fieldErrorf(field, format string, a ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// NotFoundError is a collection (ID 0) or a record that does not exist: a 404. It is
// ErrNotFound for errors.Is.
type NotFoundError struct {
	Collection string
	ID         uint64
}

func (e *NotFoundError) Error() string {
	if e.ID == 0 {
		return fmt.Sprintf("collection %q not found", e.Collection)
	}
	return fmt.Sprintf("%s %d not found", e.Collection, e.ID)
}

// Is makes a NotFoundError match ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// UniqueError is a value of a unique field that another record holds: a 409 naming Field.
// It is ErrConflict for errors.Is.
type UniqueError struct {
	Field string
	Value any
	// Hidden: the field is never returned, so the message does not echo its value.
	Hidden bool
}

func (e *UniqueError) Error() string { return e.Field + ": " + e.Msg() }

// Msg is the message without the field's name.
func (e *UniqueError) Msg() string {
	if e.Hidden {
		return "is already taken"
	}
	return fmt.Sprintf("value %s is already taken", value.Truncate(fmt.Sprint(e.Value), 60))
}

// Is makes a UniqueError match ErrConflict.
func (e *UniqueError) Is(target error) bool { return target == ErrConflict }

// ConflictError is a definition that clashes with an existing one (a field declared twice):
// a 409 naming Field. It is ErrConflict for errors.Is.
type ConflictError struct {
	Field string
	Msg   string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Msg }

// Is makes a ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
