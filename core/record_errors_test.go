package core

import (
	"errors"
	"fmt"
	"testing"

	"github.com/actionflow/actionflow/store"
)

// TestRecordErrorStatus: the record layer's errors carry no HTTP status; asError, the one
// place errors meet statuses, gives each the answer the data API has always given.
func TestRecordErrorStatus(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		text    string // Error(): what a plugin or the Lua db module reads
		status  int
		code    string
		message string
		field   string
		is      error
	}{
		{"bad value", &FieldError{Field: "title", Msg: "must be a string, got a number"},
			"title: must be a string, got a number", 400, "INVALID_INPUT", "title: must be a string, got a number", "title", nil},
		{"bad value, no field", &FieldError{Msg: "values must be an object"},
			"values must be an object", 400, "INVALID_INPUT", "values must be an object", "", nil},
		{"wrapped bad value", fmt.Errorf("hook: %w", &FieldError{Field: "n", Msg: "is required"}),
			"hook: n: is required", 400, "INVALID_INPUT", "n: is required", "n", nil},
		{"missing record", &NotFoundError{Collection: "posts", ID: 7},
			"posts 7 not found", 404, "NOT_FOUND", "posts 7 not found", "", ErrNotFound},
		{"missing collection", &NotFoundError{Collection: "nope"},
			`collection "nope" not found`, 404, "NOT_FOUND", `collection "nope" not found`, "", ErrNotFound},
		{"taken unique value", &UniqueError{Field: "email", Value: "a@b.c"},
			"email: value a@b.c is already taken", 409, "CONFLICT", "email: value a@b.c is already taken", "email", ErrConflict},
		{"taken long value is cut", &UniqueError{Field: "slug", Value: string(make([]byte, 61))},
			"slug: value " + string(make([]byte, 60)) + "… is already taken", 409, "CONFLICT",
			"slug: value " + string(make([]byte, 60)) + "… is already taken", "slug", ErrConflict},
		{"clashing definition", &ConflictError{Field: "body", Msg: `field "title" already exists`},
			`body: field "title" already exists`, 409, "CONFLICT", `body: field "title" already exists`, "body", ErrConflict},
		{"transaction too big", fmt.Errorf("core: write: %w", store.ErrTooBig),
			"core: write: " + store.ErrTooBig.Error(), 400, "TOO_MANY_CHANGES",
			"the action writes more than one transaction can hold: narrow it (its filter) or split it into smaller actions", "", store.ErrTooBig},
		{"an Error keeps its status", Forbidden("no"), "no", 403, "FORBIDDEN", "no", "", nil},
		{"anything else is a 500", errors.New("disk on fire"), "disk on fire", 500, "INTERNAL", "internal server error", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.text {
				t.Errorf("Error() = %q, want %q", got, tc.text)
			}
			e := asError(tc.err)
			if e.Status != tc.status || e.Code != tc.code || e.Message != tc.message || e.Field != tc.field {
				t.Fatalf("asError = %d %s %q field %q; want %d %s %q field %q",
					e.Status, e.Code, e.Message, e.Field, tc.status, tc.code, tc.message, tc.field)
			}
			if tc.is != nil && !errors.Is(tc.err, tc.is) {
				t.Fatalf("errors.Is(%v, %v) = false", tc.err, tc.is)
			}
		})
	}
}
